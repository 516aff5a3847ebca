#!/usr/bin/env bash
# The tests on the oldest TensorFlow of the declared range (CI runs them
# beside the whole suite on the newest): makes or reuses .venv-oldest with the
# versions pinned in scripts/oldest-constraints.txt, then runs the fast tests
# and a short real-MNIST run of training, resume, evaluation, prediction,
# export and deep_cnn. Arguments go to pytest. See docs/tensorflow-versions.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
export MNIST_TF1_VENV="${MNIST_TF1_VENV:-$(dirname "$HERE")/.venv-oldest}"
export MNIST_TF1_CONSTRAINTS="$HERE/oldest-constraints.txt"

# In-process tests: no real training, no processes beyond a few seconds'.
FAST=(
    tests/test_packaging.py
    tests/test_tf_versions.py
    tests/test_mnist.py
    tests/test_input_data.py
    tests/test_download.py
    tests/test_summaries.py
    tests/test_confusion.py
    tests/test_networks.py::test_graph_has_the_tutorial_shapes_and_names
    tests/test_networks.py::test_dropout_is_off_unless_training_feeds_keep_prob
    tests/test_networks.py::test_three_layer_losses_match_their_formulas
    tests/test_networks.py::test_presets_apply_to_the_flags_left_alone
    tests/test_networks.py::test_flags_meaningless_to_the_network_are_refused
)
# Real MNIST, real processes: two default Mechanics 101 runs (one downloads,
# one is evaluated, predicted from and exported), a killed run resumed, and
# a short deep_cnn run (conv, pooling, dropout, Adam) restored.
REAL=(
    tests/test_train_cli.py::test_default_run_prints_the_tutorial_lines
    tests/test_train_cli.py::test_default_run_counts_every_example_and_reaches_the_published_band
    tests/test_train_cli.py::test_default_run_is_quiet_and_names_the_device
    tests/test_train_cli.py::test_default_run_downloaded_and_verified_the_data
    tests/test_train_cli.py::test_default_run_writes_checkpoints_and_events
    tests/test_resume.py::test_killed_run_resumes_from_its_last_checkpoint_to_exactly_max_steps
    tests/test_evaluate.py::test_eval_prints_what_training_printed_for_each_checkpoint
    tests/test_predict.py::test_predict_reads_real_digits_in_every_form
    tests/test_export.py::test_export_round_trip_agrees_with_the_checkpoint_on_the_test_set
    'tests/test_networks.py::test_training_lowers_the_loss_and_beats_the_floor[deep_cnn]'
    tests/test_networks.py::test_deep_cnn_prints_training_accuracy
    'tests/test_networks.py::test_checkpoint_restores_into_a_fresh_inference_graph[deep_cnn]'
)
exec "$HERE/test.sh" "$@" "${FAST[@]}" "${REAL[@]}"

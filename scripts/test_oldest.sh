#!/usr/bin/env bash
# The tests on the oldest TensorFlow of the declared range (CI runs them
# after the whole suite on the newest): makes or reuses .venv-oldest with the
# versions pinned in scripts/oldest-constraints.txt, then runs the fast tier
# and a short real-MNIST run of training, resume, evaluation, prediction,
# export and deep_cnn. Arguments go to pytest. See docs/tensorflow-versions.md.
set -euo pipefail
export MNIST_TF1_VENV="${MNIST_TF1_VENV:-$(cd "$(dirname "$0")/.." && pwd)/.venv-oldest}"
export MNIST_TF1_CONSTRAINTS="$(cd "$(dirname "$0")" && pwd)/oldest-constraints.txt"
# TensorFlow 2.15 has wheels for Python 3.9 to 3.11 only: take one of those
# when the machine has it ($PYTHON chooses), and say so when it has none.
if [ ! -x "$MNIST_TF1_VENV/bin/python" ]; then
    PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3.10 || command -v python3.9 || echo python3)}"
    version="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo none)"
    case "$version" in
        3.9|3.10|3.11) ;;
        *) echo "test_oldest.sh: TensorFlow 2.15 needs Python 3.9 to 3.11; $PYTHON is ${version/none/not a working Python}: install python3.11 or set PYTHON to one" >&2
           exit 1 ;;
    esac
    export PYTHON
fi
EXTRAS="test" source "$(dirname "$0")/_venv.sh"
cd "$REPO"

# Real MNIST, real processes: two default Mechanics 101 runs (one downloads,
# one is evaluated, predicted from and exported), a killed run resumed, a
# short deep_cnn run (conv, pooling, dropout, Adam) restored, the warning
# a command gives on an untested TensorFlow, and a TF 1.x program on tf.layers
# (Keras 2) and tf.estimator through mnist-tf1-run.
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
    tests/test_tf_versions.py::test_a_command_on_an_untested_tensorflow_warns_once_and_runs
    tests/test_estimator_programs.py::test_layers_tutorial_cnn_trains_500_steps_and_evaluates
)
"$VENV/bin/python" -m pytest "$@" -m "not slow"
exec "$VENV/bin/python" -m pytest "$@" "${REAL[@]}"

"""scripts/benchmark.py in its --smoke mode: every row, in the table and JSON.

No timing is asserted: the smoke mode is too small to measure anything, and
CI machines are too busy. Only that the benchmark runs end to end, on the real
MNIST, for every network, and reports what it measured.
"""

import json
import math
import os
import subprocess
import sys

import pytest

from mnist_tf1 import networks

# Every test here starts the programs (the slow tier; see conftest.py).
pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCHMARK = os.path.join(REPO, 'scripts', 'benchmark.py')

# The table's rows for each network (the start of each row's measure).
ROWS = (
    'own training loop, per step',
    '  against the floor doing the same evaluations',
    '  the same without its evaluations',
    '  where a step goes:',
    'bare Session.run floor, per step',
    '  the same with a batch of 1 (what a step costs',
    'tf.keras Model.fit, per step',
    '  the same with a batch of 1',
    "  against the floor's arithmetic alone",
    'loading the four files',
    'do_eval over train+validation+test',
    'whole default run',
    'whole default run, peak RSS',
    # Several steps per Session.run (issue 15), for each K measured.
    'own loop with --steps_per_run=10, per step',
    'own loop with --steps_per_run=100, per step',
    'whole default run with --steps_per_run=10, process start to exit',
    'whole default run with --steps_per_run=10, peak RSS',
    'whole default run with --steps_per_run=100, process start to exit',
    'whole default run with --steps_per_run=100, peak RSS',
)
# Summary figures each network must have, as positive numbers.
FIGURES = ('own_step_us', 'own_step_us_without_eval', 'bare_step_us',
           'own_vs_bare', 'own_vs_bare_cpu', 'load_s', 'eval_s', 'run_s',
           'run_rss_mb', 'run_vs_floor', 'bare_step_with_eval_us',
           'bare_eval_in_loop_s', 'own_vs_bare_with_eval', 'bare1_step_us')
# The same for each --steps_per_run=K measured (issue 15).
STEPS_PER_RUN = ('10', '100')
IN_GRAPH_FIGURES = ('own_step_us', 'own_vs_bare', 'own_vs_bare_cpu',
                    'own_vs_k1', 'run_s', 'run_rss_mb', 'run_vs_k1')
BREAKDOWN = {'feeding', 'evaluation', 'checkpoints', 'summaries',
             'TensorBoard extras', 'training Session.run'}
# --smoke's sizes (scripts/bench/plan.py): 20 training steps, and the first
# 500 examples of each set.
SMOKE_STEPS = 20
SMOKE_EXAMPLES = 500


def assert_counted_on_the_test_set(precision, what):
    """precision is a count of right answers over the smoke test set's
    digits, some right and some wrong (as on the real MNIST after a few
    steps; --fake_data's identical digits are all right or all wrong)."""
    right = precision * SMOKE_EXAMPLES
    assert abs(right - round(right)) < 1e-3, (what, precision)
    assert 0 < round(right) < SMOKE_EXAMPLES, (what, precision)


@pytest.fixture(scope='module')
def smoke(tmp_path_factory, mnist_data_dir):
    out = tmp_path_factory.mktemp('benchmark')
    output = out / 'bench.json'
    result = subprocess.run(
        [sys.executable, BENCHMARK, '--smoke', '--output=%s' % output,
         '--input_data_dir=%s' % mnist_data_dir],
        capture_output=True, text=True, timeout=900, cwd=str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    with open(output) as f:
        report = json.load(f)
    return result, report


def table_rows(stdout):
    """{(network, measure): [cells]} from the markdown table."""
    rows = {}
    for line in stdout.splitlines():
        if line.startswith('| ') and not line.startswith('| network'):
            cells = [c for c in line.strip('|').split(' | ')]
            rows[(cells[0].strip(), cells[1])] = cells[2:]
    return rows


def test_table_has_every_row_for_every_network(smoke):
    result, _ = smoke
    rows = table_rows(result.stdout)
    assert any(name == '(all)' and
               measure.startswith('`import mnist_tf1.fully_connected_feed`')
               for name, measure in rows)
    for network in networks.NETWORKS:
        measures = [m for (n, m) in rows if n == network]
        for row in ROWS:
            assert any(m.startswith(row) for m in measures), (network, row)
    # The header line says on what machine and that this was a smoke run.
    assert 'CPU cores' in result.stdout
    assert '--smoke' in result.stdout


def test_json_has_every_measurement(smoke):
    _, report = smoke
    assert report['smoke'] is True
    assert report['machine']['cores'] >= 1
    assert report['device']
    assert report['summary']['import_s'] > 0
    assert report['summary']['import_rss_mb'] > 0
    assert set(report['summary']['models']) == set(networks.NETWORKS)
    for network, s in report['summary']['models'].items():
        for figure in FIGURES:
            value = s[figure]
            assert isinstance(value, float) and math.isfinite(value) and \
                value > 0, (network, figure, value)
        # The loop's time, split into its parts.
        assert set(s['own_breakdown_us_per_step']) == BREAKDOWN
        # Evaluation counted every example of the (smoke-sized) sets:
        # training, validation and test.
        assert s['eval_examples'] == 3 * SMOKE_EXAMPLES, network
        # Each side trained and was evaluated on the test set.
        for side in ('own', 'bare', 'run'):
            assert_counted_on_the_test_set(s['precision'][side],
                                           (network, side))
        # tf.keras ran, for the networks the benchmark has a version of.
        if s['keras_step_us'] is not None:
            assert s['keras_vs_own'] > 0
            assert s['keras_vs_bare'] > 0
            assert s['keras1_step_us'] > 0 and s['keras_vs_arithmetic'] > 0
            assert_counted_on_the_test_set(s['precision']['keras'],
                                           (network, 'keras'))
    assert report['summary']['models']['mechanics101']['keras_step_us'] > 0
    # The fixed-cost rows trained with batches of one, the others with the
    # network's own batch size.
    for network in networks.NETWORKS:
        measured = report['raw'][0]['models'][network]
        assert measured['bare1']['batch_size'] == 1
        assert measured['bare']['batch_size'] == \
            report['summary']['models'][network]['batch_size'] > 1
        if 'step_us' in measured['keras']:
            assert measured['keras1']['batch_size'] == 1


def test_the_real_cli_ran_with_the_real_data(smoke):
    _, report = smoke
    for network in networks.NETWORKS:
        run = report['raw'][0]['models'][network]['run']
        # The whole run trained the smoke run's steps, one per Session.run,
        # and its test precision, from its printed eval line, is a count
        # over the smoke test set's real digits.
        assert run['steps'] == SMOKE_STEPS, network
        assert run['steps_per_run'] == 1, network
        assert_counted_on_the_test_set(run['test_precision'], network)
        # It imported TensorFlow and the program, and then did more: at
        # least the memory of the import alone.
        assert run['rss_mb'] >= report['summary']['import_rss_mb'], network


def test_every_network_ran_with_several_steps_per_session_run(smoke):
    _, report = smoke
    for network, s in report['summary']['models'].items():
        assert set(s['steps_per_run']) == set(STEPS_PER_RUN)
        assert s['best_steps_per_run'] in (10, 100)
        for k, figures in s['steps_per_run'].items():
            for figure in IN_GRAPH_FIGURES:
                value = figures[figure]
                assert isinstance(value, float) and math.isfinite(value) \
                    and value > 0, (network, k, figure, value)
            assert set(figures['own_breakdown_us_per_step']) == BREAKDOWN
            for side in ('own', 'run'):
                assert_counted_on_the_test_set(figures['precision'][side],
                                               (network, k, side))
        # Each measurement ran with its K: the loop in-process, the whole
        # run as the real program.
        measured = report['raw'][0]['models'][network]
        for k in STEPS_PER_RUN:
            assert measured['own' + k]['steps_per_run'] == int(k)
            assert measured['run' + k]['steps_per_run'] == int(k)
            assert_counted_on_the_test_set(
                measured['run' + k]['test_precision'], (network, k))
        assert measured['own']['steps_per_run'] == 1
        # The same seeded training whatever K (dropout's masks too: they
        # are drawn for each step): the same test precision.
        for k in STEPS_PER_RUN:
            assert s['steps_per_run'][k]['precision']['own'] == \
                s['precision']['own'], (network, k)


def test_the_estimator_row_is_measured_on_mechanics101_only(smoke):
    result, report = smoke
    rows = table_rows(result.stdout)
    estimator_rows = [(n, m) for (n, m) in rows if m.startswith('tf.estimator')]
    assert [n for n, _ in estimator_rows] == ['mechanics101']
    s = report['summary']['models']['mechanics101']['estimator']
    assert s['step_us'] > 0 and s['vs_own'] > 0 and s['vs_own_cpu'] > 0
    assert 0 < s['model_dir_mb'] < 10  # No MNIST in its graph.
    assert 0 < s['precision'] < 1  # Evaluated on real digits.
    for network in networks.NETWORKS:
        if network != 'mechanics101':
            assert report['summary']['models'][network]['estimator'] is None


def test_the_layers_row_is_measured_on_mechanics101_only(smoke):
    result, report = smoke
    rows = table_rows(result.stdout)
    assert [n for (n, m) in rows if m.startswith('tf.layers network')] == [
        'mechanics101']
    s = report['summary']['models']['mechanics101']['layers']
    assert s['step_us'] > 0 and s['variables_step_us'] > 0
    assert s['vs_variables'] > 0 and s['vs_variables_cpu'] > 0
    assert 0 < s['precision'] < 1  # Evaluated on real digits.
    assert s['rss_mb'] > 0
    for network in networks.NETWORKS:
        if network != 'mechanics101':
            assert report['summary']['models'][network]['layers'] is None

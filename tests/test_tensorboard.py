"""End to end: two short runs on the real MNIST under one parent directory,
read back through the HTTP API of a real TensorBoard server, the way a
user's browser reads them."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

import tensorflow.compat.v1 as tf

# Every test here starts the programs (the slow tier; see conftest.py).
pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEP_LINE = re.compile(r'^Step (\d+): loss = \d+\.\d\d \(\d+\.\d\d\d sec\)$')
EVAL_LINE = re.compile(
    r'^  Num examples: (\d+)  Num correct: (\d+)  Precision @ 1: (\d\.\d{4})$')
# Bounds on waiting for the server; a healthy one answers in seconds.
READY_TIMEOUT = 120
STOP_TIMEOUT = 10

MAIN = 'lr0.01'   # 1,100 steps: evaluations at 1,000 and 1,100
OTHER = 'lr0.1'   # 200 steps: one evaluation


def train(*flags):
    return subprocess.run(
        [sys.executable, '-m', 'mnist_tf1.fully_connected_feed'] +
        list(flags), capture_output=True, text=True, timeout=600)


def precisions(stdout):
    """[(train, validation, test)] precisions, one per printed evaluation."""
    values = [float(m.group(3)) for m in map(EVAL_LINE.match,
                                             stdout.splitlines()) if m]
    return [tuple(values[i:i + 3]) for i in range(0, len(values), 3)]


@pytest.fixture(scope='module')
def runs(tmp_path_factory, mnist_data_dir):
    parent = tmp_path_factory.mktemp('tensorboard') / 'logs'
    main = train('--max_steps=1100', '--summary_steps=50',
                 '--trace_steps=500', '--seed=3',
                 '--input_data_dir=%s' % mnist_data_dir,
                 '--log_dir=%s' % (parent / MAIN))
    assert main.returncode == 0, main.stderr
    other = train('--max_steps=200', '--learning_rate=0.1',
                  '--input_data_dir=%s' % mnist_data_dir,
                  '--log_dir=%s' % (parent / OTHER))
    assert other.returncode == 0, other.stderr
    return parent, main, other


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def stop(process):
    """Stops the server and anything it started, in bounded time."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)


@pytest.fixture(scope='module')
def server(runs, tmp_path_factory):
    """A real TensorBoard on a free localhost port; yields get(path)."""
    parent = runs[0]
    port = free_port()
    log = open(tmp_path_factory.mktemp('tb_log') / 'tensorboard.log', 'w+')
    # Its own session (process group), so that stop() reaches the data
    # server it may start as well.
    process = subprocess.Popen(
        [sys.executable, '-m', 'tensorboard.main', '--logdir', str(parent),
         '--port', str(port), '--host', '127.0.0.1'],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = 'http://127.0.0.1:%d' % port

    def get(path, data=None):
        request = urllib.request.Request(base + path)
        if data is not None:
            request.data = json.dumps(data).encode()
            request.add_header('Content-Type', 'application/json')
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        if response.headers.get_content_type() == 'application/json':
            return json.loads(body)
        return body

    try:
        wanted = {MAIN, MAIN + '/train', MAIN + '/validation', MAIN + '/test',
                  OTHER}
        deadline = time.time() + READY_TIMEOUT
        while True:
            assert process.poll() is None, 'tensorboard exited'
            try:
                if wanted <= set(get('/data/runs')):
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            if time.time() > deadline:
                log.seek(0)
                pytest.fail('tensorboard not ready in %ds:\n%s' %
                            (READY_TIMEOUT, log.read()[-3000:]))
            time.sleep(0.5)
        yield get
    finally:
        stop(process)
        log.close()


def eventually(check, timeout=READY_TIMEOUT):
    """Runs check() until it stops failing (the server loads data in the
    background), for at most `timeout` seconds."""
    deadline = time.time() + timeout
    while True:
        try:
            return check()
        except (AssertionError, KeyError, urllib.error.HTTPError):
            if time.time() > deadline:
                raise
            time.sleep(0.5)


def scalars(get, run, tag):
    """[(step, value)] of a scalar time series."""
    return [(step, value) for _, step, value in get(
        '/data/plugin/scalars/scalars?run=%s&tag=%s' % (run, tag))]


def decode_png(data):
    with tf.Graph().as_default(), tf.Session() as sess:
        return sess.run(tf.image.decode_png(data))


def test_summaries_leave_the_printed_lines_alone(runs):
    _, main, _ = runs
    steps = [int(m.group(1)) for m in map(STEP_LINE.match,
                                          main.stdout.splitlines()) if m]
    # --summary_steps=50 writes summaries twice as often; prints do not move.
    assert steps == list(range(0, 1100, 100))
    assert len(precisions(main.stdout)) == 2
    assert main.stderr.strip() == ''


def test_graph_has_the_tutorials_scopes_and_named_placeholders(server):
    def check():
        graph = server('/data/plugin/graphs/graph?run=%s' % MAIN).decode()
        nodes = set(re.findall(r'^\s*name: "([^"]+)"', graph, re.M))
        for name in ('images', 'labels', 'hidden1/weights', 'hidden1/Relu',
                     'hidden2/biases', 'softmax_linear/weights',
                     'xentropy_mean', 'GradientDescent', 'global_step',
                     'predictions', 'hidden1/weights/summaries/mean'):
            assert name in nodes, name
        assert any(n.startswith('xentropy/') for n in nodes)
        assert any(n.startswith('gradients/') for n in nodes)
    eventually(check)


def test_run_metadata_traces_every_trace_steps(server):
    def check():
        info = server('/data/plugin/graphs/info')[MAIN]
        assert info['run_graph']
        # --trace_steps=500: steps 499 and 999 traced, as the tutorial's 99,
        # 199.
        assert sorted(info['tags']) == ['step499', 'step999']
        assert info['tags']['step499']['profile']
        # Compute time and memory per op.
        trace = server('/data/plugin/graphs/run_metadata?run=%s&tag=step499'
                       % MAIN).decode()
        assert 'step_stats' in trace and 'all_start_micros' in trace
        assert 'hidden1/MatMul' in trace
        assert 'allocator_name' in trace
    eventually(check)
    # Off by default.
    assert OTHER not in server('/data/plugin/graphs/info') or not server(
        '/data/plugin/graphs/info')[OTHER]['tags']


def test_loss_learning_rate_and_speed_every_summary_steps(server):
    loss = eventually(lambda: _with_len(scalars(server, MAIN,
                                                'xentropy_mean'), 22))
    assert [step for step, _ in loss] == list(range(0, 1100, 50))
    assert loss[-1][1] < loss[0][1] / 2
    rate = scalars(server, MAIN, 'learning_rate')
    assert [step for step, _ in rate] == list(range(0, 1100, 50))
    assert all(value == pytest.approx(0.01) for _, value in rate)
    assert scalars(server, OTHER, 'learning_rate')[0][1] == pytest.approx(0.1)
    speed = scalars(server, MAIN, 'examples_per_sec')
    assert [step for step, _ in speed] == list(range(0, 1100, 50))
    assert all(value > 0 for _, value in speed)
    # The other run: the default rhythm of 100.
    assert [s for s, _ in scalars(server, OTHER, 'xentropy_mean')] == [0, 100]


def _with_len(series, n):
    assert len(series) == n, series
    return series


def test_precision_of_each_set_at_each_evaluation(server, runs):
    _, main, other = runs
    printed = precisions(main.stdout)
    for i, split in enumerate(('train', 'validation', 'test')):
        series = eventually(lambda: _with_len(
            scalars(server, '%s/%s' % (MAIN, split), 'precision_at_1'), 2))
        assert [step for step, _ in series] == [1000, 1100]
        for (_, value), evaluation in zip(series, printed):
            assert value == pytest.approx(evaluation[i], abs=5e-5)
        other_series = scalars(server, '%s/%s' % (OTHER, split),
                               'precision_at_1')
        assert [step for step, _ in other_series] == [200]
        assert other_series[0][1] == pytest.approx(
            precisions(other.stdout)[0][i], abs=5e-5)


def test_histograms_and_distributions_of_every_layer(server):
    tags = eventually(lambda: _has(
        server('/data/plugin/histograms/tags')[MAIN],
        'softmax_linear/pre_activations'))
    for layer in ('hidden1', 'hidden2', 'softmax_linear'):
        for var in ('weights', 'biases'):
            assert '%s/%s/summaries/histogram' % (layer, var) in tags
    for tag in ('hidden1/pre_activations', 'hidden1/activations',
                'hidden2/pre_activations', 'hidden2/activations',
                'softmax_linear/pre_activations'):
        assert tag in tags
    histograms = server('/data/plugin/histograms/histograms?run=%s&tag=%s' %
                        (MAIN, 'hidden1/weights/summaries/histogram'))
    assert [step for _, step, _ in histograms] == list(range(0, 1100, 50))
    buckets = histograms[-1][2]
    assert sum(count for _, _, count in buckets) == 784 * 128
    distributions = server(
        '/data/plugin/distributions/distributions?run=%s&tag=%s' %
        (MAIN, 'hidden2/activations'))
    assert len(distributions) == 22
    # ReLU activations: the lowest percentile is 0.
    assert distributions[-1][2][0][1] == pytest.approx(0.0)
    scalar_tags = server('/data/plugin/scalars/tags')[MAIN]
    for stat in ('mean', 'stddev', 'max', 'min'):
        assert 'hidden1/weights/summaries/%s' % stat in scalar_tags


def _has(mapping, key):
    assert key in mapping, sorted(mapping)
    return mapping


def image_at(server, run, tag, step):
    entries = server('/data/plugin/images/images?run=%s&tag=%s' % (run, tag))
    entry, = [e for e in entries if e['step'] == step]
    return decode_png(server('/data/plugin/images/individualImage?' +
                             entry['query']))


def test_images_inputs_misclassified_and_confusion_matrix(server, runs):
    _, main, _ = runs
    tags = eventually(lambda: _has(server('/data/plugin/images/tags'),
                                   MAIN + '/test'))
    assert 'input_reshape/input/image/0' in tags[MAIN]
    test_tags = tags[MAIN + '/test']
    assert 'prediction' in test_tags['misclassified']['description']
    assert 'true digit' in test_tags['confusion_matrix']['description']
    for tag in ('misclassified', 'confusion_matrix'):
        steps = [e['step'] for e in server(
            '/data/plugin/images/images?run=%s/test&tag=%s' % (MAIN, tag))]
        assert steps == [1000, 1100]
    # More than 40 of the 10,000 test digits are wrong at 88%: the first
    # 40 are shown, 10 to a row of 60 x 74 pixel tiles.
    wrong = 10000 - int(round(precisions(main.stdout)[-1][2] * 10000))
    assert wrong > 40
    misclassified = image_at(server, MAIN + '/test', 'misclassified', 1100)
    assert misclassified.shape == (4 * 74, 10 * 60, 3)
    matrix = image_at(server, MAIN + '/test', 'confusion_matrix', 1100)
    assert matrix.shape == (440, 440, 3)
    # Every diagonal cell is blue (mostly right), never red.
    for i in range(10):
        r, g, b = matrix[(i + 1) * 40 + 3, (i + 1) * 40 + 3]
        assert b > r, (i, r, g, b)
    digit = image_at(server, MAIN, 'input_reshape/input/image/0', 1050)
    assert digit.shape[:2] == (28, 28)


def test_hparams_compare_the_runs_by_flags_and_final_precision(server, runs):
    _, main, other = runs
    experiment = server('/data/plugin/hparams/experiment',
                        {'experimentName': ''})
    names = {info['name'] for info in experiment['hparamInfos']}
    assert {'learning_rate', 'max_steps', 'hidden1', 'hidden2', 'batch_size',
            'model'} <= names
    assert 'log_dir' not in names
    metrics = {(m['name']['group'], m['name']['tag'])
               for m in experiment['metricInfos']}
    assert {('train', 'precision_at_1'), ('validation', 'precision_at_1'),
            ('test', 'precision_at_1'), ('', 'xentropy_mean')} <= metrics

    def groups():
        response = server('/data/plugin/hparams/session_groups', {
            'experimentName': '',
            'allowedStatuses': ['STATUS_UNKNOWN', 'STATUS_SUCCESS',
                                'STATUS_FAILURE', 'STATUS_RUNNING'],
            'colParams': [], 'startIndex': 0, 'sliceSize': 100})
        by_run = {}
        for group in response['sessionGroups']:
            session, = group['sessions']
            by_run[session['name']] = (group['hparams'], session, {
                (v['name']['group'], v['name']['tag']): v['value']
                for v in session['metricValues']})
        assert set(by_run) == {MAIN, OTHER}
        assert len(by_run[MAIN][2]) == 4, by_run[MAIN][2]
        return by_run

    by_run = eventually(groups)
    for run, result, lr, steps in ((MAIN, main, 0.01, 1100),
                                   (OTHER, other, 0.1, 200)):
        values, session, metric_values = by_run[run]
        assert values['learning_rate'] == pytest.approx(lr)
        assert values['max_steps'] == steps
        assert values['model'] == 'mechanics101'
        assert session['status'] == 'STATUS_SUCCESS'
        final = precisions(result.stdout)[-1]
        for i, split in enumerate(('train', 'validation', 'test')):
            assert metric_values[(split, 'precision_at_1')] == pytest.approx(
                final[i], abs=5e-5)
    assert by_run[MAIN][0]['seed'] == 3


def test_projector_shows_the_last_hidden_layer_of_test_digits(server, runs):
    _, main, _ = runs
    assert MAIN in server('/data/plugin/projector/runs')
    config = server('/data/plugin/projector/info?run=%s' % MAIN)
    embedding = config['embeddings'][0]
    assert embedding['tensorName'] == 'hidden2/Relu'
    assert embedding['tensorShape'] == [1000, 32]
    assert embedding['sprite']['singleImageDim'] == [28, 28]
    name = 'hidden2/Relu'
    tensor = np.frombuffer(server(
        '/data/plugin/projector/tensor?run=%s&name=%s' % (MAIN, name)),
        dtype=np.float32).reshape(1000, 32)
    assert (tensor >= 0).all() and tensor.max() > 0  # ReLU outputs
    metadata = server('/data/plugin/projector/metadata?run=%s&name=%s' %
                      (MAIN, name)).decode().splitlines()
    assert metadata[0] == 'label\tprediction'
    assert len(metadata) == 1001
    # The first test digits of MNIST are a 7, a 2 and a 1.
    assert [line.split('\t')[0] for line in metadata[1:4]] == ['7', '2', '1']
    predictions = [line.split('\t') for line in metadata[1:]]
    right = sum(label == prediction for label, prediction in predictions)
    assert 800 < right < 1000
    sprite = decode_png(server(
        '/data/plugin/projector/sprite_image?run=%s&name=%s' % (MAIN, name)))
    assert sprite.shape[:2] == (32 * 28, 32 * 28)


def test_tensorboard_script_serves_the_runs_on_localhost(tmp_path):
    """scripts/tensorboard.sh with stand-ins for the venv's python and
    tensorboard, so that nothing is installed."""
    venv = tmp_path / 'venv'
    (venv / 'bin').mkdir(parents=True)
    python = venv / 'bin' / 'python'
    python.write_text('#!/bin/sh\necho "pip $*" >> "%s"\n' %
                      (tmp_path / 'calls'))
    board = venv / 'bin' / 'tensorboard'
    board.write_text('#!/bin/sh\necho "tensorboard $*" >> "%s"\n' %
                     (tmp_path / 'calls'))
    python.chmod(0o755)
    board.chmod(0o755)
    env = dict(os.environ, MNIST_TF1_VENV=str(venv), PORT='7007')
    script = os.path.join(REPO, 'scripts', 'tensorboard.sh')

    result = subprocess.run([script], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        'TensorBoard for /tmp/tensorflow/mnist/logs: http://localhost:7007/')
    calls = (tmp_path / 'calls').read_text().splitlines()
    assert calls[0].startswith('pip -m pip install')
    assert calls[1] == ('tensorboard --logdir /tmp/tensorflow/mnist/logs '
                        '--host localhost --port 7007')

    result = subprocess.run([script, '/some/runs', '--reload_interval=5'],
                            capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert 'http://localhost:7007/' in result.stdout
    assert (tmp_path / 'calls').read_text().splitlines()[-1] == (
        'tensorboard --logdir /some/runs --host localhost --port 7007 '
        '--reload_interval=5')


def test_tensorboard_is_declared_in_the_tested_range():
    import configparser
    import tensorboard
    from packaging.specifiers import SpecifierSet
    config = configparser.ConfigParser()
    config.read(os.path.join(REPO, 'setup.cfg'))
    spec, = [line.split('tensorboard', 1)[1] for line in
             config['options']['install_requires'].splitlines()
             if line.strip().startswith('tensorboard')]
    assert tensorboard.__version__ in SpecifierSet(spec.strip())


@pytest.mark.parametrize('flag,words', [
    ('--summary_steps=0', '--summary_steps must be a positive integer'),
    ('--trace_steps=-1', '--trace_steps must be 0 or more'),
])
def test_bad_summary_flags_are_refused_before_any_work(flag, words,
                                                       tmp_path):
    result = train(flag, '--fake_data', '--log_dir=%s' % (tmp_path / 'logs'))
    assert result.returncode != 0
    assert words in result.stderr
    assert 'Traceback' not in result.stderr
    assert not (tmp_path / 'logs').exists()

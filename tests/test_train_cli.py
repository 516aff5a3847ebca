"""End to end: the mnist-tf1-train program on the real MNIST, as a user runs it."""

import glob
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

import tensorflow.compat.v1 as tf

from mnist_tf1.summaries import event_files
import processes

# Every test here starts the programs (the slow tier; see conftest.py).
pytestmark = pytest.mark.slow

STEP_LINE = re.compile(r'^Step (\d+): loss = (\d+\.\d\d) \((\d+\.\d\d\d) sec\)$')
EVAL_LINE = re.compile(
    r'^  Num examples: (\d+)  Num correct: (\d+)  Precision @ 1: (\d\.\d{4})$')


def train(*flags, env=None, timeout=600):
    """Runs the training program in its own process, as a user would."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, '-m', 'mnist_tf1.fully_connected_feed'] + list(flags),
        capture_output=True, text=True, env=full_env, timeout=timeout)


def evals(stdout):
    """[(heading, num_examples, num_correct, precision)] in printed order."""
    lines = stdout.splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.endswith('Data Eval:'):
            m = EVAL_LINE.match(lines[i + 1])
            assert m, lines[i + 1]
            out.append((line, int(m.group(1)), int(m.group(2)),
                        float(m.group(3))))
    return out


def losses(stdout):
    return [(int(m.group(1)), m.group(2))
            for m in map(STEP_LINE.match, stdout.splitlines()) if m]


@pytest.fixture(scope='module')
def default_run(tmp_path_factory, mnist_env):
    """One default run (2,000 steps) that downloads MNIST into a fresh dir."""
    base = tmp_path_factory.mktemp('default_run')
    data_dir, log_dir = base / 'data', base / 'logs'
    result = train('--input_data_dir=%s' % data_dir, '--log_dir=%s' % log_dir)
    assert result.returncode == 0, result.stderr
    return result, data_dir, log_dir


def test_default_run_prints_the_tutorial_lines(default_run):
    result, _, _ = default_run
    lines = result.stdout.splitlines()
    steps = [int(m.group(1)) for m in map(STEP_LINE.match, lines) if m]
    assert steps == list(range(0, 2000, 100))
    headings = [h for h, _, _, _ in evals(result.stdout)]
    assert headings == ['Training Data Eval:', 'Validation Data Eval:',
                        'Test Data Eval:'] * 2
    # Every line is one of the tutorial's, or the few start-up lines.
    for line in lines:
        assert (STEP_LINE.match(line) or EVAL_LINE.match(line) or
                line.endswith('Data Eval:') or
                line.startswith(('Successfully downloaded', 'Extracting ',
                                 'Training '))), line
    # The first evaluation comes after the step 900 line, before step 1000.
    first_eval = lines.index('Training Data Eval:')
    assert lines[first_eval - 1].startswith('Step 900: ')
    assert lines[first_eval + 6].startswith('Step 1000: ')


def test_default_run_counts_every_example_and_reaches_the_published_band(
        default_run):
    result, _, _ = default_run
    results = evals(result.stdout)
    assert [n for _, n, _, _ in results] == [55000, 5000, 10000] * 2
    for _, n, correct, precision in results:
        assert precision == pytest.approx(correct / n, abs=5e-5)
    # Published: 0.8975 on test after 2,000 steps.
    final_test = results[-1][3]
    assert 0.87 <= final_test <= 0.93
    # Training lowered the loss.
    first, last = losses(result.stdout)[0], losses(result.stdout)[-1]
    assert float(last[1]) < float(first[1]) / 2


def test_default_run_is_quiet_and_names_the_device(default_run):
    result, _, _ = default_run
    assert 'Training mechanics101 on CPU' in result.stdout or \
        'Training mechanics101 on GPU' in result.stdout
    # No TensorFlow log noise, no deprecation warnings, no tracebacks.
    assert result.stderr.strip() == ''


def test_default_run_downloaded_and_verified_the_data(default_run):
    result, data_dir, _ = default_run
    assert sorted(os.listdir(data_dir)) == sorted([
        'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz',
        't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'])
    assert result.stdout.count('Successfully downloaded') == 4


def test_default_run_writes_checkpoints_and_events(default_run):
    _, _, log_dir = default_run
    assert tf.train.latest_checkpoint(str(log_dir)).endswith('model.ckpt-2000')
    assert os.path.exists(log_dir / 'model.ckpt-1000.index')
    reader = tf.train.load_checkpoint(str(log_dir / 'model.ckpt-2000'))
    shapes = reader.get_variable_to_shape_map()
    assert shapes['hidden1/weights'] == [784, 128]
    assert shapes['softmax_linear/biases'] == [10]
    assert reader.get_tensor('global_step') == 2000

    event_files = glob.glob(str(log_dir / 'events.out.tfevents.*'))
    assert len(event_files) == 1
    has_graph = False
    loss_steps = []
    for event in tf.train.summary_iterator(event_files[0]):
        has_graph |= bool(event.graph_def)
        for value in event.summary.value:
            if value.tag == 'xentropy_mean':
                loss_steps.append(event.step)
    assert has_graph
    assert loss_steps == list(range(0, 2000, 100))


def test_same_seed_gives_same_losses(mnist_data_dir, tmp_path):
    runs = [train('--seed=7', '--max_steps=500',
                  '--input_data_dir=%s' % mnist_data_dir,
                  '--log_dir=%s' % (tmp_path / str(i))) for i in range(2)]
    for r in runs:
        assert r.returncode == 0, r.stderr
    assert losses(runs[0].stdout) == losses(runs[1].stdout)
    assert len(losses(runs[0].stdout)) == 5
    other = train('--seed=8', '--max_steps=500',
                  '--input_data_dir=%s' % mnist_data_dir,
                  '--log_dir=%s' % (tmp_path / 'other'))
    assert losses(other.stdout) != losses(runs[0].stdout)


def test_fake_data_runs_without_any_download(tmp_path):
    result = train('--fake_data', '--max_steps=150',
                   '--input_data_dir=%s' % (tmp_path / 'nodata'),
                   '--log_dir=%s' % (tmp_path / 'logs'),
                   env={'MNIST_TF1_DATA_SOURCE_URL': 'file:///nonexistent/'})
    assert result.returncode == 0, result.stderr
    assert [s for s, _ in losses(result.stdout)] == [0, 100]
    assert not os.path.exists(tmp_path / 'nodata' / 'train-images-idx3-ubyte.gz')


def test_tf_verbose_brings_tensorflow_logs_back(tmp_path):
    result = train('--fake_data', '--max_steps=1', '--tf_verbose',
                   '--log_dir=%s' % tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'Traceback' not in result.stderr
    # TensorFlow's own logs, both (a default run has none: test above): its
    # C++ logging ("I0000 00:00:... port.cc:153] ..." on 2.21, "2026-...:
    # I tensorflow/core/util/port.cc:113] ..." on 2.15) and its Python
    # logger (the deprecation warnings of the tf.compat.v1 calls).
    assert re.search(r'^\S.* [\w./-]+\.cc:\d+\] ', result.stderr, re.M), \
        result.stderr
    assert re.search(r'^WARNING:tensorflow:', result.stderr, re.M), \
        result.stderr
    # The program's own output is the same as without the flag.
    assert [s for s, _ in losses(result.stdout)] == [0]


@pytest.mark.parametrize('flag,words', [
    ('--batch_size=0', '--batch_size must be a positive integer'),
    ('--max_steps=-5', '--max_steps must be a positive integer'),
    ('--hidden1=0', '--hidden1 must be a positive integer'),
    ('--learning_rate=0', '--learning_rate must be positive'),
    ('--validation_size=60000', '--validation_size must be between 0 and'),
    ('--model=nonsense', 'value should be one of'),
])
def test_bad_flags_are_refused_before_any_work(flag, words, tmp_path):
    log_dir = tmp_path / 'logs'
    result = train(flag, '--log_dir=%s' % log_dir, '--fake_data')
    assert result.returncode != 0
    assert words in result.stderr
    assert 'Traceback' not in result.stderr
    assert not log_dir.exists()


def test_unwritable_log_dir_is_refused_in_one_line(tmp_path):
    blocker = tmp_path / 'a_file'
    blocker.write_text('not a directory')
    result = train('--fake_data', '--log_dir=%s' % (blocker / 'logs'))
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    errors = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(errors) == 1 and 'cannot write to --log_dir' in errors[0]
    assert blocker.read_text() == 'not a directory'


def test_unreachable_data_source_says_how_to_fix_it(tmp_path):
    result = train('--input_data_dir=%s' % (tmp_path / 'data'),
                   '--log_dir=%s' % (tmp_path / 'logs'),
                   '--data_source_url=file:///nonexistent/mirror/')
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    errors = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(errors) == 1
    assert '--data_source_url' in errors[0]


def as_from_a_terminal():
    """Gives the child Ctrl-C's default handling, as a terminal would.

    A test suite started in the background (`pytest &`, nohup, some CI
    runners) has SIGINT ignored, and an ignored signal stays ignored across
    exec: Python would then never raise KeyboardInterrupt.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt(flags, moment):
    """Starts the training program, waits for moment() to return, then
    presses Ctrl-C.

    Returns:
      (exit status, stdout, stderr).
    """
    proc = subprocess.Popen(
        [sys.executable, '-m', 'mnist_tf1.fully_connected_feed'] + flags,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=as_from_a_terminal)
    try:
        moment()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, err


def test_ctrl_c_while_downloading_says_so_and_leaves_no_partial_file(
        tmp_path):
    data_dir = tmp_path / 'data'
    with socket.socket() as listener:
        listener.bind(('127.0.0.1', 0))
        listener.listen(1)  # Takes the request, never answers.
        listener.settimeout(300)
        held = []  # The connection stays open until the program has ended.

        def downloading():
            connection, _ = listener.accept()
            held.append(connection)
            connection.recv(4096)  # The program now waits for the file,
            assert os.listdir(data_dir)  # into a temporary one.

        try:
            status, _, err = interrupt(
                ['--input_data_dir=%s' % data_dir,
                 '--log_dir=%s' % (tmp_path / 'logs'),
                 '--data_source_url=http://127.0.0.1:%d/'
                 % listener.getsockname()[1]], downloading)
        finally:
            for connection in held:
                connection.close()
    assert status == 130
    assert 'Traceback' not in err
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].endswith(': stopped by Ctrl-C'), err
    assert os.listdir(data_dir) == []


def test_ctrl_c_at_start_up_exits_130_without_a_traceback(tmp_path):
    # One second in, TensorFlow is still importing (it takes a few); on a
    # faster machine the signal lands later, where the same must hold.
    status, out, err = interrupt(
        ['--fake_data', '--max_steps=1000000',
         '--log_dir=%s' % (tmp_path / 'logs')], lambda: time.sleep(1))
    assert status == 130, err
    assert 'Traceback' not in err
    lines = [l for l in err.splitlines() if l.strip()]
    # Stopped before the loop: one line on stderr; in it: the loop's own
    # line on stdout.
    assert (len(lines) == 1 and 'stopped by Ctrl-C' in lines[0] or
            not lines and 'Stopped by SIGINT' in out), (out, err)


def test_output_piped_into_a_reader_that_stops_ends_quietly(tmp_path):
    # `mnist-tf1-train | head -1`: the reader goes away, the next line written
    # finds the pipe broken. (Unbuffered, as on a terminal, so that the line
    # comes at once.)
    proc = subprocess.Popen(
        [sys.executable, '-m', 'mnist_tf1.fully_connected_feed', '--fake_data',
         '--max_steps=1000000', '--log_dir=%s' % (tmp_path / 'logs')],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONUNBUFFERED='1'))
    with processes.killed_at_exit(proc):
        [first] = processes.read_until(proc, '', timeout=300)
        assert first.startswith('Training mechanics101 on ')
        proc.stdout.close()
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 141, err
    assert err == ''


def test_flagfile_and_helpfull_work_as_in_absl(mnist_data_dir, tmp_path):
    flagfile = tmp_path / 'flags.txt'
    flagfile.write_text('--max_steps=200\n--hidden1=64\n--input_data_dir=%s\n'
                        '--log_dir=%s\n' % (mnist_data_dir, tmp_path / 'logs'))
    result = train('--flagfile=%s' % flagfile)
    assert result.returncode == 0, result.stderr
    assert [s for s, _ in losses(result.stdout)] == [0, 100]
    reader = tf.train.load_checkpoint(str(tmp_path / 'logs'))
    assert reader.get_variable_to_shape_map()['hidden1/weights'] == [784, 64]

    # absl prints the help and exits 1, as every absl program does.
    helpfull = train('--helpfull')
    assert 'Traceback' not in helpfull.stderr
    for flag in ('learning_rate', 'max_steps', 'hidden1', 'hidden2',
                 'batch_size', 'input_data_dir', 'log_dir', 'fake_data',
                 'seed', 'log_device_placement', 'tf_verbose',
                 'data_source_url'):
        assert re.search(r'--(\[no\])?%s: ' % flag, helpfull.stdout), flag


def test_rerun_continues_from_the_checkpoint_instead_of_overwriting(
        mnist_data_dir, tmp_path):
    common = ['--input_data_dir=%s' % mnist_data_dir,
              '--log_dir=%s' % tmp_path]
    first = train('--max_steps=200', *common)
    assert first.returncode == 0, first.stderr
    second = train('--max_steps=400', *common)
    assert second.returncode == 0, second.stderr
    assert 'model.ckpt-200 (step 200)' in second.stdout
    assert [s for s, _ in losses(second.stdout)] == [200, 300]
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith('model.ckpt-400')


def test_an_empty_validation_set_prints_its_block_but_draws_no_precision(
        mnist_data_dir, tmp_path):
    log_dir = tmp_path / 'run'
    result = train('--validation_size=0', '--max_steps=100',
                   '--input_data_dir=%s' % mnist_data_dir,
                   '--log_dir=%s' % log_dir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    at = lines.index('Validation Data Eval:')
    assert lines[at + 1] == ('  Num examples: 0  Num correct: 0  '
                             'Precision @ 1: 0.0000')

    def precision_steps(split):
        steps = []
        for path, _ in event_files.event_files(str(log_dir / split)):
            steps += event_files.summary_steps(path, 'precision_at_1')
        return steps

    # A 0.0 for no examples would read as a model that is always wrong.
    assert precision_steps('train') == [100]
    assert precision_steps('test') == [100]
    assert precision_steps('validation') == []

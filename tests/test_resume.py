"""mnist-tf1-train continuing, interrupted, killed and started afresh.

Every test runs the program in its own process on the real MNIST, as a user
would, and checks what it printed and left on disk.
"""

import os
import re
import shutil
import signal
import subprocess
import sys

import pytest

import tensorflow.compat.v1 as tf

from mnist_tf1.run_dir import recorded_flags
from mnist_tf1.summaries import event_files
from checkpoint_files import checkpoint_steps
from checkpoint_files import global_step
import processes

# Every test here starts the programs (the slow tier; see conftest.py).
pytestmark = pytest.mark.slow

STEP_LINE = re.compile(r'^Step (\d+): loss = \d+\.\d\d \(\d+\.\d\d\d sec\)$')
EVAL_LINE = re.compile(
    r'^  Num examples: (\d+)  Num correct: (\d+)  Precision @ 1: (\d\.\d{4})$')
TRAIN = [sys.executable, '-m', 'mnist_tf1.fully_connected_feed']
# The longest a running trainer may take to print the line a test waits for
# (a few hundred steps on the real MNIST, on a loaded machine).
READ_TIMEOUT = 600


def train(*flags, timeout=600):
    """Runs the training program to its end."""
    return subprocess.run(TRAIN + list(flags), capture_output=True, text=True,
                          timeout=timeout)


def start(*flags):
    """Starts the training program; its stdout can be read line by line.
    `with` it: it is killed however the test ends."""
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    return processes.killed_at_exit(subprocess.Popen(
        TRAIN + list(flags), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env))


def read_until(proc, pattern, count=1):
    """Reads proc's stdout until `count` lines have matched `pattern`; fails
    the test if they have not come within READ_TIMEOUT seconds."""
    return processes.read_until(proc, pattern, READ_TIMEOUT, count)


def kill(proc, signum=signal.SIGKILL):
    """Sends a signal and collects the rest of the output."""
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    return out, err


def printed_steps(stdout):
    return [int(m.group(1)) for m in map(STEP_LINE.match, stdout.splitlines())
            if m]


def final_precisions(stdout):
    return [float(m.group(3)) for m in map(EVAL_LINE.match, stdout.splitlines())
            if m and m.group(1) == '10000']


def loss_steps(log_dir):
    """The loss summaries' steps over every event file, in file order."""
    steps = []
    for path, depth in event_files.event_files(str(log_dir)):
        if depth == 0:
            steps += event_files.summary_steps(path, 'xentropy_mean')
    return steps


def one_error_line(result):
    assert 'Traceback' not in result.stderr
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_killed_run_resumes_from_its_last_checkpoint_to_exactly_max_steps(
        mnist_data_dir, tmp_path):
    log_dir = tmp_path / 'run'
    common = ['--input_data_dir=%s' % mnist_data_dir, '--log_dir=%s' % log_dir]
    # Its next checkpoint after the kill would be at step 2,000: 900 steps
    # away when it is killed, however fast the machine.
    with start('--max_steps=100000', *common) as proc:
        seen = read_until(proc, r'^Step 1100: ')
        kill(proc)
    assert proc.returncode == -signal.SIGKILL
    # It was killed after its step-1,000 checkpoint (evaluated right after)
    # and before the next.
    assert seen.count('Test Data Eval:') == 1
    assert checkpoint_steps(log_dir) == [1000]
    assert 1000 in loss_steps(log_dir)  # Summaries the resumed run redoes.

    resumed = train('--max_steps=2000', *common)
    assert resumed.returncode == 0, resumed.stderr
    # The one line: the killed trainer's lock is taken over (test_lock.py).
    assert re.fullmatch(r'warning: took over the lock of --log_dir %s from '
                        r'process %d on host .*, which is no longer running\n'
                        % (re.escape(str(log_dir)), proc.pid),
                        resumed.stderr), resumed.stderr
    assert 'Restored %s (step 1000).' % (log_dir / 'model.ckpt-1000') in \
        resumed.stdout.splitlines()
    assert printed_steps(resumed.stdout) == list(range(1000, 2000, 100))
    assert checkpoint_steps(log_dir) == [1000, 2000]
    assert global_step(log_dir / 'model.ckpt-2000') == 2000
    # No step twice, none backwards, across both runs' event files.
    assert loss_steps(log_dir) == list(range(0, 2000, 100))
    # The same band as an uninterrupted run (test_train_cli: 0.87-0.93).
    assert 0.87 <= final_precisions(resumed.stdout)[-1] <= 0.93


@pytest.mark.parametrize('signum,status', [(signal.SIGINT, 130),
                                           (signal.SIGTERM, 143)])
def test_ctrl_c_and_sigterm_save_the_current_step_and_exit_conventionally(
        signum, status, mnist_data_dir, tmp_path):
    log_dir = tmp_path / 'run'
    common = ['--input_data_dir=%s' % mnist_data_dir, '--log_dir=%s' % log_dir]
    with start('--max_steps=100000', *common) as proc:
        read_until(proc, r'^Step 300: ')
        out, err = kill(proc, signum)
    assert proc.returncode == status, err
    assert err == ''
    m = re.search(r'^Stopped by %s at step (\d+); saved (.*)\.$' %
                  signal.Signals(signum).name, out, re.M)
    assert m, out
    step = int(m.group(1))
    assert step > 300
    assert m.group(2) == str(log_dir / ('model.ckpt-%d' % step))
    assert checkpoint_steps(log_dir) == [step]
    assert global_step(m.group(2)) == step

    later = train('--max_steps=%d' % (step + 10), *common)
    assert later.returncode == 0, later.stderr
    assert 'Restored %s (step %d).' % (m.group(2), step) in later.stdout
    assert checkpoint_steps(log_dir) == [step, step + 10]


def test_rerun_takes_the_architecture_from_the_run_and_refuses_contradictions(
        mnist_data_dir, tmp_path):
    log_dir = tmp_path / 'run'
    common = ['--input_data_dir=%s' % mnist_data_dir, '--log_dir=%s' % log_dir]
    first = train('--max_steps=100', '--hidden1=64', '--hidden2=16', *common)
    assert first.returncode == 0, first.stderr
    recorded = recorded_flags.read(str(log_dir))
    assert recorded['hidden1'] == '64' and recorded['hidden2'] == '16'
    assert recorded['model'] == 'mechanics101'
    assert 'log_dir' not in recorded
    record_before = (log_dir / 'flags.txt').read_text()

    clash = train('--max_steps=200', '--hidden1=32', *common)
    assert clash.returncode == 1
    line = one_error_line(clash)
    assert '--hidden1=32 contradicts the run in %s' % log_dir in line
    assert '--hidden1=64' in line and '--fresh' in line
    assert checkpoint_steps(log_dir) == [100]
    assert (log_dir / 'flags.txt').read_text() == record_before

    # Left out, the layer sizes come from the run.
    resumed = train('--max_steps=200', *common)
    assert resumed.returncode == 0, resumed.stderr
    shapes = tf.train.load_checkpoint(
        str(log_dir / 'model.ckpt-200')).get_variable_to_shape_map()
    assert shapes['hidden1/weights'] == [784, 64]
    assert shapes['hidden2/weights'] == [64, 16]

    # --max_steps is a total: below the run's step is a contradiction, equal
    # to it (the recorded one, 200, when left out) leaves nothing to do.
    lower = train('--max_steps=100', *common)
    assert lower.returncode == 1
    assert 'already at step 200, past --max_steps=100' in one_error_line(lower)
    same = train(*common)
    assert same.returncode == 0, same.stderr
    assert 'Nothing to do: the run in %s is already at step 200' % log_dir \
        in same.stdout
    assert printed_steps(same.stdout) == []

    alone = train('--delete_previous', *common)
    assert alone.returncode == 1
    assert '--delete_previous only goes with --fresh' in one_error_line(alone)


def test_recorded_flags_are_an_absl_flagfile_that_reruns_the_recipe(
        mnist_data_dir, tmp_path):
    first = train('--max_steps=100', '--hidden1=40', '--learning_rate=0.05',
                  '--input_data_dir=%s' % mnist_data_dir,
                  '--log_dir=%s' % (tmp_path / 'one'))
    assert first.returncode == 0, first.stderr
    flagfile = tmp_path / 'one' / 'flags.txt'
    assert not [p for p in os.listdir(tmp_path / 'one') if p.startswith('.')]
    again = train('--flagfile=%s' % flagfile, '--log_dir=%s' % (tmp_path / 'two'))
    assert again.returncode == 0, again.stderr
    assert (tmp_path / 'two' / 'flags.txt').read_text() == flagfile.read_text()
    shapes = tf.train.load_checkpoint(
        str(tmp_path / 'two' / 'model.ckpt-100')).get_variable_to_shape_map()
    assert shapes['hidden1/weights'] == [784, 40]


def test_fresh_moves_the_earlier_run_aside_and_deletes_only_when_asked(
        mnist_data_dir, tmp_path):
    log_dir = tmp_path / 'run'
    common = ['--input_data_dir=%s' % mnist_data_dir, '--log_dir=%s' % log_dir,
              '--max_steps=100']
    assert train('--hidden1=64', *common).returncode == 0

    fresh = train('--fresh', *common)
    assert fresh.returncode == 0, fresh.stderr
    aside = tmp_path / 'run.1'
    assert 'Moved the earlier run in %s to %s.' % (log_dir, aside) in \
        fresh.stdout
    assert 'Restored' not in fresh.stdout
    assert printed_steps(fresh.stdout) == [0]
    # The earlier run is whole where it went, and still works from there.
    assert recorded_flags.read(str(aside))['hidden1'] == '64'
    assert checkpoint_steps(aside) == [100]
    assert tf.train.latest_checkpoint(str(aside)) == str(aside /
                                                          'model.ckpt-100')
    # The new run has the tutorial's architecture again.
    assert recorded_flags.read(str(log_dir))['hidden1'] == '128'

    deleted = train('--fresh', '--delete_previous', *common)
    assert deleted.returncode == 0, deleted.stderr
    assert 'Deleted the earlier run in %s.' % log_dir in deleted.stdout
    assert sorted(os.listdir(tmp_path)) == ['run', 'run.1']


def test_fresh_through_a_symbolic_link_is_refused_and_moves_nothing(
        mnist_data_dir, tmp_path):
    target = tmp_path / 'big_disk' / 'run'
    target.parent.mkdir()
    link = tmp_path / 'run'
    common = ['--input_data_dir=%s' % mnist_data_dir, '--max_steps=100']
    assert train('--log_dir=%s' % target, *common).returncode == 0
    link.symlink_to(target)
    before = sorted(os.listdir(target))

    fresh = train('--fresh', '--log_dir=%s' % link, *common)
    assert fresh.returncode == 1
    assert fresh.stderr.splitlines()[-1].endswith(
        '--log_dir %s is a symbolic link to %s; --fresh would move the link, '
        'not the run: give --log_dir=%s' % (link, target, target))
    assert 'Traceback' not in fresh.stderr
    assert os.path.islink(link) and sorted(os.listdir(target)) == before
    assert sorted(os.listdir(tmp_path)) == ['big_disk', 'run']
    # As it says: --fresh on the folder itself moves the run aside there.
    again = train('--fresh', '--log_dir=%s' % target, *common)
    assert again.returncode == 0, again.stderr
    assert sorted(os.listdir(target.parent)) == ['run', 'run.1']


def test_save_checkpoint_steps_and_max_to_keep_hold_across_a_resume(
        mnist_data_dir, tmp_path):
    log_dir = tmp_path / 'run'
    common = ['--input_data_dir=%s' % mnist_data_dir, '--log_dir=%s' % log_dir]
    first = train('--max_steps=500', '--save_checkpoint_steps=200',
                  '--max_to_keep=2', *common)
    assert first.returncode == 0, first.stderr
    # Saved (and evaluated) at 200, 400 and the last step.
    assert first.stdout.count('Test Data Eval:') == 3
    assert checkpoint_steps(log_dir) == [400, 500]
    # The resumed run keeps the recorded rhythm and counts the earlier
    # checkpoints towards --max_to_keep.
    second = train('--max_steps=900', *common)
    assert second.returncode == 0, second.stderr
    assert second.stdout.count('Test Data Eval:') == 3  # 600, 800, 900
    assert checkpoint_steps(log_dir) == [800, 900]


@pytest.fixture(scope='module')
def two_checkpoints(mnist_data_dir, tmp_path_factory):
    """A run with checkpoints at steps 100 and 200."""
    log_dir = tmp_path_factory.mktemp('two_checkpoints') / 'run'
    result = train('--max_steps=200', '--save_checkpoint_steps=100',
                   '--input_data_dir=%s' % mnist_data_dir,
                   '--log_dir=%s' % log_dir)
    assert result.returncode == 0, result.stderr
    return log_dir


def flip_bytes(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2:len(data) // 2 + 16] = b'\xa5' * 16
    path.write_bytes(bytes(data))


def truncate(path):
    path.write_bytes(path.read_bytes()[:100])


@pytest.mark.parametrize('damage,reason', [
    (lambda run: flip_bytes(run / 'model.ckpt-200.data-00000-of-00001'),
     'Checksum does not match'),
    (lambda run: truncate(run / 'model.ckpt-200.data-00000-of-00001'),
     'Read less bytes than requested'),
    (lambda run: os.remove(run / 'model.ckpt-200.index'),
     'its .index file is missing'),
], ids=['corrupted', 'truncated', 'no-index'])
def test_a_damaged_newest_checkpoint_falls_back_to_the_previous_one(
        damage, reason, two_checkpoints, tmp_path):
    log_dir = tmp_path / 'run'
    shutil.copytree(two_checkpoints, log_dir)
    damage(log_dir)
    result = train('--max_steps=300', '--log_dir=%s' % log_dir)
    assert result.returncode == 0, result.stderr
    warning = one_error_line(result)
    assert warning.startswith('warning: checkpoint %s is damaged (' %
                              (log_dir / 'model.ckpt-200'))
    assert reason in warning
    assert warning.endswith('falling back to %s' % (log_dir / 'model.ckpt-100'))
    assert 'Restored %s (step 100).' % (log_dir / 'model.ckpt-100') in \
        result.stdout
    assert printed_steps(result.stdout) == [100, 200]
    assert global_step(log_dir / 'model.ckpt-300') == 300
    assert loss_steps(log_dir) == [0, 100, 200]


def test_every_checkpoint_damaged_is_refused_not_overwritten(two_checkpoints,
                                                            tmp_path):
    log_dir = tmp_path / 'run'
    shutil.copytree(two_checkpoints, log_dir)
    for step in (100, 200):
        truncate(log_dir / ('model.ckpt-%d.data-00000-of-00001' % step))
    before = sorted(os.listdir(log_dir))
    result = train('--max_steps=300', '--log_dir=%s' % log_dir)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    assert 'no whole checkpoint in %s' % log_dir in result.stderr
    assert '--fresh' in result.stderr
    assert sorted(os.listdir(log_dir)) == before


def test_kills_in_the_middle_of_saving_leave_a_restorable_run(tmp_path):
    # A checkpoint at every step: kills land on saves and deletions
    # (--max_to_keep) as often as anywhere.
    log_dir = tmp_path / 'run'
    common = ['--fake_data', '--save_checkpoint_steps=1', '--max_to_keep=2',
              '--eval_batch_size=10000', '--max_steps=100000',
              '--log_dir=%s' % log_dir]
    restored = []
    for cycle in range(3):
        with start(*common) as proc:
            seen = read_until(proc, r'^Test Data Eval:', count=3 + 2 * cycle)
            _, err = kill(proc)
        assert 'Traceback' not in err
        m = [re.match(r'^Restored .* \(step (\d+)\)\.$', l) for l in seen]
        steps = [int(x.group(1)) for x in m if x]
        assert len(steps) == (1 if cycle else 0)
        restored += steps
    assert restored == sorted(restored) and restored[0] >= 2
    # The last kill left a run that evaluates cleanly.
    final = subprocess.run(
        [sys.executable, '-m', 'mnist_tf1.evaluate', '--log_dir=%s' % log_dir],
        capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr
    assert 'Traceback' not in final.stderr
    assert final.stdout.count('Num examples: 10000  Num correct: 10000') == 3

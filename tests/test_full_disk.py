"""A file system that fills up (or is read-only) under a run: one line naming
what could not be written where and the last complete checkpoint; nothing
written before is damaged; the run evaluates and continues once there is
room again.

The small file systems are tmpfs mounts (the tests run as root, as CI does),
each unmounted in a `finally`. The programs' runs are in the slow tier; the
writers themselves are checked in this process.
"""

import errno
import hashlib
import os
import re
import shutil
import subprocess
import sys

from absl import flags
import pytest

import mnist_tf1  # noqa: F401  (imports TensorFlow in graph mode, quietly)
import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors
from mnist_tf1.data import download
from mnist_tf1.run_dir import recorded_flags
from mnist_tf1.run_dir import write_failures
from mnist_tf1.summaries import event_files

TRAIN = [sys.executable, '-m', 'mnist_tf1.fully_connected_feed']
EVAL = [sys.executable, '-m', 'mnist_tf1.evaluate']
FAKE = ['--fake_data', '--save_checkpoint_steps=2', '--max_to_keep=0',
        '--eval_batch_size=10000']
ERROR = r'[\w.-]+: error: '


@pytest.fixture
def small_fs(tmp_path):
    """A 4 MB tmpfs at tmp_path/fs; unmounted however the test ends."""
    mount_point = tmp_path / 'fs'
    mount_point.mkdir()
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=4m', 'tmpfs',
                    str(mount_point)], check=True)
    try:
        yield mount_point
    finally:
        if subprocess.run(['umount', str(mount_point)]).returncode != 0:
            # Still busy (a process of a failed test): detach it anyway.
            subprocess.run(['umount', '-l', str(mount_point)], check=True)


def fill(folder, leave):
    """Fills folder's file system up to `leave` free bytes; the filler."""
    filler = folder / 'filler'
    stat = os.statvfs(folder)
    size = stat.f_bavail * stat.f_frsize - leave
    with open(filler, 'wb') as f:
        f.write(b'\0' * max(size, 0))
    return filler


def fill_up(folder):
    """Fills folder's file system completely."""
    filler = fill(folder, 0)
    with open(filler, 'ab', buffering=0) as f:
        try:
            while True:
                f.write(b'\0' * 4096)
        except OSError as e:
            assert e.errno == errno.ENOSPC
    return filler


def digests(log_dir):
    """{relative path: SHA-256} of every file in a run."""
    found = {}
    for root, _, names in os.walk(log_dir):
        for name in names:
            path = os.path.join(root, name)
            with open(path, 'rb') as f:
                found[os.path.relpath(path, log_dir)] = hashlib.sha256(
                    f.read()).hexdigest()
    return found


def run(command, *flags):
    return subprocess.run(command + list(flags), capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope='module')
def first_run(tmp_path_factory):
    """A run with checkpoints at steps 2 and 4 (copied onto a small_fs)."""
    log_dir = tmp_path_factory.mktemp('first') / 'run'
    first = run(TRAIN, '--max_steps=4', '--log_dir=%s' % log_dir, *FAKE)
    assert first.returncode == 0, first.stderr
    return log_dir


def copy_run(first_run, folder):
    """A copy of first_run in folder, and the digests of its files."""
    log_dir = folder / 'run'
    shutil.copytree(first_run, log_dir)
    return log_dir, digests(log_dir)


def assert_untouched(log_dir, before):
    """Every file of the first run is as it was; flags.txt, which the
    resumed run records anew (its --max_steps), is whole."""
    after = digests(log_dir)
    assert {k: after.get(k) for k in before if k != 'flags.txt'} == {
        k: v for k, v in before.items() if k != 'flags.txt'}
    assert recorded_flags.read(str(log_dir))['max_steps'] == '8'


def assert_resumes_once_there_is_room(log_dir, filler, step):
    """Space freed: the last complete checkpoint evaluates, the run goes on."""
    filler.unlink()
    evaluation = run(EVAL, '--log_dir=%s' % log_dir)
    assert evaluation.returncode == 0, evaluation.stderr
    assert 'Evaluating %s (step %d).' % (log_dir / ('model.ckpt-%d' % step),
                                         step) in evaluation.stdout
    resumed = run(TRAIN, '--max_steps=8', '--log_dir=%s' % log_dir, *FAKE)
    assert resumed.returncode == 0, resumed.stderr
    assert 'Restored %s (step %d).' % (log_dir / ('model.ckpt-%d' % step),
                                       step) in resumed.stdout
    assert (log_dir / 'model.ckpt-8.index').exists()


@pytest.mark.slow
def test_a_checkpoint_that_does_not_fit_ends_in_one_line_naming_the_last(
        first_run, small_fs):
    log_dir, before = copy_run(first_run, small_fs)
    # Room for the resumed run's lock, flags and event file, not for the
    # step-6 checkpoint (420 kB of weights).
    filler = fill(small_fs, leave=300 * 1024)

    result = run(TRAIN, '--max_steps=8', '--log_dir=%s' % log_dir, *FAKE)
    assert result.returncode == 1
    assert re.fullmatch(
        ERROR + r'could not write checkpoint model\.ckpt-6 in %s \(No space '
        r'left on device\); the last complete checkpoint is %s \(step 4\): '
        r'free some space, then run the command again\n' %
        (re.escape(str(log_dir)), re.escape(str(log_dir / 'model.ckpt-4'))),
        result.stderr), result.stderr
    # Everything the first run wrote is as it was; no lock is left.
    assert_untouched(log_dir, before)
    assert tf.train.latest_checkpoint(str(log_dir)).endswith('model.ckpt-4')
    assert not (log_dir / '.trainer.lock').exists()
    # Evaluating it while the disk is full: its summaries do not fit either.
    filler = fill_up(small_fs)
    evaluation = run(EVAL, '--log_dir=%s' % log_dir)
    assert evaluation.returncode == 1
    assert re.fullmatch(
        ERROR + r'could not write event file events\.out\.tfevents\.\S+ in '
        r'%s \(No space left on device\); the last complete checkpoint is %s '
        r'\(step 4\): free some space, then run the command again\n' %
        (re.escape(str(log_dir / 'eval' / 'train')),
         re.escape(str(log_dir / 'model.ckpt-4'))),
        evaluation.stderr), evaluation.stderr
    assert_resumes_once_there_is_room(log_dir, filler, 4)


@pytest.mark.slow
def test_an_event_file_that_does_not_fit_ends_in_one_line_naming_it(
        first_run, small_fs):
    log_dir, before = copy_run(first_run, small_fs)
    # Room for the lock and the flags, not for the graph in the new event
    # file: TensorFlow's writer drops it without a word.
    filler = fill(small_fs, leave=40 * 1024)

    result = run(TRAIN, '--max_steps=8', '--log_dir=%s' % log_dir, *FAKE)
    assert result.returncode == 1
    assert re.fullmatch(
        ERROR + r'could not write event file events\.out\.tfevents\.\S+ in '
        r'%s \(No space left on device\); the last complete checkpoint is %s '
        r'\(step 4\): free some space, then run the command again\n' %
        (re.escape(str(log_dir)), re.escape(str(log_dir / 'model.ckpt-4'))),
        result.stderr), result.stderr
    assert_untouched(log_dir, before)
    assert_resumes_once_there_is_room(log_dir, filler, 4)


def a_summary(size):
    return tf.Summary(value=[tf.Summary.Value(
        tag='x', tensor=tf.make_tensor_proto([b'x' * size]))])


@pytest.mark.parametrize('size', [100, 200 * 1024],
                         ids=['events-kept-in-a-buffer', 'large-events'])
def test_the_event_writer_says_when_the_disk_refused_its_events(
        size, small_fs, capfd):
    folder = small_fs / 'run'
    writer = event_files.FileWriter(str(folder))
    writer.add_summary(a_summary(size), 0)
    writer.flush()
    fill_up(small_fs)
    with pytest.raises(OSError) as refused:
        # TensorFlow's own writer drops these without a word (large events)
        # or dies in its thread with a traceback (a failed flush).
        for step in range(1, 1000):
            writer.add_summary(a_summary(size), step)
            writer.flush()
    assert refused.value.errno == errno.ENOSPC
    assert re.fullmatch(r'%s/events\.out\.tfevents\.\S+' %
                        re.escape(str(folder)), refused.value.filename)
    with pytest.raises(OSError):
        writer.close()
    assert capfd.readouterr().err == ''
    # What the file holds is readable, up to a partial last record.
    events, _ = event_files.read_events(refused.value.filename)
    steps = [e.step for e in events if e.HasField('summary')]
    assert steps == list(range(len(steps))) and steps[0] == 0


def some_flags():
    """Parsed flags of this package, as recorded_flags.record takes them."""
    flag_values = flags.FlagValues()
    flags.DEFINE_integer('hidden1', 64, 'Units.', flag_values=flag_values,
                         module_name='mnist_tf1.fully_connected_feed')
    flag_values(['mnist-tf1-train'])
    return flag_values


def test_flags_txt_on_a_full_disk_is_one_line_and_the_old_one_stays(small_fs):
    log_dir = small_fs / 'run'
    log_dir.mkdir()
    recorded_flags.record(str(log_dir), some_flags())
    old = (log_dir / 'flags.txt').read_bytes()
    fill_up(small_fs)
    with pytest.raises(errors.UserError) as failed:
        with write_failures.explained(str(log_dir)):
            recorded_flags.record(str(log_dir), some_flags())
    assert str(failed.value) == (
        'could not write flags.txt in %s (No space left on device); there is '
        'no complete checkpoint in %s yet: free some space, then run the '
        'command again' % (log_dir, log_dir))
    assert (log_dir / 'flags.txt').read_bytes() == old
    assert os.listdir(log_dir) == ['flags.txt']


def test_flags_txt_on_a_read_only_file_system_is_one_line(small_fs):
    log_dir = small_fs / 'run'
    log_dir.mkdir()
    subprocess.run(['mount', '-o', 'remount,ro', str(small_fs)], check=True)
    with pytest.raises(errors.UserError) as failed:
        with write_failures.explained(str(log_dir)):
            recorded_flags.record(str(log_dir), some_flags())
    assert str(failed.value).startswith(
        'could not write flags.txt in %s (Read-only file system); ' % log_dir)
    assert str(failed.value).endswith(
        'make the file system writable, then run the command again')


@pytest.mark.slow
def test_a_trainer_on_a_read_only_file_system_is_refused_at_once(small_fs):
    log_dir = small_fs / 'run'
    log_dir.mkdir()
    subprocess.run(['mount', '-o', 'remount,ro', str(small_fs)], check=True)
    result = run(TRAIN, '--log_dir=%s' % log_dir, *FAKE)
    assert result.returncode == 1
    assert re.fullmatch(ERROR + r'cannot write to --log_dir %s \(Read-only '
                        r'file system\); pick a writable directory\n' %
                        re.escape(str(log_dir)), result.stderr), result.stderr


def test_a_download_into_a_full_disk_is_one_line_and_leaves_nothing(
        small_fs, mnist_source_dir):
    data_dir = small_fs / 'data'
    data_dir.mkdir()
    filler = fill(small_fs, leave=8 * 1024)
    name = 'train-labels-idx1-ubyte.gz'  # 28 kB
    with pytest.raises(errors.UserError) as failed:
        download.maybe_download(name, str(data_dir),
                                source_url=mnist_source_dir)
    assert str(failed.value) == (
        'cannot write %s (No space left on device); nothing was left there: '
        'free some space or choose another data directory' %
        (data_dir / name))
    assert os.listdir(data_dir) == []
    filler.unlink()
    assert download.maybe_download(name, str(data_dir),
                                   source_url=mnist_source_dir)


@pytest.mark.parametrize('error,words', [
    (OSError(errno.EDQUOT, os.strerror(errno.EDQUOT), '/r/flags.txt'),
     'could not write flags.txt in /r (Disk quota exceeded); there is no '
     'complete checkpoint in /r yet: free some space or raise your quota'),
    (tf.errors.ResourceExhaustedError(
        None, None, '/r/model.ckpt-12.data-00000-of-00001.tempstate9; No '
        'space left on device'),
     'could not write checkpoint model.ckpt-12 in /r (No space left on '
     'device)'),
    (OSError(errno.EFBIG, os.strerror(errno.EFBIG),
             '/r/events.out.tfevents.1.h'),
     'could not write event file events.out.tfevents.1.h in /r (File too '
     'large)'),
])
def test_every_kind_of_refused_write_is_named(error, words):
    assert write_failures.message(error, '/r').startswith(words)


@pytest.mark.parametrize('error', [
    tf.errors.ResourceExhaustedError(None, None, 'OOM when allocating tensor'),
    OSError(errno.ENOENT, 'No such file or directory', '/r/x'),
    ValueError('No space left on device'),
])
def test_other_errors_pass_through(error):
    with pytest.raises(type(error)):
        with write_failures.explained('/r'):
            raise error

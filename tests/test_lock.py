"""One trainer per log dir: a second one is refused, a dead one's lock is
taken over, readers take no lock.

The lock itself is checked in this process (a second lock, dead owners on
this host and on another one, damaged lock files, --fresh); two trainers
racing and a trainer killed hard run as real processes (the slow tier).
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

import mnist_tf1  # noqa: F401  (imports TensorFlow in graph mode, quietly)

from mnist_tf1.cli import errors
from mnist_tf1.run_dir import checkpoints
from mnist_tf1.run_dir import lifecycle
from mnist_tf1.run_dir import lock
import processes

TRAIN = [sys.executable, '-m', 'mnist_tf1.fully_connected_feed']
EVAL = [sys.executable, '-m', 'mnist_tf1.evaluate']
SINCE = r'since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d'


def write_owner(log_dir, pid, host, age=0.0):
    """A lock file as another trainer leaves it, last touched `age` s ago."""
    os.makedirs(log_dir, exist_ok=True)
    path = lock.path(str(log_dir))
    with open(path, 'w') as f:
        f.write(json.dumps({'pid': pid, 'host': host,
                            'started': time.time() - age - 10}) + '\n')
    os.utime(path, (time.time() - age, time.time() - age))
    return path


def dead_pid():
    """The id of a process that has ended."""
    proc = subprocess.Popen(['true'])
    proc.wait()
    return proc.pid


def test_a_second_lock_is_refused_naming_the_first_and_released_cleanly(
        tmp_path):
    log_dir = str(tmp_path / 'run')
    held = lock.TrainerLock(log_dir)
    try:
        with pytest.raises(errors.UserError) as refused:
            lock.TrainerLock(log_dir)
        assert re.fullmatch(
            r'--log_dir %s is in use by another mnist-tf1-train \(process %d '
            r'on host %s, %s\); wait for it to end or give another --log_dir '
            r'\(mnist-tf1-eval, -predict and -export may read the run '
            r'meanwhile\)' % (re.escape(log_dir), os.getpid(),
                              re.escape(socket.gethostname()), SINCE),
            str(refused.value)), refused.value
    finally:
        held.release()
    # Released: no lock file, and the folder it made (empty) is gone too.
    assert not os.path.exists(log_dir)
    lock.TrainerLock(log_dir).release()


def test_a_dead_trainers_lock_on_this_host_is_taken_over_with_a_note(
        tmp_path):
    log_dir = str(tmp_path / 'run')
    pid = dead_pid()
    write_owner(log_dir, pid, socket.gethostname())
    notes = []
    held = lock.TrainerLock(log_dir, note=notes.append)
    try:
        assert len(notes) == 1
        assert re.fullmatch(
            r'took over the lock of --log_dir %s from process %d on host %s, '
            r'%s, which is no longer running' %
            (re.escape(log_dir), pid, re.escape(socket.gethostname()), SINCE),
            notes[0]), notes[0]
        assert lock.read_owner(lock.path(log_dir))['pid'] == os.getpid()
    finally:
        held.release()


def test_a_lock_naming_this_very_process_is_a_predecessors(tmp_path):
    # A container's trainer restarted with the same number (process 1) and
    # host name: the lock it finds, unheld, is its predecessor's.
    log_dir = str(tmp_path / 'run')
    write_owner(log_dir, os.getpid(), socket.gethostname(), age=1)
    notes = []
    held = lock.TrainerLock(log_dir, note=notes.append)
    try:
        assert len(notes) == 1
        assert notes[0].endswith('which is no longer running'), notes[0]
    finally:
        held.release()


def test_another_hosts_lock_holds_until_its_heartbeat_stops(tmp_path):
    log_dir = str(tmp_path / 'run')
    write_owner(log_dir, 4242, 'elsewhere', age=1)
    with pytest.raises(errors.UserError) as refused:
        lock.TrainerLock(log_dir, note=pytest.fail)
    assert 'is in use by another mnist-tf1-train (process 4242 on host ' \
        'elsewhere, since ' in str(refused.value)

    write_owner(log_dir, 4242, 'elsewhere', age=lock.STALE_SECS + 5)
    notes = []
    lock.TrainerLock(log_dir, note=notes.append).release()
    assert len(notes) == 1
    assert re.search(r'from process 4242 on host elsewhere, %s, which has not '
                     r'touched it for \d+ s$' % SINCE, notes[0]), notes[0]


@pytest.mark.parametrize('content', [b'', b'{"pid": 12, "ho',
                                     bytes(range(256))],
                         ids=['empty', 'cut-short', 'random-bytes'])
def test_a_damaged_lock_is_refused_while_fresh_and_taken_over_once_stale(
        content, tmp_path):
    log_dir = str(tmp_path / 'run')
    path = write_owner(log_dir, 1, 'x')
    with open(path, 'wb') as f:
        f.write(content)
    with pytest.raises(errors.UserError) as refused:
        lock.TrainerLock(log_dir, note=pytest.fail)
    # Fresh: however long the machine took since it was written, less than
    # what makes a lock stale.
    m = re.match(
        r'--log_dir %s may be in use by another mnist-tf1-train: its lock %s '
        r'is damaged and was touched (\d+) s ago; if no trainer runs there, '
        r'delete that file' % (re.escape(log_dir), re.escape(path)),
        str(refused.value))
    assert m, refused.value
    assert int(m.group(1)) < lock.STALE_SECS

    stale = time.time() - lock.STALE_SECS - 5
    os.utime(path, (stale, stale))
    notes = []
    lock.TrainerLock(log_dir, note=notes.append).release()
    assert len(notes) == 1
    m = re.fullmatch(r'took over the lock of --log_dir %s \(the lock was '
                     r'damaged and untouched for (\d+) s\)' %
                     re.escape(log_dir), notes[0])
    assert m, notes[0]
    assert int(m.group(1)) >= lock.STALE_SECS + 5


@pytest.mark.parametrize('delete_previous', [False, True])
def test_fresh_keeps_the_lock_on_the_log_dir_not_on_the_run_moved_aside(
        delete_previous, tmp_path):
    log_dir = str(tmp_path / 'run')
    held = lock.TrainerLock(log_dir)
    try:
        with open(os.path.join(log_dir, 'flags.txt'), 'w') as f:
            f.write('--model=softmax\n')
        what, where = lifecycle.start_fresh(log_dir, delete_previous, held)
        assert (what, where) == (('deleted', log_dir) if delete_previous else
                                 ('moved', log_dir + '.1'))
        # The new, empty log dir is locked by this process...
        assert os.listdir(log_dir) == [lock.FILENAME]
        assert lock.read_owner(lock.path(log_dir))['pid'] == os.getpid()
        with pytest.raises(errors.UserError):
            lock.TrainerLock(log_dir)
        # ... and the run moved aside carries no lock.
        if not delete_previous:
            assert os.listdir(where) == ['flags.txt']
        # A log dir holding only its lock holds no run.
        assert not lifecycle.holds_a_run(log_dir)
    finally:
        held.release()
    assert not os.path.exists(lock.path(log_dir))


def start(*flags):
    """A trainer; `with` it: it is killed however the test ends."""
    return processes.killed_at_exit(subprocess.Popen(
        TRAIN + list(flags), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=dict(os.environ, PYTHONUNBUFFERED='1')))


@pytest.mark.slow
def test_two_trainers_racing_on_one_log_dir_one_is_refused_eval_reads_on(
        tmp_path):
    log_dir = tmp_path / 'run'
    flags = ['--fake_data', '--max_steps=1000000', '--save_checkpoint_steps=50',
             '--eval_batch_size=10000', '--log_dir=%s' % log_dir]
    with start(*flags) as first, start(*flags) as second:
        procs = [first, second]
        # Whichever locks the folder first trains; the other is refused
        # before it trains, whatever their speeds: wait for the refusal.
        processes.wait_until(lambda: any(p.poll() is not None for p in procs),
                             timeout=300, what='one trainer refused')
        loser = next(p for p in procs if p.poll() is not None)
        winner = next(p for p in procs if p is not loser)
        out, err = loser.communicate(timeout=60)
        assert loser.returncode == 1
        assert re.fullmatch(
            r'[\w.-]+: error: --log_dir %s is in use by another '
            r'mnist-tf1-train \(process %d on host %s, %s\); .*\n' %
            (re.escape(str(log_dir)), winner.pid,
             re.escape(socket.gethostname()), SINCE), err), err
        assert 'Step' not in out
        assert winner.poll() is None
        # A reader takes no lock: it evaluates while the trainer trains.
        processes.read_until(winner, r'^Test Data Eval:', timeout=300)
        evaluation = subprocess.run(EVAL + ['--log_dir=%s' % log_dir],
                                    capture_output=True, text=True,
                                    timeout=300)
        assert evaluation.returncode == 0, evaluation.stderr
        assert re.search(r'^Evaluating .*model\.ckpt-\d+ \(step \d+\)\.$',
                         evaluation.stdout, re.M)
        winner.send_signal(signal.SIGTERM)
        _, err = winner.communicate(timeout=300)
        assert winner.returncode == 128 + signal.SIGTERM, err
        assert err == ''
    assert not os.path.exists(lock.path(str(log_dir)))


@pytest.mark.slow
def test_a_trainer_killed_hard_leaves_its_lock_and_the_next_one_takes_it_over(
        tmp_path):
    log_dir = tmp_path / 'run'
    flags = ['--fake_data', '--save_checkpoint_steps=20',
             '--eval_batch_size=10000', '--log_dir=%s' % log_dir]
    with start('--max_steps=1000000', *flags) as proc:
        processes.read_until(proc, r'^Test Data Eval:', timeout=300)
        processes.kill(proc)
    assert lock.read_owner(lock.path(str(log_dir)))['pid'] == proc.pid

    # A little further than it got, wherever the kill caught it.
    killed_at = checkpoints.step_of(checkpoints.latest(str(log_dir)))
    resumed = subprocess.run(TRAIN + ['--max_steps=%d' % (killed_at + 20)] +
                             flags,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert re.fullmatch(
        r'warning: took over the lock of --log_dir %s from process %d on host '
        r'%s, %s, which is no longer running\n' %
        (re.escape(str(log_dir)), proc.pid, re.escape(socket.gethostname()),
         SINCE), resumed.stderr), resumed.stderr
    assert re.search(r'^Restored .*model\.ckpt-\d+ \(step \d+\)\.$',
                     resumed.stdout, re.M)
    assert not os.path.exists(lock.path(str(log_dir)))


@pytest.mark.slow
def test_a_cluster_chief_that_cannot_start_its_server_leaves_no_lock(
        tmp_path):
    # The chief takes the lock before its server starts; a task ends through
    # os._exit, which runs no `finally`: the lock is released before it.
    log_dir = tmp_path / 'run'
    with socket.socket() as taken, socket.socket() as ps:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        ps.bind(('127.0.0.1', 0))
        ps_port = ps.getsockname()[1]
        ps.close()
        result = subprocess.run(
            TRAIN + ['--fake_data', '--log_dir=%s' % log_dir,
                     '--job_name=worker', '--task_index=0',
                     '--ps_hosts=127.0.0.1:%d' % ps_port,
                     '--worker_hosts=127.0.0.1:%d' % taken.getsockname()[1]],
            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    assert re.search(r'cannot start its server on 127\.0\.0\.1:\d+ .*; is '
                     r'the port free\?$', result.stderr.strip()), result.stderr
    assert not os.path.exists(lock.path(str(log_dir)))
    # The lock made the folder; released, it is gone again.
    assert not os.path.exists(str(log_dir))

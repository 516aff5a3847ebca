"""Shared pytest fixtures: where the real MNIST files come from, and the
session's end check that no test left anything behind.

Other fixtures may be added here by other test modules' authors.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
import urllib.request

import pytest

from mnist_tf1.cli import tf_logging
from mnist_tf1.data import download
import netns
import processes

# The tests build and run graphs as the commands do: TensorFlow imported
# quietly, in graph mode (what each command's start does; importing the
# library alone changes neither).
tf_logging.import_tensorflow(verbose=False)

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The checkout sits beside shared/mnist (see .ci/run).
_DEFAULT_SOURCE_DIR = os.path.normpath(
    os.path.join(_REPO, '..', 'shared', 'mnist'))
# Read once, at start-up: tests may change the environment variable later.
_SOURCE_FROM_ENV = os.environ.get(download.SOURCE_URL_ENV, '').strip()


def _as_dir(source):
    """A folder path from a plain path or a file:// URL."""
    if source.startswith('file://'):
        return urllib.request.url2pathname(urllib.parse.urlparse(source).path)
    return os.path.expanduser(source)


# Every process the suite starts inherits this variable (the pytest
# process's id): the session's end finds them wherever they went.
_SESSION_ENV = 'MNIST_TF1_TEST_SESSION'
# Processes just killed by a test's last `finally` may take a moment to go.
_GONE_WITHIN = 10
# The run's exit status, for pytest_unconfigure.
_EXIT_STATUS = []
# {thread: the test it was started in}.
_STARTED_IN = {}


def pytest_configure(config):
    del config  # Unused.
    os.environ[_SESSION_ENV] = str(os.getpid())


def pytest_sessionfinish(session, exitstatus):
    del session  # Unused.
    _EXIT_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """Ends pytest now, with the run's status, when a thread a test left
    (reported by nothing_left_behind) would keep it from exiting: the run
    fails instead of hanging."""
    del config  # Unused.
    if _left_threads():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS[-1] if _EXIT_STATUS else 1)


def _left_processes():
    me = os.getpid()
    pids = set(processes.descendants(me))
    pids.update(processes.with_environment(_SESSION_ENV, str(me)))
    pids.discard(me)
    return sorted(pids)


def _left_mounts(base):
    """The mount points under the folder `base`."""
    with open('/proc/self/mountinfo') as f:
        points = [line.split()[4] for line in f]
    points = [re.sub(r'\\([0-7]{3})', lambda m: chr(int(m.group(1), 8)), p)
              for p in points]
    base = os.path.realpath(base)
    return [p for p in points if p == base or p.startswith(base + os.sep)]


def _left_namespaces():
    return netns.namespaces_of(os.getpid()) if shutil.which('ip') else []


def _left_threads():
    """This process's threads that still run and would keep it from exiting
    (not daemons): a call a test abandoned, waiting forever."""
    return [t for t in threading.enumerate()
            if t is not threading.main_thread() and not t.daemon and
            t.is_alive()]


@pytest.fixture(autouse=True)
def _threads_named_after_their_test(request):
    """Notes which test each thread was started in (for the report of
    nothing_left_behind)."""
    before = set(threading.enumerate())
    yield
    for thread in set(threading.enumerate()) - before:
        _STARTED_IN.setdefault(thread, request.node.nodeid)


def _where(thread):
    """Where a thread is: its innermost frame ('file:line in function')."""
    # pylint: disable-next=protected-access
    frame = sys._current_frames().get(thread.ident)
    if frame is None:
        return 'ended'
    last = traceback.extract_stack(frame)[-1]
    return '%s:%d in %s' % (last.filename, last.lineno, last.name)


@pytest.fixture(scope='session', autouse=True)
def nothing_left_behind(tmp_path_factory):
    """Fails the run when, after the session's last test, anything a test
    started is still there: a process (a child of pytest's, or anything run
    from the suite: mnist_tf1's programs, TensorBoard, scripts), a thread of
    this process that would keep it from exiting, a network namespace
    (netns.py), a mount under the tests' temporary folders
    (test_full_disk.py's tmpfs). Removes them, then fails."""
    yield
    deadline = time.monotonic() + _GONE_WITHIN
    while ((_left_processes() or _left_threads()) and
           time.monotonic() < deadline):
        time.sleep(0.1)
    pids = _left_processes()
    threads = _left_threads()
    namespaces = _left_namespaces()
    mounts = _left_mounts(str(tmp_path_factory.getbasetemp()))
    if not (pids or threads or namespaces or mounts):
        return
    left = ['process %d: %s' % (pid, processes.command_line(pid))
            for pid in pids]
    # (A thread cannot be removed: pytest_unconfigure ends the process
    # instead of waiting for it.)
    left += ['thread %s, started in %s, at %s' % (
        t.name, _STARTED_IN.get(t, 'a fixture'), _where(t)) for t in threads]
    left += ['network namespace %s' % ns for ns in namespaces]
    left += ['mount %s' % point for point in mounts]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for ns in namespaces:
        netns.remove(ns)
    for point in reversed(mounts):
        subprocess.run(['umount', '-l', point], check=False)
    pytest.fail('the tests left behind (processes, namespaces and mounts '
                'now removed):\n  ' + '\n  '.join(left), pytrace=False)


@pytest.fixture(scope='session')
def mnist_source_dir():
    """The folder holding the four real MNIST .gz files (read-only).

    $MNIST_TF1_DATA_SOURCE_URL (a folder or file:// URL) when set, else
    ../shared/mnist beside the checkout.
    """
    folder = (_as_dir(_SOURCE_FROM_ENV) if _SOURCE_FROM_ENV
              else _DEFAULT_SOURCE_DIR)
    if all(os.path.isfile(os.path.join(folder, name))
           for name in download.FILES):
        return folder
    # Fail, not skip: the suite is about the real data and CI must not pass
    # without it.
    pytest.fail('the real MNIST files are not in %s; set %s to their folder'
                % (folder, download.SOURCE_URL_ENV))


@pytest.fixture(scope='session')
def mnist_data_dir(mnist_source_dir, tmp_path_factory):
    """A temporary folder with the four MNIST files, fetched and verified
    through download.maybe_download from mnist_source_dir."""
    data_dir = str(tmp_path_factory.mktemp('mnist_data'))
    for name in download.FILES:
        download.maybe_download(name, data_dir, source_url=mnist_source_dir)
    return data_dir


@pytest.fixture(scope='session', autouse=True)
def mnist_env(mnist_source_dir):
    """Points every program under test at the real files, so that MNIST comes
    through the project's own download code and never from the internet."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(download.SOURCE_URL_ENV, 'file://%s/' % mnist_source_dir)
        yield dict(os.environ)


@pytest.fixture(scope='session')
def trained_run(mnist_data_dir, mnist_env, tmp_path_factory):
    """One default 2,000-step Mechanics 101 run (--seed=1), shared by the
    eval, predict and export tests: (log_dir, the training's stdout).

    Read-only: a test that writes into a run (eval summaries, damage) works
    on a copy (shutil.copytree; the run's checkpoint list is relative).
    """
    log_dir = tmp_path_factory.mktemp('trained_run') / 'logs'
    result = subprocess.run(
        [sys.executable, '-m', 'mnist_tf1.fully_connected_feed', '--seed=1',
         '--input_data_dir=%s' % mnist_data_dir, '--log_dir=%s' % log_dir],
        capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    return log_dir, result.stdout


# The two tiers. A test is in the slow tier when it is marked
# @pytest.mark.slow (it starts programs, trains, or times out on purpose) or
# asks for the real MNIST files through these fixtures. The rest is the fast
# tier (fake or tiny data; as root, for test_full_disk.py's tmpfs mounts):
# `scripts/test.sh -m "not slow"` answers in under a minute; `.ci/run` runs
# it first, then the slow tier.
_REAL_MNIST_FIXTURES = frozenset(['mnist_data_dir', 'trained_run'])


def pytest_collection_modifyitems(config, items):
    del config  # Unused.
    for item in items:
        if _REAL_MNIST_FIXTURES & set(getattr(item, 'fixturenames', ())):
            item.add_marker(pytest.mark.slow)

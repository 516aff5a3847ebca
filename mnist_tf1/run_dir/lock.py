"""One trainer per log dir: the lock a training run holds on its folder.

mnist-tf1-train claims its --log_dir before it reads or writes anything
there, by creating `<log_dir>/.trainer.lock`: one line of JSON naming the
process, its host and when it started. The file appears whole or not at all
(written under a temporary name, then hard-linked into place, which fails if
the name is taken: the one atomic test-and-create that works on network file
systems too). A second trainer finds the file and is refused, in one line
naming the first. Readers (mnist-tf1-eval, -predict, -export, TensorBoard)
never look at it.

A lock whose owner died is taken over, with a note. Whether the owner lives:
  * on this host, the owner holds an flock on the file for as long as it
    runs; the kernel drops it when the process ends, however it ends;
  * on another host (a file system shared over the network), the owner
    touches the file every HEARTBEAT_SECS; a file untouched for STALE_SECS
    is a dead owner's.

--fresh renames the log dir aside with the lock file in it: relock() then
locks the new, empty folder and removes the lock that went with the old run.
"""

import errno
import fcntl
import json
import os
import socket
import tempfile
import threading
import time

from mnist_tf1.cli import errors
from mnist_tf1.platform import atomic_write

FILENAME = '.trainer.lock'
# How often the owner touches its lock, and how long a lock from another
# host may go untouched before it counts as left behind (beyond any clock
# difference between the hosts, and pauses of a busy file server).
HEARTBEAT_SECS = 5.0
STALE_SECS = 60.0
# How long to wait for another trainer's takeover to settle.
_SETTLE_SECS = 2.0
# Looks at a lock that keeps changing before giving up.
_ATTEMPTS = 100
# link() refused: a file system without hard links.
_NO_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK)


def path(log_dir):
    """The lock file of log_dir."""
    return os.path.join(log_dir, FILENAME)


def _owner_text():
    return json.dumps({'pid': os.getpid(), 'host': socket.gethostname(),
                       'started': time.time()}) + '\n'


def read_owner(lock_path):
    """The owner a lock file names, as a dict, or None if it names nobody.

    Raises:
      OSError: the file cannot be read (FileNotFoundError: it is gone).
    """
    with open(lock_path, 'rb') as f:
        data = f.read(4096)
    try:
        owner = json.loads(data.decode('utf-8'))
        pid, host = int(owner['pid']), str(owner['host'])
        started = float(owner['started'])
    except (ValueError, TypeError, KeyError, AttributeError):
        # Empty, cut short or overwritten: a damaged lock.
        return None
    if pid <= 0 or not 0 <= started < 1e11 or not host.isprintable() or (
            not host or host.split() != [host]):
        return None
    return {'pid': pid, 'host': host, 'started': started}


def describe(owner):
    """'process 123 on host vm, since 2026-01-02 03:04:05'."""
    return 'process %d on host %s, since %s' % (
        owner['pid'], owner['host'],
        time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(owner['started'])))


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # Someone else's process: alive.
    return True


def _flock(fd):
    """Takes the flock of fd if free: True, False if held, None where the
    file system has no flocks (the heartbeat alone then tells)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as e:
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        if e.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
            return None
        raise


def _same_file(fd, lock_path):
    """True while lock_path is still the file open as fd."""
    try:
        here, there = os.stat(lock_path), os.fstat(fd)
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _create(lock_path):
    """Creates the lock file whole, flocked; its fd, or None if it exists."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(lock_path),
                               prefix=FILENAME + '.')
    try:
        # Locked before it is visible: no one sees it free while we own it.
        _flock(fd)
        os.write(fd, _owner_text().encode())
        os.fsync(fd)
        os.fchmod(fd, atomic_write.usual_mode())
        os.link(tmp, lock_path)
    except FileExistsError:
        os.close(fd)
        return None
    except OSError as e:
        os.close(fd)
        if e.errno not in _NO_LINKS:
            raise
        return _create_in_place(lock_path)
    except BaseException:
        os.close(fd)
        raise
    finally:
        os.remove(tmp)
    return fd


def _create_in_place(lock_path):
    """_create() where the file system has no hard links: O_EXCL, then the
    content. (A rival that sees it empty in between is refused, as by a
    damaged lock.)"""
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL,
                     atomic_write.usual_mode())
    except FileExistsError:
        return None
    try:
        _flock(fd)
        os.write(fd, _owner_text().encode())
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.remove(lock_path)
        raise
    return fd


def _verdict(lock_path, fd):
    """Why the lock open as fd (and flocked by us) is a dead owner's.

    Returns:
      The end of the note ('from process 12 on host vm, ..., which is no
      longer running'), or None when its owner may still be alive.
    """
    owner = read_owner(lock_path)
    age = time.time() - os.fstat(fd).st_mtime
    if owner is None:
        if age < STALE_SECS:
            return None
        return '(the lock was damaged and untouched for %d s)' % age
    who = describe(owner)
    if owner['host'] == socket.gethostname():
        # Nobody holds its flock: its process has ended (or is another one
        # that got the same number, hence the age as well). Ours, it is our
        # predecessor's: a container restarted, its trainer again process 1.
        if (not _pid_alive(owner['pid']) or owner['pid'] == os.getpid() or
                age >= STALE_SECS):
            return 'from %s, which is no longer running' % who
        return None
    if age >= STALE_SECS:
        return 'from %s, which has not touched it for %d s' % (who, age)
    return None


def _refusal(log_dir, lock_path, owner, age):
    if owner is None:
        return ('--log_dir %s may be in use by another mnist-tf1-train: its '
                'lock %s is damaged and was touched %d s ago; if no trainer '
                'runs there, delete that file (left untouched for %d s, it is '
                'taken over)' % (log_dir, lock_path, age, STALE_SECS))
    return ('--log_dir %s is in use by another mnist-tf1-train (%s); wait for '
            'it to end or give another --log_dir (mnist-tf1-eval, -predict '
            'and -export may read the run meanwhile)' %
            (log_dir, describe(owner)))


def _take(log_dir, note):
    """Creates log_dir's lock, taking over a dead owner's; returns its fd.

    Raises:
      UserError: a live trainer holds it.
      OSError: it cannot be created.
    """
    lock_path = path(log_dir)
    deadline = time.time() + _SETTLE_SECS
    owner, age = None, 0.0
    for _ in range(_ATTEMPTS):
        fd = _create(lock_path)
        if fd is not None:
            return fd
        try:
            # Read-write: NFS grants an exclusive flock on such fds only.
            fd = os.open(lock_path, os.O_RDWR)
        except FileNotFoundError:
            continue  # Released meanwhile: try again.
        try:
            free = _flock(fd) is not False
            if not _same_file(fd, lock_path):
                continue  # Replaced meanwhile: look at the new one.
            reason = _verdict(lock_path, fd) if free else None
            if reason is not None:
                # Still flocked by us: a rival taking over waits on it.
                os.remove(lock_path)
                note('took over the lock of --log_dir %s %s' %
                     (log_dir, reason))
                continue
            owner = read_owner(lock_path)
            age = time.time() - os.fstat(fd).st_mtime
        except FileNotFoundError:
            continue
        finally:
            os.close(fd)
        taking_over = (not free and owner is not None and
                       owner['host'] == socket.gethostname() and
                       not _pid_alive(owner['pid']))
        if not taking_over or time.time() > deadline:
            break
        # A dead owner's lock, flocked: another trainer is taking it over
        # right now. Look again once it has.
        time.sleep(0.05)
    raise errors.UserError(_refusal(log_dir, lock_path, owner, age))


class TrainerLock(object):
    """The lock of one log dir, held from creation until release()."""

    def __init__(self, log_dir, note=errors.print_warning):
        """Claims log_dir (creating it), or refuses.

        Args:
          log_dir: the run's folder.
          note: called with one line when a dead trainer's lock is taken over.

        Raises:
          UserError: another trainer holds it, or it cannot be written.
        """
        self.log_dir = log_dir
        self._note = note
        self._created = False
        self._fd = self._claim()
        self._start_heartbeat()

    def _claim(self):
        """Creates log_dir if needed and locks it; returns the lock's fd."""
        try:
            try:
                os.makedirs(self.log_dir)
                # Removed again by release() if the run writes nothing.
                self._created = True
            except FileExistsError:
                pass  # (A trainer starting at the same moment made it too.)
            return _take(self.log_dir, self._note)
        except OSError as e:
            raise errors.UserError(
                'cannot write to --log_dir %s (%s); pick a writable '
                'directory' % (self.log_dir, e.strerror or e))

    def _start_heartbeat(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._heartbeat, args=(self._fd, self._stop),
            name='TrainerLockHeartbeat', daemon=True)
        self._thread.start()

    def _stop_heartbeat(self):
        self._stop.set()
        self._thread.join()

    def _heartbeat(self, fd, stop):
        """Touches the lock file while the trainer runs (see STALE_SECS)."""
        while not stop.wait(HEARTBEAT_SECS):
            try:
                os.utime(fd)
                if not _same_file(fd, path(self.log_dir)):
                    self._lost()
            except OSError:
                pass  # A full or vanished folder: the trainer will say so.

    def _lost(self):
        """Another trainer took the lock over (this one was paused longer
        than STALE_SECS): stop at once rather than mix two runs."""
        try:
            owner = read_owner(path(self.log_dir))
        except OSError:
            return  # Moved or deleted with the folder, not taken.
        if owner is None or owner['pid'] == os.getpid():
            return
        errors.print_error(
            'lost --log_dir %s to another mnist-tf1-train (%s) while this one '
            'was paused for over %d s; stopped without writing more there' %
            (self.log_dir, describe(owner), STALE_SECS))
        os._exit(1)  # pylint: disable=protected-access

    def relock(self, old_folder):
        """Locks log_dir afresh after the folder holding the lock moved.

        --fresh renames the earlier run (lock file and all) to old_folder,
        or deletes it (old_folder None); log_dir is then new. Its lock is
        taken before the one that went with the old run is removed.

        Raises:
          UserError: another trainer claimed the new log_dir meanwhile.
        """
        self._stop_heartbeat()
        old_fd, self._fd = self._fd, None
        try:
            self._fd = self._claim()
        finally:
            if old_folder is not None:
                _remove_if_same(old_fd, path(old_folder))
            os.close(old_fd)
        self._start_heartbeat()

    def release(self):
        """Removes the lock file and drops the flock; safe to call twice."""
        if self._fd is None:
            return
        self._stop_heartbeat()
        _remove_if_same(self._fd, path(self.log_dir))
        os.close(self._fd)
        self._fd = None
        if self._created:
            try:
                os.rmdir(self.log_dir)
            except OSError:
                pass  # The run wrote something: it stays.


def _remove_if_same(fd, lock_path):
    """Removes lock_path if it is still the file open as fd."""
    if _same_file(fd, lock_path):
        try:
            os.remove(lock_path)
        except OSError:
            pass

"""A full disk, a quota or a read-only file system under a run: one line.

Whatever a command was writing into a run when the file system refused it
(a checkpoint, an event file, flags.txt, the projector's files), the user
gets one line: what could not be written where, why, and which checkpoint
is the last complete one, which the next run continues from. Nothing already
written is touched: the project writes its own files whole or not at all
(atomic_write), tf.train.Saver renames a checkpoint into place only once it
is complete and lists it only then, and an event file cut short ends with a
partial record that readers pass over.

TensorFlow reports these failures as OSError or as an OpError whose message
ends with the system's reason ('...; No space left on device'); other errors
(a bug, a lost cluster peer) pass through untouched.
"""

import contextlib
import errno
import os
import re

import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors
from mnist_tf1.run_dir import checkpoints

# errno -> what the user can do about it.
_ADVICE = {
    errno.ENOSPC: 'free some space',
    errno.EDQUOT: 'free some space or raise your quota',
    errno.EROFS: 'make the file system writable',
    errno.EFBIG: 'lift the file size limit (ulimit -f)',
}
_STRERRORS = {os.strerror(number): number for number in _ADVICE}
_PATH = re.compile(r'(?:^|\s)(/[^\s;,\'"]+)')
_CHECKPOINT_FILE = re.compile(r'^(%s-\d+)' % re.escape(checkpoints.BASENAME))


def _tf_refusal(e):
    """(errno, reason, the line saying so) from a TensorFlow error, or None.

    The line is like '/run/model.ckpt-6.data-00000-of-00001.tempstate1; No
    space left on device', somewhere in a message that also holds where the
    op was defined and hints about memory.
    """
    for line in (getattr(e, 'message', None) or str(e)).splitlines():
        for reason, number in _STRERRORS.items():
            if reason in line:
                return number, reason, line
    return None


def refusal(e):
    """(errno, reason) when e is the file system refusing a write, else None."""
    if isinstance(e, OSError) and e.errno in _ADVICE:
        return e.errno, e.strerror or os.strerror(e.errno)
    if isinstance(e, tf.errors.OpError):
        found = _tf_refusal(e)
        return found[:2] if found else None
    return None


def _culprit(e):
    """The path of the file that could not be written, if e names one."""
    if isinstance(e, OSError):
        return os.fspath(e.filename) if e.filename else None
    m = _PATH.search(_tf_refusal(e)[2])
    return m.group(1) if m else None


def describe(path, log_dir):
    """'checkpoint model.ckpt-12 in /run', 'flags.txt in /run', ..."""
    if path is None:
        return 'a file in %s' % log_dir
    folder, name = os.path.split(path)
    m = _CHECKPOINT_FILE.match(name)
    if m:
        # Saver's temporary names too (model.ckpt-12.data-...tempstate123).
        name = 'checkpoint %s' % m.group(1)
    elif '.tfevents.' in name:
        name = 'event file %s' % name
    return '%s in %s' % (name, folder or '.')


def last_complete(log_dir):
    """'the last complete checkpoint is X (step N)', or that there is none."""
    prefix = checkpoints.latest(log_dir, warn=lambda unused_message: None)
    if prefix is None:
        return 'there is no complete checkpoint in %s yet' % log_dir
    return 'the last complete checkpoint is %s (step %d)' % (
        prefix, checkpoints.global_step(prefix))


def message(e, log_dir):
    """The one line for a write the file system refused, or None."""
    found = refusal(e)
    if found is None:
        return None
    number, reason = found
    return ('could not write %s (%s); %s: %s, then run the command again' %
            (describe(_culprit(e), log_dir), reason, last_complete(log_dir),
             _ADVICE[number]))


@contextlib.contextmanager
def explained(log_dir):
    """Turns a refused write in the block into a UserError (one line).

    Args:
      log_dir: the run's folder, whose last complete checkpoint is named.
    """
    try:
        yield
    except (OSError, tf.errors.OpError) as e:
        line = message(e, log_dir)
        if line is None:
            raise
        raise errors.UserError(line) from None

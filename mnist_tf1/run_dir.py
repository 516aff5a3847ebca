"""Starting a fresh run in a log dir that holds an earlier one.

`mnist-tf1-train --fresh` never deletes the earlier run unless asked with
`--delete_previous`: it renames the folder aside to `<log_dir>.<N>` (the
first free N), one rename, so that the earlier run stays whole and
TensorBoard pointed at the parent folder shows both runs side by side.
"""

import os
import shutil

from mnist_tf1 import errors


def holds_a_run(log_dir):
    """True when log_dir exists and is not empty."""
    try:
        return bool(os.listdir(log_dir))
    except FileNotFoundError:
        return False
    except OSError as e:
        raise errors.UserError('cannot read --log_dir %s (%s); pick another '
                               'directory' % (log_dir, e.strerror or e))


def aside_name(log_dir):
    """The first free `<log_dir>.<N>` name, N = 1, 2, ..."""
    base = os.path.normpath(os.path.abspath(log_dir))
    n = 1
    while os.path.lexists('%s.%d' % (base, n)):
        n += 1
    return '%s.%d' % (base, n)


def start_fresh(log_dir, delete_previous=False):
    """Makes log_dir empty for a new run, keeping the earlier one unless told.

    Args:
      log_dir: the run's folder.
      delete_previous: delete the earlier run instead of moving it aside.

    Returns:
      (what, where): ('moved', new path), ('deleted', log_dir), or
      (None, None) when there was no earlier run.

    Raises:
      UserError: the earlier run cannot be moved or deleted.
    """
    if not holds_a_run(log_dir):
        return None, None
    if os.path.realpath(log_dir) == os.path.realpath(os.getcwd()):
        raise errors.UserError(
            'will not move or delete the current directory %s for --fresh; '
            'give --log_dir a folder of its own' % log_dir)
    try:
        if delete_previous:
            shutil.rmtree(log_dir)
            return 'deleted', log_dir
        target = aside_name(log_dir)
        os.rename(log_dir, target)
        return 'moved', target
    except OSError as e:
        raise errors.UserError(
            'cannot %s the earlier run in %s for --fresh (%s); move it '
            'yourself or pick another --log_dir' %
            ('delete' if delete_previous else 'move', log_dir,
             e.strerror or e))

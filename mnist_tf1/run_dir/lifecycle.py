"""A log dir holds one run: continue it, or start a fresh one.

Running mnist-tf1-train again with the same --log_dir continues the run
there: the flags left out take the values the run recorded (recorded_flags.py),
and its architecture may not change.

`--fresh` starts a new run instead. It never deletes the earlier run unless
asked with `--delete_previous`: it renames the folder aside to `<log_dir>.<N>`
(the first free N), one rename, so that the earlier run stays whole (and
usable: mnist-tf1-eval --log_dir=<log_dir>.<N>) and TensorBoard pointed at the
parent folder shows both runs side by side.

Either way the trainer first locks the log dir (lock.py), so that no other
trainer continues, moves or writes the same run meanwhile.
"""

import os
import shutil

from mnist_tf1 import networks
from mnist_tf1.cli import errors
from mnist_tf1.run_dir import lock
from mnist_tf1.run_dir import recorded_flags
from mnist_tf1.summaries import event_files

_ADVICE = ('leave --%(name)s out to continue that run, or add --fresh to '
           'start a new one')


def holds_a_run(log_dir):
    """True when log_dir exists and holds more than a trainer's lock."""
    try:
        return any(not name.startswith(lock.FILENAME)
                   for name in os.listdir(log_dir))
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


def start_fresh(log_dir, delete_previous=False, trainer_lock=None):
    """Makes log_dir empty for a new run, keeping the earlier one unless told.

    Args:
      log_dir: the run's folder.
      delete_previous: delete the earlier run instead of moving it aside.
      trainer_lock: the lock.TrainerLock held on log_dir, which goes with the
        earlier run and is taken again on the new folder.

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
    if os.path.islink(log_dir):
        # Renaming it would move the link, not the run, and the new run
        # would land beside the link rather than where it points.
        raise errors.UserError(
            '--log_dir %s is a symbolic link to %s; --fresh would move the '
            'link, not the run: give --log_dir=%s' %
            (log_dir, os.path.realpath(log_dir), os.path.realpath(log_dir)))
    try:
        if delete_previous:
            shutil.rmtree(log_dir)
            what, where = 'deleted', log_dir
        else:
            what, where = 'moved', aside_name(log_dir)
            os.rename(log_dir, where)
    except OSError as e:
        raise errors.UserError(
            'cannot %s the earlier run in %s for --fresh (%s); move it '
            'yourself or pick another --log_dir' %
            ('delete' if delete_previous else 'move', log_dir,
             e.strerror or e))
    if trainer_lock is not None:
        trainer_lock.relock(where if what == 'moved' else None)
    return what, where


def start_or_continue(flag_values):
    """Claims the log dir and sets the training flags for a new run, or for
    continuing the one there.

    Args:
      flag_values: the training program's parsed FLAGS.

    Returns:
      The lock.TrainerLock held on the log dir; release() it when done.

    Raises:
      UserError: contradicting flags, another trainer on the log dir, or the
        earlier run cannot be moved.
    """
    log_dir = flag_values.log_dir
    if flag_values.delete_previous and not flag_values.fresh:
        raise errors.UserError('--delete_previous only goes with --fresh; add '
                               '--fresh to start a new run in %s' % log_dir)
    trainer_lock = lock.TrainerLock(log_dir)
    try:
        _set_flags(flag_values, trainer_lock)
    except BaseException:
        trainer_lock.release()
        raise
    return trainer_lock


def _set_flags(flag_values, trainer_lock):
    log_dir = flag_values.log_dir
    recorded = None
    if flag_values.fresh:
        what, where = start_fresh(log_dir, flag_values.delete_previous,
                                  trainer_lock)
        if what == 'moved':
            print('Moved the earlier run in %s to %s.' % (log_dir, where))
        elif what == 'deleted':
            print('Deleted the earlier run in %s.' % log_dir)
    else:
        recorded = recorded_flags.read(log_dir)
    # The model first: the network's tutorial defaults depend on it, and the
    # run's recorded values then go over those defaults.
    recorded_flags.adopt(flag_values, recorded, log_dir, names=['model'],
                         fixed=['model'], advice=_ADVICE)
    network = networks.get(flag_values.model)
    networks.apply_defaults(flag_values, network)
    recorded_flags.adopt(flag_values, recorded, log_dir,
                         fixed=['model'] + list(network.SPEC.hparams),
                         advice=_ADVICE)


def nothing_left(log_dir, step, max_steps):
    """A re-run of a run already at (or past) --max_steps.

    Returns:
      0, the exit status, after saying there is nothing to do.

    Raises:
      UserError: the run is past --max_steps (a lower target contradicts it).
    """
    if step > max_steps:
        raise errors.UserError(
            'the run in %s is already at step %d, past --max_steps=%d; give a '
            'larger --max_steps to train it further, or --fresh to start a '
            'new run' % (log_dir, step, max_steps))
    print('Nothing to do: the run in %s is already at step %d (--max_steps=%d);'
          ' give a larger --max_steps to train it further.' %
          (log_dir, step, max_steps))
    return 0


def claim_run(log_dir, flag_values, first_step):
    """Records the run's flags and drops the summaries about to be rewritten.

    The run's flags travel with it: a re-run, mnist-tf1-eval, -predict and
    -export read its architecture from the log dir. Summaries an interrupted
    run wrote past its last checkpoint are for steps about to be run again:
    dropping them keeps every step once in TensorBoard.
    """
    recorded_flags.record(log_dir, flag_values)
    event_files.drop_orphans(log_dir, first_step)

"""Finding, checking, restoring and saving a run's checkpoints.

A checkpoint is the set of files `<log_dir>/model.ckpt-<step>.{index,data-*}`
(plus `.meta`), listed in `<log_dir>/checkpoint`. tf.train.Saver writes the
data and index files to temporary names and renames them into place, and only
then rewrites the `checkpoint` list (also by rename), so a process killed
hard leaves the checkpoints it had finished complete. What can still go wrong
(a kill while a checkpoint of the same step is being replaced, a disk that
filled up, a file someone truncated) is caught here: every checkpoint is read
in full, checksums included, before it is used, and a damaged one is reported
and passed over for the previous good one.
"""

import contextlib
import os
import re

import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors

# The prefix the training loop saves under; Saver appends '-<global step>'.
BASENAME = 'model.ckpt'

_STEP_SUFFIX = re.compile(r'-(\d+)$')
_INDEX = re.compile(r'^(.*-\d+)\.index$')
_DATA = re.compile(r'^(.*-\d+)\.data-\d{5}-of-\d{5}$')


def step_of(prefix):
    """The global step in a checkpoint's name ('model.ckpt-1000' -> 1000)."""
    m = _STEP_SUFFIX.search(prefix)
    return int(m.group(1)) if m else None


def strip_suffix(path):
    """A checkpoint prefix from a path to one of its files, or the prefix."""
    for pattern in (_INDEX, _DATA):
        m = pattern.match(path)
        if m:
            return m.group(1)
    if path.endswith('.meta'):
        return path[:-len('.meta')]
    return path


def candidates(log_dir):
    """Every checkpoint in log_dir, newest (highest step) first.

    Both the checkpoints the `checkpoint` file lists and any whose files are
    on disk count, so a damaged or lost `checkpoint` file hides nothing.

    Returns:
      A list of prefixes, e.g. ['/run/model.ckpt-2000', '/run/model.ckpt-1000'].
    """
    prefixes = set()
    try:
        state = tf.train.get_checkpoint_state(log_dir)
    except (tf.errors.OpError, ValueError):
        # An unreadable list: the files on disk still say what there is.
        state = None
    if state is not None:
        # By name, in log_dir: a run that was moved (--fresh moves the earlier
        # one aside) must not pick up checkpoints where it used to be.
        for path in (list(state.all_model_checkpoint_paths) +
                     [state.model_checkpoint_path]):
            if path:
                prefixes.add(os.path.join(log_dir, os.path.basename(path)))
    try:
        names = os.listdir(log_dir)
    except OSError:
        names = []
    for name in names:
        for pattern in (_INDEX, _DATA):
            m = pattern.match(name)
            if m:
                prefixes.add(os.path.join(log_dir, m.group(1)))
    # One spelling per checkpoint, whichever way log_dir was written.
    prefixes = set(os.path.abspath(p) for p in prefixes)
    with_steps = [p for p in prefixes if step_of(p) is not None]
    return sorted(with_steps, key=lambda p: (step_of(p), p), reverse=True)


def damage(prefix):
    """Says what is wrong with a checkpoint, or None when it is whole.

    Reads every tensor, so that a truncated or corrupted data file is caught
    by its checksums here rather than half-way through a restore.
    """
    if not os.path.exists(prefix + '.index'):
        return 'its .index file is missing'
    try:
        reader = tf.train.load_checkpoint(prefix)
        for name in reader.get_variable_to_dtype_map():
            reader.get_tensor(name)
    except Exception as e:  # pylint: disable=broad-except
        # Whatever the reader trips on (DataLossError on a bad checksum,
        # IndexError on a short file, ...), the checkpoint is not usable.
        return errors.tf_reason(e)
    return None


def global_step(prefix):
    """The global_step a checkpoint holds (else the step in its name)."""
    try:
        reader = tf.train.load_checkpoint(prefix)
        if reader.has_tensor('global_step'):
            return int(reader.get_tensor('global_step'))
    except (tf.errors.OpError, ValueError, RuntimeError):
        pass
    return step_of(prefix)


def latest(log_dir, warn=errors.print_warning):
    """The newest whole checkpoint in log_dir, passing over damaged ones.

    Args:
      log_dir: the run's folder.
      warn: called with one line for each damaged checkpoint passed over.

    Returns:
      The checkpoint's prefix, or None when log_dir holds no whole one.
    """
    damaged = []
    for prefix in candidates(log_dir):
        reason = damage(prefix)
        if reason is None:
            for bad, why in damaged:
                warn('checkpoint %s is damaged (%s); falling back to %s' %
                     (bad, why, prefix))
            return prefix
        damaged.append((prefix, reason))
    for bad, why in damaged:
        warn('checkpoint %s is damaged (%s)' % (bad, why))
    return None


def resolve(log_dir, checkpoint_path=None):
    """The checkpoint a command should use: the one asked for, or the latest.

    Args:
      log_dir: the run's folder.
      checkpoint_path: a checkpoint prefix (or one of its files), or None.

    Returns:
      A checkpoint prefix.

    Raises:
      UserError: there is no (whole) checkpoint to use.
    """
    if checkpoint_path:
        prefix = strip_suffix(checkpoint_path)
        reason = damage(prefix)
        if reason is not None:
            raise errors.UserError(
                'cannot use checkpoint %s: %s; give another --checkpoint_path '
                'or leave it out for the latest good one' % (prefix, reason))
        return prefix
    prefix = latest(log_dir)
    if prefix is None and candidates(log_dir):
        raise errors.UserError(
            'no whole checkpoint in %s (see the warnings above); give '
            '--checkpoint_path of a good one or train again' % log_dir)
    if prefix is None:
        raise errors.UserError(
            'no checkpoint in %s; train one first with mnist-tf1-train '
            '--log_dir=%s, or give --log_dir of a run that has one' %
            (log_dir, log_dir))
    return prefix


def _mismatch(graph, prefix):
    """Says how the graph's variables differ from the checkpoint's, or None."""
    reader = tf.train.load_checkpoint(prefix)
    shapes = reader.get_variable_to_shape_map()
    variables = graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
    for variable in sorted(variables, key=lambda v: v.op.name):
        name = variable.op.name
        if name not in shapes:
            return 'the checkpoint has no variable %s' % name
        wanted = variable.shape.as_list()
        if shapes[name] != wanted:
            return ('%s is %s in the checkpoint but %s in this network' %
                    (name, shapes[name], wanted))
    return None


def restore(sess, saver, prefix):
    """Restores a checkpoint, explaining a network that does not fit it.

    Raises:
      UserError: the checkpoint's variables do not fit the graph's.
    """
    reason = _mismatch(sess.graph, prefix)
    if reason is None:
        try:
            saver.restore(sess, prefix)
            return
        except (tf.errors.NotFoundError,
                tf.errors.InvalidArgumentError) as e:
            reason = errors.tf_reason(e)
    raise errors.UserError(
        'cannot restore %s: it does not fit this network (%s); use the flags '
        'it was trained with, or another --log_dir' % (prefix, reason))


def restore_or_initialize(sess, saver, init, log_dir):
    """Continues from the latest whole checkpoint in log_dir, or initializes.

    Never overwrites an earlier run: re-running with the same --log_dir goes
    on from where that run stopped. The saver also takes over the earlier
    checkpoints, so that --max_to_keep counts them too.

    Returns:
      The path of the restored checkpoint, or None when starting fresh.
    """
    checkpoint = latest(log_dir)
    if checkpoint is None:
        if candidates(log_dir):
            # Starting over here would write over the run's remains.
            raise errors.UserError(
                'no whole checkpoint in %s to continue from (see the warnings '
                'above); add --fresh to start a new run (the earlier one is '
                'moved aside)' % log_dir)
        sess.run(init)
        return None
    restore(sess, saver, checkpoint)
    step = step_of(checkpoint)
    kept = sorted((p for p in candidates(log_dir)
                   if step_of(p) <= step and os.path.exists(p + '.index')),
                  key=step_of)
    # The saver deletes one old checkpoint per save: hand it no more than it
    # keeps, or the surplus would never go.
    if saver.saver_def.max_to_keep:
        kept = kept[-saver.saver_def.max_to_keep:]
    saver.recover_last_checkpoints(kept)
    return checkpoint


def save(sess, saver, log_dir, step):
    """Saves a checkpoint for `step` unless the saver just saved that one.

    Returns:
      The checkpoint's prefix.
    """
    prefix = os.path.join(log_dir, '%s-%d' % (BASENAME, step))
    last = saver.last_checkpoints[-1] if saver.last_checkpoints else None
    if last is None or os.path.abspath(last) != os.path.abspath(prefix):
        saver.save(sess, os.path.join(log_dir, BASENAME), global_step=step)
    return prefix


def global_step_dtype(log_dir):
    """The dtype of the global_step in log_dir's newest readable checkpoint.

    Returns:
      A tf.DType (int32 from a TensorFlow 1.x tutorial run, int64 from
      tf.train.get_or_create_global_step), or None when there is none.
    """
    for prefix in candidates(log_dir):
        try:
            reader = tf.train.load_checkpoint(prefix)
            dtypes = reader.get_variable_to_dtype_map()
        except (tf.errors.OpError, ValueError, RuntimeError):
            continue  # Damaged: latest() reports it when restoring.
        if 'global_step' in dtypes:
            return dtypes['global_step']
    return None


@contextlib.contextmanager
def global_step_as_saved(log_dir):
    """While open, a `global_step` variable is made with the dtype of the one
    in log_dir's checkpoints, whatever dtype the code asks for.

    A restore needs the dtypes to agree ("expected dtype int64 does not equal
    original dtype int32"), and runs differ: TensorFlow 1.x's mnist.py and
    this project's now make it int32, tf.train.get_or_create_global_step and
    this project's earlier runs int64. Open it around the graph's building,
    inside its `as_default()`; with no checkpoint in log_dir it changes
    nothing.
    """
    with global_step_as(global_step_dtype(log_dir)):
        yield


@contextlib.contextmanager
def global_step_as(dtype):
    """While open, a `global_step` variable is made with `dtype` (None:
    whatever the code asks for)."""
    if dtype is None:
        yield
        return

    def creator(next_creator, **kwargs):
        if kwargs.get('name') == 'global_step' and kwargs.get('dtype') != dtype:
            initial_value = kwargs['initial_value']
            kwargs['initial_value'] = lambda: tf.cast(
                initial_value() if callable(initial_value) else initial_value,
                dtype)
            kwargs['dtype'] = dtype
        return next_creator(**kwargs)

    with tf.variable_creator_scope(creator):
        yield

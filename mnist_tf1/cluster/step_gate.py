"""Asynchronous steps taken whole, counted exactly, up to a limit.

Each worker applies its own gradients (asynchronous SGD, the default), but
through one critical section on the parameter server that holds the global
step: a tf.CriticalSection, a mutex that TensorFlow releases whenever the
call holding it ends, however it ends. Inside it, in one call:

    if global_step < limit:
        apply the gradients; global_step += 1; answer (the step, global_step)
    else:
        answer (-1, global_step)

The gradients are on the parameter servers before the section is entered,
so nothing inside it waits for the network: a step is taken whole or not at
all, whatever happens to the worker or its link, and its answer may be lost
but never the step. The global step counts exactly the updates applied, and
no worker takes one past the limit.

With several parameter servers a step spans them: the gradients are
switched where they are (only the predicate crosses while the section is
held), and each parameter server counts its part in a mark
(update_marks.py), so that a step a cut link left applied in part can be
found and said.

`limit` is a variable next to the global step, never saved: the chief sets
it to the step of its next checkpoint (steps.py), so that a checkpoint holds
exactly the step it is named after and the other workers never run more
than one interval ahead of the last checkpoint.
"""

import contextlib

import tensorflow.compat.v1 as tf

from mnist_tf1.cluster import update_marks


class StepGate(object):
    """The gate's ops, built next to the global step.

    Attributes:
      limit: the step the gate closes at (a local variable: never saved).
      state: [global step, limit], read without entering the section.
      barrier: enters and leaves the section (returns the limit): once it
        has run, no step begun before it is still under way.
      train: the gated training op, from minimize(): [the step taken or -1,
        the global step after it].
      marks: the update_marks.UpdateMarks of the parameter servers the
        update spans, from minimize().
      check: reads the marks and sets them to the global step, in the
        section (no step under way): [global step, mark, ...]; None when
        there are no marks.
    """

    def __init__(self, global_step):
        self._global_step = global_step
        dtype = global_step.dtype.base_dtype
        with tf.device(global_step.device):
            self.limit = tf.Variable(
                tf.zeros([], dtype), trainable=False, name='step_limit',
                collections=[tf.GraphKeys.LOCAL_VARIABLES])
            self._section = tf.CriticalSection(
                name='step_gate', shared_name='mnist_tf1_step_gate')
            self._new_limit = tf.placeholder(dtype, [], name='new_step_limit')
            self._set_limit = self.limit.assign(self._new_limit).op
            self.state = tf.stack([global_step.read_value(),
                                   self.limit.read_value()])
            self.barrier = self._section.execute(self.limit.read_value)
        self.train = None
        self.marks = None
        self.check = None

    def set_limit(self, sess, limit):
        """Moves the gate: steps below `limit` may be taken."""
        sess.run(self._set_limit, {self._new_limit: limit})

    def minimize(self, optimizer, grads_and_vars):
        """The gated training op for the network's optimizer and gradients.

        Returns:
          The training op's tensor (also in self.train).
        """
        # Each gradient is copied to its variable's parameter server outside
        # the section: the section waits for the copies, never for a link.
        arrived = [(_copy(grad, var), var) for grad, var in grads_and_vars
                   if grad is not None]
        global_step = self._global_step
        dtype = global_step.dtype.base_dtype
        self.marks = update_marks.UpdateMarks(global_step,
                                              [var for _, var in arrived])

        def take_step():
            # Read under the lock (read_value() makes a new read here; the
            # variable's own snapshot would be read before the lock), and
            # copied: a read of a TF1 variable shares its buffer, which the
            # increment below would change under it.
            step = tf.raw_ops.Snapshot(input=global_step.read_value())
            allowed = tf.less(step, self.limit.read_value())
            # A refused step's gradients are dead tensors (Switch): the
            # updates they feed, and what waits on those, do not run. (Not
            # tf.cond: the optimizer's own tensors, its learning rate that
            # TensorBoard shows, would be dead too.) Switched where each
            # gradient is: only the predicate crosses to another parameter
            # server while the section is held.
            graph = tf.get_default_graph()
            before = set(graph.get_operations())
            update = optimizer.apply_gradients(
                [(_switch(grad, allowed, var.device), var)
                 for grad, var in arrived])
            counted = self.marks.count(
                [op for op in graph.get_operations() if op not in before])
            with tf.control_dependencies([update] + counted):
                increment = tf.assign_add(global_step, 1)
            with tf.control_dependencies([increment]):
                took = tf.identity(_switch(step, allowed))
            refused = tf.raw_ops.Switch(data=tf.constant(-1, dtype),
                                        pred=allowed).output_false
            taken = tf.raw_ops.Merge(inputs=[took, refused]).output
            return tf.stack([taken, step + tf.cast(allowed, dtype)])

        with tf.device(global_step.device):
            self.train = self._section.execute(take_step)
            if self.marks.marks:
                self.check = self._section.execute(
                    self.marks.read_and_align)
        return self.train


def _switch(value, pred, device=None):
    """value where pred is true; a dead tensor (nothing runs on it) if not.

    On `device` when given, else where the caller builds.
    """
    if isinstance(value, tf.IndexedSlices):
        return tf.IndexedSlices(_switch(value.values, pred, device),
                                _switch(value.indices, pred, device),
                                value.dense_shape)
    with tf.device(device) if device else contextlib.nullcontext():
        return tf.raw_ops.Switch(data=value, pred=pred).output_true


def _copy(grad, var):
    """grad, copied onto the device of var, the variable it is for."""
    with tf.device(var.device):
        if isinstance(grad, tf.IndexedSlices):
            return tf.IndexedSlices(tf.identity(grad.values),
                                    tf.identity(grad.indices),
                                    grad.dense_shape)
        return tf.identity(grad)

"""Synchronous training (--sync_replicas) that outlasts faults.

TensorFlow 1.x's tf.train.SyncReplicasOptimizer does the averaging: each
worker puts its batch's gradients in an accumulator per variable on the
parameter servers, tagged with the step it computed them at (its local
step), then takes a token from a queue; the chief's update runner takes the
average of --replicas_to_aggregate batches of the current step, applies it,
counts the global step and hands out the next step's tokens. As TensorFlow
built it, a fault ends the run: a call cannot be asked again (a batch would
count twice, a token be taken twice), and the chief's queue runner closes the
token queue when it fails, which no later task can reopen.

Here:

- A worker's batch passes a gate on the parameter server that holds the
  global step (a tf.CriticalSection, as the asynchronous step gate): the
  gate remembers, per worker, the step of the last batch it let through, and
  turns a second batch for the same step, or one for any step but the global
  step, into a stale one (step -1), which the accumulators drop. So a batch sent
  again is taken once, a worker counts only the batches an update takes, and
  each update averages exactly --replicas_to_aggregate batches, one per
  worker (when there are as many workers).
- A step that met a fault (a cut link, a restarted task) is resent as its
  batch alone, without a token (a token asked for by the lost call may
  already be taken by it); the worker then waits until the global step has
  moved on, while the gate holds its batch for it, and takes its next step
  from there.
- The chief's update runner (update_runner.py) runs the update through the
  worker's ClusterSession, whose calls wait faults out, and never closes the
  token queue; at its start or restart the chief sets the accumulators and
  the gate to the restored global step.
- The chief pauses the runner before it reads the step it saves, and waits
  for an update under way that the others' batches may end
  (update_runner.still_step), so that a checkpoint holds the step it is
  named after.
- An update that met a fault is not asked again (with several parameter
  servers it may be applied in part, its batches taken): the chief closes its
  step and says what it missed (update_runner.close_faulted_step,
  update_marks.py).
- The accumulators are emptied whenever they are set to a step: setting
  one keeps the gradients it holds, and the next update would average them.
"""

import time

import tensorflow.compat.v1 as tf
from tensorflow.python.ops import data_flow_ops

from mnist_tf1.cli import errors
from mnist_tf1.cluster import peers
from mnist_tf1.cluster import update_marks

# A resent step waits this many times --cluster_timeout for its update while
# every other worker answers, looking this often.
_PATIENCE = 4
_LOOK_EVERY_SECS = 1.0


class SyncTraining(object):
    """The synchronous optimizer's ops and the gate its batches pass.

    Attributes:
      optimizer: the tf.train.SyncReplicasOptimizer.
      local_step: this worker's local step variable (the optimizer's).
      applied: per worker, the step of its last batch the gate let through
        (a local variable on the parameter server: never saved).
      train: the training op, from minimize(): [the token (the step of this
        worker's next batch), 1 if the batch was taken, else 0].
      resent: the batch alone, without a token: [local step, taken].
      marks: the update_marks.UpdateMarks of the parameter servers an
        update spans; counted: the ops that count an update on each.
    """

    def __init__(self, cluster, optimizer):
        self._cluster = cluster
        self.optimizer = tf.train.SyncReplicasOptimizer(
            optimizer, replicas_to_aggregate=cluster.replicas_to_aggregate,
            total_num_replicas=len(cluster.worker_hosts))
        self.local_step = None
        self.applied = None
        self.train = None
        self.resent = None
        self._taken = None
        self._applies = []
        self.marks = None
        self.counted = []

    def minimize(self, loss, global_step, **kwargs):
        """The gated synchronous training op for the network's loss."""
        if global_step is None:
            raise errors.UserError(
                '--sync_replicas needs a network whose training() passes '
                'its global step to minimize()')
        kwargs.pop('name', None)
        grads = [(_arrived(grad, var), var) for grad, var in
                 self.optimizer.compute_gradients(loss, **kwargs)
                 if grad is not None]
        accumulator = data_flow_ops.ConditionalAccumulator
        apply_grad = accumulator.apply_grad

        def gated_apply_grad(accum, grad, local_step=0, name=None):
            if self._taken is None:
                self._gate(local_step, global_step, [g for g, _ in grads])
            op = apply_grad(accum, grad, local_step=self._gated_step,
                            name=name)
            self._applies.append(op)
            return op

        accumulator.apply_grad = gated_apply_grad
        graph = tf.get_default_graph()
        before = set(graph.get_operations())
        self.marks = update_marks.UpdateMarks(global_step,
                                              [var for _, var in grads])
        try:
            token_step = self.optimizer.apply_gradients(
                grads, global_step=global_step)
        finally:
            accumulator.apply_grad = apply_grad
        # The chief's update counted on each parameter server it spans.
        self.counted = self.marks.count(
            [op for op in graph.get_operations() if op not in before])
        dtype = global_step.dtype.base_dtype
        taken = tf.cast(self._taken, dtype)
        self.train = tf.stack([token_step, taken])
        with tf.control_dependencies(self._applies):
            self.resent = tf.stack([self.local_step.read_value(),
                                    tf.identity(taken)])
        return self.train

    def _gate(self, local_step, global_step, grads):
        """The gate every batch passes (see the module's doc)."""
        self.local_step = local_step
        num_workers = len(self._cluster.worker_hosts)
        task = self._cluster.task_index
        step = tf.cast(local_step.read_value(), tf.int64)
        with tf.device(global_step.device):
            self.applied = tf.Variable(
                tf.fill([num_workers], tf.constant(-1, tf.int64)),
                trainable=False, name='sync_applied',
                collections=[tf.GraphKeys.LOCAL_VARIABLES])
            section = tf.CriticalSection(name='sync_gate',
                                         shared_name='mnist_tf1_sync_gate')

            def let_through():
                last = tf.raw_ops.Snapshot(input=self.applied.read_value()[
                    task])
                now = tf.cast(global_step.read_value(), tf.int64)
                # Only a batch for the step being aggregated, and one per
                # worker: not one sent again, nor one for a step already
                # updated (the accumulators would drop it uncounted), nor the
                # chief's closing pass (step -1), nor one computed ahead of a
                # checkpoint the chief has since restored (the accumulators
                # would take it, and that worker's next batch with it).
                fresh = tf.logical_and(tf.not_equal(last, step),
                                       tf.equal(step, now))
                with tf.control_dependencies([last]):
                    mark = tf.scatter_update(self.applied, [task], [step])
                with tf.control_dependencies([mark]):
                    return (tf.where(fresh, step, tf.constant(-1, tf.int64)),
                            tf.identity(fresh))

            # Entered once the gradients are on the parameter servers:
            # nothing inside waits for the network.
            with tf.control_dependencies(grads):
                self._gated_step, self._taken = section.execute(let_through)


def _arrived(grad, var):
    """grad as a dense tensor, copied to its variable's parameter server."""
    with tf.device(var.device):
        return tf.identity(tf.convert_to_tensor(grad))


class SyncOps(object):
    """The ops a synchronous run adds besides the training op."""

    def __init__(self, cluster, training, global_step):
        sync = training.optimizer
        num_workers = len(cluster.worker_hosts)
        self.training = training
        self.global_step = global_step
        self.marks = training.marks
        self.local_step_init = sync.local_step_init_op
        with tf.device(global_step.device):
            self._new_step = tf.placeholder(tf.int64, [], name='new_step')
            self._set_step = global_step.assign(
                tf.cast(self._new_step, global_step.dtype.base_dtype)).op
        # The accumulators emptied and at the global step, the gate emptied,
        # the marks at the global step: updates start afresh from it.
        self.chief_init = tf.group(
            sync.local_step_init_op, _restarted(sync, global_step),
            training.applied.assign(
                tf.fill([num_workers], tf.constant(-1, tf.int64))),
            self.marks.align())
        # Only the tokens the workers cannot do without: with more, the
        # first worker up would take the first update's batches alone.
        self.init_tokens = sync.get_init_tokens_op(num_tokens=max(
            0, cluster.replicas_to_aggregate - num_workers))
        # A token for every worker: a step closed by the chief (below).
        self.all_tokens = sync.get_init_tokens_op(num_tokens=num_workers)
        # The chief's closing pass: its batch stale, a token to end on.
        self.closing = [training.local_step.assign(-1),
                        sync.get_init_tokens_op(num_tokens=1)]
        runner = sync.get_chief_queue_runner()
        update = tf.group(runner.enqueue_ops[0], *training.counted)
        # [the update, the global step after it]; and the step with the
        # marks, read once (update_marks.py).
        with tf.control_dependencies([update]):
            self.update = [update, tf.identity(global_step.read_value())]
        # [global step, the step of this worker's last batch through the
        # gate]: whether the update under way holds its batch. (An update
        # can end without the chief's only when it takes fewer batches than
        # there are workers, or once the chief's is in.)
        self.updates_without_chief = (
            cluster.replicas_to_aggregate < num_workers)
        with tf.device(global_step.device):
            self.own_batch = tf.stack([
                tf.cast(global_step.read_value(), tf.int64),
                training.applied.read_value()[cluster.task_index]])
        self.progress = self.marks.read()
        if self.progress is None:
            self.progress = tf.stack([tf.cast(global_step.read_value(),
                                              tf.int64)])

    def close_step(self, sess, step):
        """Counts step `step` as updated, whatever of it was applied, and
        starts the next one: every worker gets a token for it."""
        sess.run(self._set_step, {self._new_step: step + 1})
        sess.run(self.chief_init)
        sess.run(self.all_tokens)


def _restarted(sync, global_step):
    """The accumulators emptied, then set to the global step.

    Setting an accumulator's step keeps the gradients it holds, and its next
    update would average them with the new ones.
    """
    restarted = []
    for accumulator, device in sync._accumulator_list:  # pylint: disable=protected-access
        with tf.device(device):
            def take(accumulator=accumulator):
                if isinstance(accumulator,
                              data_flow_ops.SparseConditionalAccumulator):
                    taken = accumulator.take_indexed_slices_grad(1).values
                else:
                    taken = accumulator.take_grad(1)
                with tf.control_dependencies([taken]):
                    return tf.constant(True)
            emptied = tf.cond(accumulator.num_accumulated() > 0, take,
                              lambda: tf.constant(False))
            with tf.control_dependencies([emptied]):
                restarted.append(accumulator.set_global_step(global_step))
    return tf.group(*restarted)


def resender(cluster, sess, ops):
    """ClusterSession.resend for a synchronous worker (see session.py).

    A training call that met a fault is asked again as its batch alone; once
    that is through, the worker waits for the update it went into.
    """
    training = ops.training

    def resend(fetches):
        if not isinstance(fetches, list) or not fetches or \
                fetches[0] is not training.train:
            return fetches, None

        def finish(result):
            wait_for_update(cluster, sess, ops, int(result[0][0]))
            return result
        return [training.resent] + fetches[1:], finish
    return resend


def wait_for_update(cluster, sess, ops, step):
    """A worker whose step was resent: waits until the global step is no
    longer `step` (the update its batch went into), then starts from it.

    It waits only while the gate holds its batch for the global step: the
    chief may have closed the step meanwhile (update_runner.py), emptying
    the gate and, on the chief, setting its local step to the next one;
    its batch for that step is still to be sent, and no update could come
    without it.

    It waits while the other workers answer: one restarting (a supervisor
    starting it again) is waited for; one that has not answered for
    --cluster_timeout is not coming. While all answer, it waits for them
    _PATIENCE times that long.

    Raises:
      errors.UserError: a worker did not answer for --cluster_timeout, or
        no update came in _PATIENCE times that long.
    """
    started = time.time()
    missing_since = None
    while True:
        global_step, own = (int(v) for v in sess.run(ops.own_batch))
        if global_step != step or own != step:
            break
        if sess.stop_requested():
            return
        now = time.time()
        if _others_missing(cluster):
            missing_since = missing_since or now
        else:
            missing_since = None
        if ((missing_since and now - missing_since > cluster.timeout) or
                now - started > _PATIENCE * cluster.timeout):
            raise errors.UserError(late_batches(cluster))
        time.sleep(_LOOK_EVERY_SECS)
    sess.run(ops.local_step_init)


def _others_missing(cluster):
    """The other workers that do not answer a connection."""
    return [w for w in peers.unreachable('worker', cluster.worker_hosts)
            if w[0] != peers.task_name('worker', cluster.task_index)]


def late_batches(cluster):
    """The line for a synchronous step that waited --cluster_timeout for
    the other workers' batches, naming those that do not answer."""
    others = _others_missing(cluster)
    return ('%s: a synchronous step waited --cluster_timeout (%g s) for the '
            "other workers' batches%s; start them, or raise "
            '--cluster_timeout' % (
                cluster.name, cluster.timeout,
                ' (%s)' % peers.describe(others) if others else ''))

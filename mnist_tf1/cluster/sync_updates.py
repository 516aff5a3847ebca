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
  moved on, and takes its next step from there.
- The chief's update runner (UpdateRunner) runs the update through the
  worker's ClusterSession, whose calls wait faults out, and never closes the
  token queue; at its start or restart the chief sets the accumulators and
  the gate to the restored global step.
- The chief pauses the runner before it reads the step it saves, and waits
  for an update under way that the others' batches may end (still_step), so
  that a checkpoint holds the step it is named after.
- An update that met a fault is not asked again (with several parameter
  servers it may be applied in part, its batches taken): the chief closes its
  step and says what it missed (close_faulted_step, update_marks.py).
- The accumulators are emptied whenever they are set to a step: setting
  one keeps the gradients it holds, and the next update would average them.
"""

import threading
import time

import tensorflow.compat.v1 as tf
from tensorflow.python.ops import data_flow_ops

from mnist_tf1.cli import errors
from mnist_tf1.cluster import config as cluster_config
from mnist_tf1.cluster import peers
from mnist_tf1.cluster import update_marks

# Seconds the chief waits, before it saves, for an update under way that the
# other workers' batches may end.
_STILL_WITHIN_SECS = 3.0
# A resent step waits this many times --cluster_timeout for its update while
# every other worker answers, looking this often.
_PATIENCE = 4
_LOOK_EVERY_SECS = 1.0
# A runner's call waits for the workers' batches as long as they take.
_RUNNER_DEADLINE_MS = 24 * 3600 * 1000


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
        # An update can end without the chief's batch only when it takes
        # fewer batches than there are workers, or once the chief's is in:
        # [global step, the step of the chief's last batch through the gate].
        self.updates_without_chief = (
            cluster.replicas_to_aggregate < num_workers)
        with tf.device(global_step.device):
            self.chief_batch = tf.stack([
                tf.cast(global_step.read_value(), tf.int64),
                training.applied.read_value()[0]])
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


class UpdateRunner(object):
    """The chief's update runner: a thread applying the averaged batches.

    Unlike TensorFlow's QueueRunner it never closes the token queue, and its
    calls go through the ClusterSession (faults waited out). pause() stops
    it from starting another update.
    """

    def __init__(self, sess, ops, name):
        """Args:
          sess: the chief's ClusterSession.
          ops: the SyncOps.
          name: the chief's name in messages ('worker 0').
        """
        self._sess = sess
        self._ops = ops
        self._name = name
        self._options = tf.RunOptions(timeout_in_ms=_RUNNER_DEADLINE_MS)
        # The step the next update is for (None: to be read).
        self._step = None
        self._go = threading.Event()
        self._go.set()
        self._idle = threading.Event()
        self._done = False
        self.failure = None
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='sync_update_runner')
        self._thread.start()

    def _run(self):
        while not self._done:
            if not self._go.is_set():
                self._idle.set()
                self._go.wait()
                continue
            self._idle.clear()
            try:
                if self._step is None:
                    self._step = int(self._sess.run(self._ops.progress)[0])
                done = self._sess.run(self._ops.update, options=self._options,
                                      resend=self._after_fault)
                self._step = int(done[1]) if done else None
            except tf.errors.FailedPreconditionError:
                # The model is being put back (the main thread does it).
                self._step = None
                time.sleep(cluster_config.POLL_SECS)
            except Exception as e:  # pylint: disable=broad-except
                if self._done:  # The session closed under the call.
                    return
                # The workers' next steps fail for want of tokens; their
                # error says why (task.py reads this).
                self.failure = e
                self._idle.set()
                return

    def _after_fault(self, unused_fetches):
        """ClusterSession.run's resend for an update that met a fault.

        It is not asked again: it may have been applied in part, and would
        then wait forever for the batches some parameter servers have
        already taken. The global step and the marks are read instead
        (close_faulted_step).
        """
        def finish(values):
            close_faulted_step(self._sess, self._ops, self._name, values,
                               self._step)
            return None
        return self._ops.progress, finish

    def pause(self):
        """No update starts from now on; the one under way may end."""
        self._go.clear()

    def resume(self):
        self._go.set()

    def wait_idle(self, timeout):
        """Waits until, paused, no update is under way; False if that took
        longer than `timeout` seconds."""
        return self._idle.wait(timeout)

    def stop(self):
        self._done = True
        self._go.set()


def close_faulted_step(sess, ops, name, values, step):
    """Closes the step of an update that met a fault, unless it is done.

    The update may have been applied on every parameter server, on some
    (update_marks.py), or on none, its batches taken or not: whichever,
    the step is closed: counted, the accumulators emptied, every worker
    given a token for the next step. One line says what the update missed
    (none when every parameter server applied it: only its count was
    lost).

    Args:
      sess: the chief's session.
      ops: the SyncOps.
      name: the chief's name in messages ('worker 0').
      values: what ops.progress answered: [global step, mark, ...].
      step: the step the update was for.
    """
    if int(values[0]) > step:
        return  # Done: only its answer was lost.
    devices = ops.marks.devices
    applied = dict(update_marks.ahead(devices, values))
    servers = lambda which: ' and '.join(  # noqa: E731
        update_marks.server_name(d) for d in devices if which(d))
    if not applied:
        what = 'was lost: no parameter server applied it'
    elif len(applied) < len(devices):
        what = 'was applied on %s but not on %s' % (
            servers(lambda d: d in applied),
            servers(lambda d: d not in applied))
    else:
        what = None
    if what:
        print('%s: step %d\'s update %s (a link was cut while it was under '
              'way); it counts as done, and training goes on from step %d.'
              % (name.capitalize(), step, what, step + 1), flush=True)
    ops.close_step(sess, step)


def still_step(sess, ops, runner):
    """The global step, read once the runner is paused and no update under
    way can move it.

    Paused, the runner starts no update; the one under way (for the global
    step) ends once --replicas_to_aggregate workers' batches for it are in.
    While every worker's is needed and the chief's is not in, it cannot end
    before the chief trains on: the step is read at once. Otherwise the
    other workers' batches may end it, and the chief waits for the runner
    to be idle, for up to _STILL_WITHIN_SECS (a worker slower than that per
    batch could still end it during the save: docs/cluster.md).
    """
    runner.pause()
    step, chief_batch = (int(v) for v in sess.run(ops.chief_batch))
    if chief_batch == step or ops.updates_without_chief:
        runner.wait_idle(_STILL_WITHIN_SECS)
        step = int(sess.run(ops.global_step))
    return step


def wait_for_update(cluster, sess, ops, step):
    """A worker whose step was resent: waits until the global step is no
    longer `step` (the update its batch went into), then starts from it.

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
    while int(sess.run(ops.global_step)) == step:
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

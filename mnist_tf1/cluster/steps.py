"""Which steps each worker takes, and the chief's part in a run.

Asynchronous by default: each worker applies its own gradients. So that the
workers together take exactly --max_steps steps, they take step numbers from
a counter held on the first parameter server; the chief keeps the last step
for itself and takes it after all the others, so that its final checkpoint
and evaluation hold the finished model.

Synchronous with --sync_replicas: a SyncReplicasOptimizer wraps the network's
optimizer (optimizer.py), and each update of the global step averages the
gradients of --replicas_to_aggregate batches. Each worker's step is the
global step it computed its batch at. The chief ends with a closing pass
whose gradients are marked stale (so nothing changes) to save and evaluate
after the last update.
"""

import sys
import time

import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors
from mnist_tf1.cluster import config as cluster_config
from mnist_tf1.cluster import optimizer

# The last step is the chief's, once the others have taken theirs; a step a
# worker took but never finished (it was killed) would keep the chief waiting,
# so it stops waiting when the global step has not moved for this long.
_STALL_SECS = 10.0


class _RunOps(object):
    """The ops a cluster run adds to the graph besides the network's."""

    def __init__(self, cluster, global_step):
        num_workers = len(cluster.worker_hosts)
        self.uninitialized = tf.report_uninitialized_variables(
            tf.global_variables())
        optimizer.mark_used(self.uninitialized)
        if cluster.sync:
            sync = cluster.sync_optimizer
            # Only the tokens the workers cannot do without: with more, the
            # first worker up would take the first update's batches alone.
            self.init_tokens = sync.get_init_tokens_op(num_tokens=max(
                0, cluster.replicas_to_aggregate - num_workers))
            # The chief's closing pass: its gradients stale, a token to end on.
            local_step = [v for v in tf.local_variables()
                          if v.op.name.endswith('sync_rep_local_step')][0]
            self.closing = [local_step.assign(-1),
                            sync.get_init_tokens_op(num_tokens=1)]
        else:
            # The step counter: a queue that holds one number. Taking a step
            # dequeues it and enqueues the next in one run on the parameter
            # server, so no two workers ever take the same step.
            with tf.device(global_step.device):
                counter = tf.FIFOQueue(1, tf.int64, shapes=[()],
                                       shared_name='mnist_tf1_next_step',
                                       name='next_step')
                self.step = counter.dequeue()
                with tf.control_dependencies([self.step]):
                    self.take_step = [self.step, counter.enqueue(self.step + 1)]
                self.counter_size = counter.size()
                self.set_counter = counter.enqueue(global_step)


def prepare_session(cluster, sess, global_step, initialize):
    """Readies the model: initialize() here or on the chief; others wait.

    Args:
      cluster: a Cluster, or None on one machine.
      sess: the Session from create_session().
      global_step: the global step variable.
      initialize: restores the model from the last checkpoint or initializes
        it; returns what it restored (None when it initialized).

    Returns:
      What initialize() returned; None on workers other than the chief.

    Raises:
      errors.UserError: a worker waited --cluster_timeout for the chief.
    """
    if cluster is None:
        return initialize()
    cluster.ops = ops = _RunOps(cluster, global_step)
    restored = None
    if cluster.is_chief:
        if not cluster.sync:
            _hold_the_steps(sess, global_step, ops)
        restored = initialize()
    else:
        _wait_for_the_chief(cluster, sess, ops.uninitialized)
    if cluster.sync:
        sync = cluster.sync_optimizer
        if cluster.is_chief:
            sess.run(sync.chief_init_op)
            sess.run(ops.init_tokens)
            # The chief's queue runner aggregates the gradients, updates the
            # variables and hands out the tokens of the next step.
            cluster.coordinator = tf.train.Coordinator()
            sync.get_chief_queue_runner().create_threads(
                sess, coord=cluster.coordinator, daemon=True, start=True)
        else:
            sess.run(sync.local_step_init_op)
    elif cluster.is_chief:
        # Steps go on from the model's (restored) global step.
        sess.run(ops.set_counter)
    return restored


def _hold_the_steps(sess, global_step, ops):
    """A restarted chief: stops the others' steps before it restores.

    The step counter is taken off its queue, so that no worker starts a step,
    and the steps already started are let finish; else they would land on the
    restored model uncounted and the run would overshoot --max_steps.
    """
    if not sess.run(ops.counter_size):
        return  # A new run: nobody is training yet.
    sess.run(ops.step)
    step, quiet_since = sess.run(global_step), time.time()
    while time.time() - quiet_since < 1.0:
        time.sleep(0.05)
        now = sess.run(global_step)
        if now != step:
            step, quiet_since = now, time.time()


def _wait_for_the_chief(cluster, sess, uninitialized):
    deadline = time.time() + cluster.timeout
    while len(sess.run(uninitialized)):
        if time.time() > deadline:
            raise errors.UserError(
                '%s: the chief (worker 0 at %s) has not initialized the model '
                'after %g s; start it, or raise --cluster_timeout' %
                (cluster.name, cluster.worker_hosts[0], cluster.timeout))
        time.sleep(cluster_config.POLL_SECS)


def steps(cluster, sess, global_step, first_step, max_steps):
    """The steps the training loop takes, in order.

    On one machine: first_step, ..., max_steps - 1. On a cluster, the steps
    this worker takes of the global step's way to max_steps; the chief's last
    is max_steps - 1, taken when every other step is done.

    Args:
      cluster: a Cluster, or None on one machine.
      sess: the Session.
      global_step: the global step variable.
      first_step: the global step the model was restored at (0 if new).
      max_steps: the global step to stop at.

    Returns:
      An iterable of step numbers.
    """
    if cluster is None:
        return range(first_step, max_steps)
    if cluster.sync:
        return _sync_steps(cluster, sess, global_step, first_step, max_steps)
    return _async_steps(cluster, sess, global_step, first_step, max_steps)


def _async_steps(cluster, sess, global_step, first_step, max_steps):
    options = tf.RunOptions(timeout_in_ms=int(cluster.timeout * 1000))
    while True:
        try:
            step, _ = sess.run(cluster.ops.take_step, options=options)
        except tf.errors.DeadlineExceededError:
            raise errors.UserError(
                '%s: no step to take after %g s; is the chief (worker 0 at '
                '%s) running?' % (cluster.name, cluster.timeout,
                                  cluster.worker_hosts[0]))
        if step >= max_steps - 1:
            break
        cluster.batches += 1
        yield step
    if cluster.is_chief and first_step < max_steps:
        if _wait_for_the_others(sess, global_step, max_steps - 1) < max_steps:
            cluster.batches += 1
            yield max_steps - 1


def _wait_for_the_others(sess, global_step, target):
    """Waits until the global step reaches target, or stops moving."""
    step = sess.run(global_step)
    moved = time.time()
    while step < target:
        time.sleep(0.02)
        now = sess.run(global_step)
        if now != step:
            step, moved = now, time.time()
        elif time.time() - moved > _STALL_SECS:
            print('The global step stopped at %d, short of %d: a worker '
                  'stopped in the middle of a step.' % (step, target))
            break
    return step


def _sync_steps(cluster, sess, global_step, first_step, max_steps):
    while True:
        step = sess.run(global_step)
        if step >= max_steps:
            break
        cluster.batches += 1
        if cluster.is_chief and step == max_steps - 1:
            # max_steps - 1 is the closing pass's, below.
            step = max(max_steps - 2, 0)
        yield step
    if cluster.is_chief and first_step < max_steps:
        sess.run(cluster.ops.closing)
        yield max_steps - 1


def finish(cluster, sess, global_step):
    """Ends this worker's training: stops the chief's queue runner and says
    how it went. (run_task reports done once the session is closed.)"""
    if cluster is None:
        return
    if cluster.coordinator is not None:
        cluster.coordinator.request_stop()
    if cluster.sync:
        averaging = ' (each update averages %d batches)' % (
            cluster.replicas_to_aggregate)
    else:
        averaging = ''
    print('%s: trained on %d batches; the global step is %d%s.' % (
        cluster.name.capitalize(), cluster.batches, sess.run(global_step),
        averaging))
    sys.stdout.flush()

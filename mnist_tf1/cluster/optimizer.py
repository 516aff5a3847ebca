"""The network's optimizer made synchronous, without the network knowing.

Every network builds its own optimizer inside its training() and calls
minimize() on it; with --sync_replicas, that minimize() goes through a
tf.train.SyncReplicasOptimizer (a class-wide replacement while the network's
training ops are built).
"""

import contextlib

import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors


@contextlib.contextmanager
def sync_replicas(cluster):
    """With --sync_replicas, makes the network's optimizer synchronous.

    Every network builds its own optimizer inside its training() and calls
    minimize() on it. While this context is open, that minimize() goes
    through a tf.train.SyncReplicasOptimizer wrapping the network's optimizer,
    so any network trains synchronously without knowing about clusters.

    Raises:
      errors.UserError: the network did not minimize exactly once.
    """
    if cluster is None or not cluster.sync:
        yield
        return
    optimizer_class = tf.train.Optimizer
    minimize = optimizer_class.minimize
    wrapped = []

    def sync_minimize(optimizer, loss, global_step=None, **kwargs):
        if isinstance(optimizer, tf.train.SyncReplicasOptimizer):
            return minimize(optimizer, loss, global_step=global_step, **kwargs)
        sync = tf.train.SyncReplicasOptimizer(
            optimizer,
            replicas_to_aggregate=cluster.replicas_to_aggregate,
            total_num_replicas=len(cluster.worker_hosts))
        wrapped.append(sync)
        return sync.minimize(loss, global_step=global_step, **kwargs)

    optimizer_class.minimize = sync_minimize
    try:
        yield
    finally:
        optimizer_class.minimize = minimize
    if len(wrapped) != 1:
        raise errors.UserError(
            '--sync_replicas needs a network whose training() calls '
            'minimize() once; this one called it %d times' % len(wrapped))
    cluster.sync_optimizer = wrapped[0]
    # The chief never runs it; say so, or TensorFlow logs that at exit.
    mark_used(cluster.sync_optimizer.ready_for_local_init_op)


def mark_used(tensor):
    getattr(tensor, 'mark_used', lambda: None)()


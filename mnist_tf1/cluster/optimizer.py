"""The network's optimizer made fit for a cluster, without the network knowing.

Every network builds its own optimizer inside its training() and calls
minimize() on it. While cluster_minimize() is open (a class-wide replacement
of tf.train.Optimizer.minimize), that minimize() trains the cluster's way:

- asynchronous (the default): the gradients are applied through the step
  gate (step_gate.py), which counts every step exactly once;
- synchronous (--sync_replicas): through a tf.train.SyncReplicasOptimizer
  wrapping the network's optimizer, its batches through a gate that takes
  each once (sync_updates.py).
"""

import contextlib

import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors
from mnist_tf1.cluster import step_gate
from mnist_tf1.cluster import sync_updates


@contextlib.contextmanager
def cluster_minimize(cluster):
    """Makes the network's minimize() train the cluster's way.

    Sets cluster.gate (asynchronous) or cluster.sync_training (synchronous).

    Args:
      cluster: a Cluster, or None on one machine (nothing changes).

    Raises:
      errors.UserError: the network did not minimize exactly once, or
        without a global step.
    """
    if cluster is None:
        yield
        return
    optimizer_class = tf.train.Optimizer
    minimize = optimizer_class.minimize
    built = []

    def replacement(optimizer, loss, global_step=None, **kwargs):
        if isinstance(optimizer, tf.train.SyncReplicasOptimizer):
            return minimize(optimizer, loss, global_step=global_step, **kwargs)
        if cluster.sync:
            sync = sync_updates.SyncTraining(cluster, optimizer)
            built.append(sync)
            return sync.minimize(loss, global_step, **kwargs)
        if global_step is None:
            raise errors.UserError(
                'training on a cluster needs a network whose training() '
                'passes its global step to minimize()')
        gate = step_gate.StepGate(global_step)
        built.append(gate)
        kwargs.pop('name', None)
        return gate.minimize(optimizer,
                             optimizer.compute_gradients(loss, **kwargs))

    optimizer_class.minimize = replacement
    try:
        yield
    finally:
        optimizer_class.minimize = minimize
    if len(built) != 1:
        raise errors.UserError(
            '%s needs a network whose training() calls minimize() once; this '
            'one called it %d times' % (
                '--sync_replicas' if cluster.sync else 'a cluster',
                len(built)))
    if cluster.sync:
        cluster.sync_training = built[0]
        # No task runs it; say so, or TensorFlow logs that at exit.
        mark_used(built[0].optimizer.ready_for_local_init_op)
    else:
        cluster.gate = built[0]


def mark_used(tensor):
    """Tells TensorFlow a tensor it would warn about is not needed."""
    getattr(tensor, 'mark_used', lambda: None)()

"""Where graph building places ops: variables on the parameter servers."""

import contextlib

import tensorflow.compat.v1 as tf

from mnist_tf1.cluster import run_info
from mnist_tf1.run_dir import checkpoints


@contextlib.contextmanager
def replicas(cluster):
    """Where graph building places ops: variables on the parameter servers.

    On a worker other than the chief, it first waits for the chief's word on
    the run (run_info.py): the global step gets the chief's dtype, and
    cluster.chief_max_steps the chief's --max_steps.

    Returns:
      A context manager: tf.train.replica_device_setter on a cluster, nothing
      on one machine.
    """
    if cluster is None:
        yield
        return
    dtype = None
    if not cluster.is_chief:
        dtype, cluster.chief_max_steps = run_info.read_from_chief(cluster)
    with tf.device(tf.train.replica_device_setter(
            ps_device='/job:ps/cpu:0',
            worker_device='/job:worker/task:%d' % cluster.task_index,
            cluster=cluster.spec)), checkpoints.global_step_as(dtype):
        yield

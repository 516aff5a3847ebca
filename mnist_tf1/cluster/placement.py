"""Where graph building places ops: variables on the parameter servers."""

import contextlib

import tensorflow.compat.v1 as tf


def replicas(cluster):
    """Where graph building places ops: variables on the parameter servers.

    Returns:
      A context manager: tf.train.replica_device_setter on a cluster, nothing
      on one machine.
    """
    if cluster is None:
        return contextlib.nullcontext()
    return tf.device(tf.train.replica_device_setter(
        ps_device='/job:ps/cpu:0',
        worker_device='/job:worker/task:%d' % cluster.task_index,
        cluster=cluster.spec))


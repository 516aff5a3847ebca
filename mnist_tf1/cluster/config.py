"""The configuration a cluster's servers and sessions run with."""

import tensorflow.compat.v1 as tf

# How often a waiting task looks again.
POLL_SECS = 0.25


def cluster_config(config):
    """A copy of a local session's config that a cluster can take.

    A server needs its inter-op thread pool (device.session_config runs ops
    in the caller's thread, which only a local session can do).
    """
    cluster_config = tf.ConfigProto()
    cluster_config.CopyFrom(config)
    cluster_config.ClearField('inter_op_parallelism_threads')
    return cluster_config

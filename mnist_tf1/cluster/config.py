"""How a cluster's servers and sessions are configured to survive faults.

Every remote call is bounded, and a link that comes back is used again at
once:

- gRPC options (TF_GRPC_DEFAULT_OPTIONS, which TensorFlow reads for every
  channel it opens): a keepalive time makes gRPC set TCP_USER_TIMEOUT to the
  keepalive timeout, so a connection whose data goes unacknowledged for that
  long (a cut link, a host gone) is dropped and reopened as soon as the peer
  answers again, rather than waiting out TCP's retransmission back-off
  (minutes). The pings themselves stay at the 5 minutes TensorFlow's servers
  accept: more often and a server drops the connection ("Too many pings").
  A connection attempt made while the peer was away gives up after 2 s, not
  gRPC's 20, and another is made (TensorFlow caps the back-off at 1 s).
- Each call's own deadline (RunOptions.timeout_in_ms, and the session's
  operation_timeout_in_ms for calls made without options): a call whose
  answer never comes ends, and the task decides what to do (session.py).
"""

import os

import tensorflow.compat.v1 as tf

# How often a waiting task looks again.
POLL_SECS = 0.25

GRPC_OPTIONS_ENV = 'TF_GRPC_DEFAULT_OPTIONS'
_GRPC_OPTIONS = (
    ('grpc.keepalive_time_ms', 300000),
    ('grpc.keepalive_timeout_ms', 3000),
    ('grpc.min_reconnect_backoff_ms', 2000),
)


def set_grpc_options(environ=None):
    """Adds the options above to TF_GRPC_DEFAULT_OPTIONS (the user's win).

    Must run before the task's tf.train.Server is made: TensorFlow reads the
    variable once, when it opens its first channel.
    """
    environ = os.environ if environ is None else environ
    given = [o for o in environ.get(GRPC_OPTIONS_ENV, '').split(',') if o]
    names = set(o.split('=', 1)[0] for o in given)
    options = given + ['%s=%d' % (name, value) for name, value in _GRPC_OPTIONS
                       if name not in names]
    environ[GRPC_OPTIONS_ENV] = ','.join(options)


def call_timeout(cluster):
    """Seconds a worker gives one remote call before it asks again.

    Short enough that a task asks several times within --cluster_timeout (a
    call caught by a cut link never gets its answer), long enough for the
    slowest legitimate call (the first of a kind registers its graph on every
    task; an evaluation batch).

    Synchronous training asks no call again, and its steps wait for the
    other workers' batches as long as those take (a worker started later,
    the chief saving and evaluating): there a call has --cluster_timeout.
    """
    if cluster.sync:
        return cluster.timeout
    return min(30.0, max(5.0, cluster.timeout / 3.0))


def server_config(cluster, config):
    """The ConfigProto for this task's tf.train.Server."""
    if cluster.job_name == 'ps':
        # A parameter server only holds variables: no GPU memory for it.
        return tf.ConfigProto(device_count={'GPU': 0})
    return session_config(cluster, config)


def session_config(cluster, config):
    """A copy of a local session's config that a cluster can take.

    A server needs its inter-op thread pool (device.session_config runs ops
    in the caller's thread, which only a local session can do), and every
    call is bounded.
    """
    cluster_config = tf.ConfigProto()
    cluster_config.CopyFrom(config)
    cluster_config.ClearField('inter_op_parallelism_threads')
    cluster_config.operation_timeout_in_ms = int(call_timeout(cluster) * 1000)
    return cluster_config

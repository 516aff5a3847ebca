"""A worker's Session on the cluster.

It waits for the parameter servers to accept connections, sees only the
parameter servers and this worker, and runs again what a refused duplicate
request aborted.
"""

import socket
import sys
import time

import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors
from mnist_tf1.cluster import config as cluster_config
from mnist_tf1.cluster import spec

# TensorFlow's gRPC client resends a request that met a transient failure;
# a task that had already received it refuses the copy, and the whole run
# fails with AbortedError although nothing is wrong with the cluster. Seen
# once in some twenty kill-and-restart test runs on a loaded 2-core machine.
_DUPLICATE_REQUEST = 'request was received twice'
_DUPLICATE_RETRIES = 3


def create_session(cluster, config):
    """A Session on this machine, or on the cluster through this worker.

    On a cluster, waits (up to --cluster_timeout) for the parameter servers to
    accept connections, and filters devices so that this worker needs none of
    the other workers.
    """
    if cluster is None:
        return tf.Session(config=config)
    _wait_for_parameter_servers(cluster)
    session_config = cluster_config.cluster_config(config)
    session_config.device_filters.extend(
        ['/job:ps', '/job:worker/task:%d' % cluster.task_index])
    return ClusterSession(cluster.name, cluster.server.target,
                           config=session_config)


class ClusterSession(tf.Session):
    """A Session that runs again what a refused duplicate request aborted.

    Only that AbortedError (see _DUPLICATE_REQUEST), a few times: any other
    error, a task gone or a queue closed, still ends the task. The request
    that got through may have run, so a step may be taken twice or a step
    number skipped; asynchronous SGD takes either in its stride, and the
    chief's wait for the others' steps ends after _STALL_SECS.
    """

    def __init__(self, name, target, config):
        super().__init__(target, config=config)
        self._name = name

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        for attempt in range(_DUPLICATE_RETRIES + 1):
            try:
                return super().run(fetches, feed_dict=feed_dict,
                                   options=options, run_metadata=run_metadata)
            except tf.errors.AbortedError as e:
                if (_DUPLICATE_REQUEST not in str(e) or
                        attempt == _DUPLICATE_RETRIES):
                    raise
                print('%s: the cluster refused a resent request as a '
                      'duplicate; running again.' % self._name.capitalize())
                sys.stdout.flush()



def _wait_for_parameter_servers(cluster):
    deadline = time.time() + cluster.timeout
    for index, host in enumerate(cluster.ps_hosts):
        name, _, port = host.rpartition(':')
        while True:
            try:
                socket.create_connection((name.strip('[]'), int(port)),
                                         timeout=2).close()
                break
            except OSError as e:
                if time.time() > deadline:
                    raise errors.UserError(
                        '%s: cannot reach parameter server %d at %s after '
                        '%g s (%s); start it, or check --ps_hosts/%s' % (
                            cluster.name, index, host, cluster.timeout,
                            e.strerror or e, spec.TF_CONFIG))
                time.sleep(cluster_config.POLL_SECS)

"""What the chief tells the other workers about its run.

The chief alone reads the run in its --log_dir; the other workers may run on
other machines, with other folders. So the chief puts on parameter server 0,
once the model is ready, what the others must agree with:

- the dtype of the run's global step (int32 in TensorFlow 1.x's mnist.py,
  int64 in tf.train.get_or_create_global_step's runs): every worker builds
  its graph with the chief's, whatever its own --log_dir holds;
- the chief's --max_steps: a worker told otherwise says the two disagree,
  and one started after the run finished says so and ends (status 0).
"""

import time

import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors
from mnist_tf1.cluster import config as cluster_config
from mnist_tf1.cluster import peers


class RunFinished(Exception):
    """A worker started after the chief finished the run: nothing to do."""


def _variable():
    """[the global step's dtype (a DataType enum), the chief's --max_steps];
    every task declares it alike, so they all share one."""
    with tf.device('/job:ps/task:0/cpu:0'):
        return tf.Variable(tf.zeros([2], tf.int64), trainable=False,
                           name='mnist_tf1_run_info', collections=[])


class Publisher(object):
    """The chief's side: built into its graph, run once the model is ready."""

    def __init__(self):
        self._info = _variable()
        self._value = tf.placeholder(tf.int64, [2])
        self._publish = self._info.assign(self._value).op

    def publish(self, sess, global_step, max_steps):
        sess.run(self._publish, {self._value: [
            global_step.dtype.base_dtype.as_datatype_enum, max_steps]})


def read_from_chief(cluster):
    """A worker other than the chief, before it builds its graph: what the
    chief published, once it has (up to --cluster_timeout).

    Returns:
      (the global step's tf.DType, the chief's max_steps).

    Raises:
      errors.UserError: the parameter servers or the chief did not answer.
    """
    peers.wait_for_parameter_servers(cluster)
    with tf.Graph().as_default():
        info = _variable()
        ready = tf.is_variable_initialized(info)
        config = tf.ConfigProto(device_filters=[
            '/job:ps/task:0', '/job:worker/task:%d' % cluster.task_index])
        options = tf.RunOptions(timeout_in_ms=int(
            cluster_config.call_timeout(cluster) * 1000))
        # Kept open: closing a session can wait on a task that is gone.
        sess = tf.Session(cluster.server.target, config=config)
        deadline = time.time() + cluster.timeout
        while True:
            try:
                if sess.run(ready, options=options):
                    dtype, max_steps = sess.run(info, options=options)
                    return tf.as_dtype(int(dtype)), int(max_steps)
            except (tf.errors.UnavailableError,
                    tf.errors.DeadlineExceededError):
                pass
            if time.time() > deadline:
                raise errors.UserError(
                    '%s: the chief (worker 0 at %s) has not initialized the '
                    'model after %g s; start it, or raise --cluster_timeout'
                    % (cluster.name, cluster.worker_hosts[0],
                       cluster.timeout))
            time.sleep(cluster_config.POLL_SECS)


def check_agrees(cluster, max_steps, global_step):
    """A worker other than the chief, its session ready.

    Raises:
      errors.UserError: its --max_steps is not the chief's.
      RunFinished: the run is at the chief's --max_steps.
    """
    chief_max_steps = cluster.chief_max_steps
    if max_steps != chief_max_steps:
        raise errors.UserError(
            '%s: --max_steps=%d, but the chief (worker 0 at %s) trains the '
            "run to %d; give every worker the chief's --max_steps" % (
                cluster.name, max_steps, cluster.worker_hosts[0],
                chief_max_steps))
    if global_step >= chief_max_steps:
        raise RunFinished(
            '%s: the run is finished: the chief (worker 0 at %s) took it to '
            'step %d (--max_steps); nothing to do.' % (
                cluster.name.capitalize(), cluster.worker_hosts[0],
                global_step))

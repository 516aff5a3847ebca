"""A parameter server's serving loop, and how a run ends.

Each worker, when done, puts its task index on a queue on every parameter
server; a parameter server exits when every worker has, or, once the chief
has, after --cluster_timeout more seconds.
"""

import sys
import time

import tensorflow.compat.v1 as tf

from mnist_tf1.cluster import config as cluster_config


def _done_queue(ps_task, num_workers):
    """The queue on a parameter server that workers report done on."""
    with tf.device('/job:ps/task:%d/cpu:0' % ps_task):
        # Every task declares it alike, so they all share one queue.
        return tf.FIFOQueue(max(100, 10 * num_workers), tf.int32, shapes=[()],
                            shared_name='mnist_tf1_done_ps%d' % ps_task,
                            name='done_ps%d' % ps_task)


def serve(cluster):
    """A parameter server: serves until the workers have reported done."""
    num_workers = len(cluster.worker_hosts)
    print('Parameter server %d of %d at %s; serving until the %d workers are '
          'done.' % (cluster.task_index, len(cluster.ps_hosts),
                     cluster.ps_hosts[cluster.task_index], num_workers))
    sys.stdout.flush()
    with tf.Graph().as_default():
        queue = _done_queue(cluster.task_index, num_workers)
        waiting = queue.size()
        count = tf.placeholder(tf.int32, shape=[])
        take = queue.dequeue_many(count)
        config = tf.ConfigProto(
            device_filters=['/job:ps/task:%d' % cluster.task_index])
        with tf.Session(cluster.server.target, config=config) as sess:
            done = set()
            chief_done_at = None
            while len(done) < num_workers:
                n = sess.run(waiting)
                if n:
                    done.update(int(i) for i in sess.run(take, {count: n}))
                if 0 in done and chief_done_at is None:
                    chief_done_at = time.time()
                if (chief_done_at is not None and
                        time.time() - chief_done_at > cluster.timeout):
                    late = sorted(set(range(num_workers)) - done)
                    print('Parameter server %d: the chief is done; worker%s '
                          '%s did not report in %g s; stopping.' % (
                              cluster.task_index, 's' if len(late) > 1 else '',
                              ', '.join(map(str, late)), cluster.timeout))
                    return
                if len(done) < num_workers:
                    time.sleep(cluster_config.POLL_SECS)
    print('Parameter server %d: all %d workers are done; stopping.' %
          (cluster.task_index, num_workers))


def report_done(cluster):
    """Tells every parameter server that this worker is done.

    Its training session is closed by now: the parameter servers may exit as
    soon as they hear from every worker, and closing a session on a cluster
    whose parameter server is gone never ends. The session used here is
    never closed; the process exits right after.
    """
    with tf.Graph().as_default():
        report = [_done_queue(i, len(cluster.worker_hosts)).enqueue(
            cluster.task_index) for i in range(len(cluster.ps_hosts))]
        config = tf.ConfigProto(device_filters=[
            '/job:ps', '/job:worker/task:%d' % cluster.task_index])
        # Kept until the process exits: freeing it would close it.
        cluster.report_session = tf.Session(cluster.server.target,
                                            config=config)
        cluster.report_session.run(report)

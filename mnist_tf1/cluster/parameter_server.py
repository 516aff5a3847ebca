"""A parameter server's serving loop, and how a run ends.

Each worker, when done, puts its task index on a queue on every parameter
server. A parameter server exits:

- when every worker has reported done (status 0);
- once the chief has (the run is finished and saved), --cluster_timeout
  later at the most, for the others to learn that the run is over (status
  0);
- when, once the run has begun (a worker answered), no worker that has not
  reported has answered a connection for --cluster_timeout (status 1: the
  run is abandoned, or this task is cut off; a supervisor starts it again,
  and the chief restores the model). Before that it waits for the workers
  however long they take to start, as TensorFlow 1.x's did.
"""

import time

import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors
from mnist_tf1.cluster import config as cluster_config
from mnist_tf1.cluster import peers

# How often a parameter server looks for its workers.
_PROBE_EVERY_SECS = 2.0


def _done_queue(ps_task, num_workers):
    """The queue on a parameter server that workers report done on."""
    with tf.device('/job:ps/task:%d/cpu:0' % ps_task):
        # Every task declares it alike, so they all share one queue.
        return tf.FIFOQueue(max(100, 10 * num_workers), tf.int32, shapes=[()],
                            shared_name='mnist_tf1_done_ps%d' % ps_task,
                            name='done_ps%d' % ps_task)


def serve(cluster):
    """A parameter server: serves until the run is finished or abandoned.

    Raises:
      errors.UserError: no worker answered for --cluster_timeout.
    """
    num_workers = len(cluster.worker_hosts)
    print('Parameter server %d of %d at %s; serving until the %d workers are '
          'done.' % (cluster.task_index, len(cluster.ps_hosts),
                     cluster.ps_hosts[cluster.task_index], num_workers),
          flush=True)
    with tf.Graph().as_default():
        queue = _done_queue(cluster.task_index, num_workers)
        waiting = queue.size()
        count = tf.placeholder(tf.int32, shape=[])
        take = queue.dequeue_many(count)
        config = tf.ConfigProto(
            device_filters=['/job:ps/task:%d' % cluster.task_index])
        # Never closed: the process exits right after (task.py).
        sess = tf.Session(cluster.server.target, config=config)
        done = set()
        chief_done_at = None
        watch = _Watch(cluster)
        while len(done) < num_workers:
            n = sess.run(waiting)
            if n:
                done.update(int(i) for i in sess.run(take, {count: n}))
            if len(done) == num_workers:
                break
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
            if chief_done_at is None:
                watch.look(done)
            time.sleep(cluster_config.POLL_SECS)
    print('Parameter server %d: all %d workers are done; stopping.' %
          (cluster.task_index, num_workers))


class _Watch(object):
    """Notices when no worker still at work has answered for too long."""

    def __init__(self, cluster):
        self._cluster = cluster
        self._next_look = 0.0
        self._begun = False
        self._alone_since = None

    def look(self, done):
        """Raises errors.UserError after --cluster_timeout without workers."""
        now = time.time()
        if now < self._next_look:
            return
        self._next_look = now + _PROBE_EVERY_SECS
        cluster = self._cluster
        working = [(i, h) for i, h in enumerate(cluster.worker_hosts)
                   if i not in done]
        gone = peers.unreachable('worker', [h for _, h in working])
        if len(gone) < len(working):
            self._begun = True
            self._alone_since = None
            return
        if not self._begun:
            return
        self._alone_since = self._alone_since or now
        if now - self._alone_since > cluster.timeout:
            # Names as in the cluster, not as in the probe's list.
            gone = [(peers.task_name('worker', i), h, why)
                    for (i, h), (_, _, why) in zip(working, gone)]
            raise errors.UserError(
                '%s: no worker has answered for %g s (%s): the run is '
                'abandoned, or this task is cut off; start the workers, and '
                'this task again (a supervisor does: see docs/cluster.md)' %
                (cluster.name, cluster.timeout, peers.describe(gone)))


def report_done(cluster):
    """Tells every parameter server that this worker is done.

    Its training session is closed by now: the parameter servers may exit as
    soon as they hear from every worker. The session used here is never
    closed; the process exits right after. A parameter server that cannot be
    told in --cluster_timeout stops on its own (see serve()).
    """
    with tf.Graph().as_default():
        report = [_done_queue(i, len(cluster.worker_hosts)).enqueue(
            cluster.task_index) for i in range(len(cluster.ps_hosts))]
        config = tf.ConfigProto(device_filters=[
            '/job:ps', '/job:worker/task:%d' % cluster.task_index])
        options = tf.RunOptions(timeout_in_ms=int(
            cluster_config.call_timeout(cluster) * 1000))
        # Kept until the process exits: freeing it would close it.
        cluster.report_session = tf.Session(cluster.server.target,
                                            config=config)
        deadline = time.time() + cluster.timeout
        while True:
            try:
                cluster.report_session.run(report, options=options)
                return
            except (tf.errors.UnavailableError,
                    tf.errors.DeadlineExceededError) as e:
                if time.time() > deadline:
                    print('%s: cannot tell the parameter servers it is done '
                          '(%s); they stop on their own.' % (
                              cluster.name.capitalize(),
                              errors.tf_reason(e, limit=80)))
                    return
                time.sleep(cluster_config.POLL_SECS)

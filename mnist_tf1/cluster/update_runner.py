"""The chief's synchronous update runner (--sync_replicas, sync_updates.py).

A thread of the chief's that applies the averaged batches, one update at a
time, through the chief's ClusterSession (faults waited out). Unlike
TensorFlow's QueueRunner it never closes the token queue; an update that met
a fault is closed, not asked again (close_faulted_step); and before the
chief saves, the runner is paused and the step held still (still_step), so
that a checkpoint holds the step it is named after.
"""

import threading
import time

import tensorflow.compat.v1 as tf

from mnist_tf1.cluster import config as cluster_config
from mnist_tf1.cluster import update_marks

# Seconds the chief waits, before it saves, for an update under way that the
# other workers' batches may end.
_STILL_WITHIN_SECS = 3.0
# A runner's call waits for the workers' batches as long as they take.
_RUNNER_DEADLINE_MS = 24 * 3600 * 1000


class UpdateRunner(object):
    """The chief's update runner: a thread applying the averaged batches.

    Unlike TensorFlow's QueueRunner it never closes the token queue, and its
    calls go through the ClusterSession (faults waited out). pause() stops
    it from starting another update.
    """

    def __init__(self, sess, ops, name):
        """Args:
          sess: the chief's ClusterSession.
          ops: the SyncOps.
          name: the chief's name in messages ('worker 0').
        """
        self._sess = sess
        self._ops = ops
        self._name = name
        self._options = tf.RunOptions(timeout_in_ms=_RUNNER_DEADLINE_MS)
        # The step the next update is for (None: to be read).
        self._step = None
        self._go = threading.Event()
        self._go.set()
        self._idle = threading.Event()
        self._done = False
        self.failure = None
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='sync_update_runner')
        self._thread.start()

    def _run(self):
        while not self._done:
            if not self._go.is_set():
                self._idle.set()
                self._go.wait()
                continue
            self._idle.clear()
            try:
                if self._step is None:
                    self._step = int(self._sess.run(self._ops.progress)[0])
                done = self._sess.run(self._ops.update, options=self._options,
                                      resend=self._after_fault)
                self._step = int(done[1]) if done else None
            except tf.errors.FailedPreconditionError:
                # The model is being put back (the main thread does it).
                self._step = None
                time.sleep(cluster_config.POLL_SECS)
            except Exception as e:  # pylint: disable=broad-except
                if self._done:  # The session closed under the call.
                    return
                # The workers' next steps fail for want of tokens; their
                # error says why (task.py reads this).
                self.failure = e
                self._idle.set()
                return

    def _after_fault(self, unused_fetches):
        """ClusterSession.run's resend for an update that met a fault.

        It is not asked again: it may have been applied in part, and would
        then wait forever for the batches some parameter servers have
        already taken. The global step and the marks are read instead
        (close_faulted_step).
        """
        def finish(values):
            close_faulted_step(self._sess, self._ops, self._name, values,
                               self._step)
            return None
        return self._ops.progress, finish

    def pause(self):
        """No update starts from now on; the one under way may end."""
        self._go.clear()

    def resume(self):
        self._go.set()

    def wait_idle(self, timeout):
        """Waits until, paused, no update is under way; False if that took
        longer than `timeout` seconds."""
        return self._idle.wait(timeout)

    def stop(self):
        self._done = True
        self._go.set()


def close_faulted_step(sess, ops, name, values, step):
    """Closes the step of an update that met a fault, unless it is done.

    The update may have been applied on every parameter server, on some
    (update_marks.py), or on none, its batches taken or not: whichever,
    the step is closed: counted, the accumulators emptied, every worker
    given a token for the next step. One line says what the update missed
    (none when every parameter server applied it: only its count was
    lost).

    Args:
      sess: the chief's session.
      ops: the SyncOps.
      name: the chief's name in messages ('worker 0').
      values: what ops.progress answered: [global step, mark, ...].
      step: the step the update was for.
    """
    if int(values[0]) > step:
        return  # Done: only its answer was lost.
    devices = ops.marks.devices
    applied = dict(update_marks.ahead(devices, values))
    servers = lambda which: ' and '.join(  # noqa: E731
        update_marks.server_name(d) for d in devices if which(d))
    if not applied:
        what = 'was lost: no parameter server applied it'
    elif len(applied) < len(devices):
        what = 'was applied on %s but not on %s' % (
            servers(lambda d: d in applied),
            servers(lambda d: d not in applied))
    else:
        what = None
    if what:
        print('%s: step %d\'s update %s (a link was cut while it was under '
              'way); it counts as done, and training goes on from step %d.'
              % (name.capitalize(), step, what, step + 1), flush=True)
    ops.close_step(sess, step)


def still_step(sess, ops, runner):
    """The global step, read once the runner is paused and no update under
    way can move it.

    Paused, the runner starts no update; the one under way (for the global
    step) ends once --replicas_to_aggregate workers' batches for it are in.
    While every worker's is needed and the chief's is not in, it cannot end
    before the chief trains on: the step is read at once. Otherwise the
    other workers' batches may end it, and the chief waits for the runner
    to be idle, for up to _STILL_WITHIN_SECS (a worker slower than that per
    batch could still end it during the save: docs/cluster.md).
    """
    runner.pause()
    step, chief_batch = (int(v) for v in sess.run(ops.own_batch))
    if chief_batch == step or ops.updates_without_chief:
        runner.wait_idle(_STILL_WITHIN_SECS)
        step = int(sess.run(ops.global_step))
    return step

"""Which steps each worker takes, and the chief's part in a run.

The training loop asks a Steps object (steps()) for the steps to take, tells
it what each training call answered (taken()), and, on the chief, asks it
when to save (save_due()) and at which step (checkpoint_step()).

On one machine the steps are first_step, ..., max_steps - 1, and a
checkpoint is due as the save schedule says.

Asynchronous training on a cluster (the default) goes through the step gate
(step_gate.py): a worker learns which step it took once it has taken it, and
a call the gate refused took none. The chief keeps the gate's limit at the
step of its next checkpoint: the workers stop there, the chief saves exactly
that step, moves the limit on and evaluates while they go on. To save by
time, or when stopped by a signal, it closes the gate where the run is. So
every checkpoint holds the step it is named after, the run ends at exactly
--max_steps, and without the chief the others train at most to the next
checkpoint, then wait for it (up to --cluster_timeout).

Synchronous with --sync_replicas: a SyncReplicasOptimizer wraps the network's
optimizer (optimizer.py, sync_updates.py), and each update of the global step
averages the gradients of --replicas_to_aggregate batches. Each worker's step
is the global step it computed its batch at. The chief pauses its update
runner to read the step it saves, and ends with a closing pass whose
gradients are marked stale (so nothing changes) to save and evaluate after
the last update.
"""

import time

import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors
from mnist_tf1.cluster import config as cluster_config
from mnist_tf1.cluster import optimizer
from mnist_tf1.cluster import run_info
from mnist_tf1.cluster import session
from mnist_tf1.cluster import sync_updates
from mnist_tf1.cluster import update_marks
from mnist_tf1.cluster import update_runner


class _RunOps(object):
    """The ops a cluster run adds to the graph besides the network's."""

    def __init__(self, cluster):
        variables = tf.global_variables()
        if cluster.sync:
            variables.append(cluster.sync_training.applied)
            variables.extend(cluster.sync_training.marks.marks)
        else:
            variables.append(cluster.gate.limit)
            variables.extend(cluster.gate.marks.marks)
            # Set by the chief once it has restored the model (the step
            # gate closed: no step under way).
            self.align_marks = cluster.gate.marks.align()
        self.uninitialized = tf.report_uninitialized_variables(variables)
        optimizer.mark_used(self.uninitialized)
        self.global_step = tf.train.get_global_step()
        self.run_info = run_info.Publisher() if cluster.is_chief else None
        self.sync = None
        if cluster.sync:
            self.sync = sync_updates.SyncOps(cluster, cluster.sync_training,
                                             self.global_step)


def prepare_session(cluster, sess, initialize, max_steps=None):
    """Readies the model: initialize() here or on the chief; others wait.

    Args:
      cluster: a Cluster, or None on one machine.
      sess: the Session from session.create_session().
      initialize: restores the model from the last checkpoint or initializes
        it; returns what it restored (None when it initialized). On a
        cluster the chief calls it again if a parameter server loses the
        model.
      max_steps: the step this task trains to (--max_steps): on a cluster,
        the chief tells it the others; they must agree.

    Returns:
      What initialize() returned; None on workers other than the chief.

    Raises:
      errors.UserError: a worker waited --cluster_timeout for the chief, or
        its max_steps is not the chief's.
      run_info.RunFinished: a worker found the run finished.
    """
    if cluster is None:
        return initialize()
    cluster.ops = _RunOps(cluster)
    cluster.initialize = initialize
    cluster.max_steps = max_steps
    restored = None
    if cluster.is_chief:
        restored = _take_over(cluster, sess)
    else:
        _wait_for_the_chief(cluster, sess)
        run_info.check_agrees(cluster, max_steps,
                              int(sess.run(cluster.ops.global_step)))
    if cluster.sync:
        sync = cluster.ops.sync
        sess.resend = sync_updates.resender(cluster, sess, sync)
        if cluster.is_chief:
            _start_updates(sess, sync)
            # The chief's update runner aggregates the gradients, updates
            # the variables and hands out the tokens of the next step.
            cluster.update_runner = update_runner.UpdateRunner(
                sess, sync, cluster.name)
        else:
            sess.run(sync.local_step_init)
    return restored


def _start_updates(sess, sync):
    """The chief, the model restored: updates from its global step on."""
    sess.run(sync.chief_init)
    sess.run(sync.init_tokens)


def _take_over(cluster, sess):
    """The chief: closes the gate, lets the steps under way end, restores;
    then tells the others about the run (run_info.py).

    Else a step another worker had begun would land on the restored model
    (a restarted chief), and the run would hold a step no checkpoint counts.
    """
    if not cluster.sync:
        cluster.gate.set_limit(sess, 0)
        sess.run(cluster.gate.barrier)
    restored = cluster.initialize()
    if not cluster.sync:
        sess.run(cluster.ops.align_marks)
    cluster.ops.run_info.publish(sess, cluster.ops.global_step,
                                 cluster.max_steps)
    return restored


def _wait_for_the_chief(cluster, sess):
    deadline = time.time() + cluster.timeout
    while len(sess.run(cluster.ops.uninitialized)):
        stop = sess.stop  # A ClusterSession's: set once training runs.
        if stop is not None and stop.requested:
            # A signal while waiting (after a parameter server restarted):
            # the task ends now, as when a call hangs.
            raise session.Stopped(
                '%s: stopped by %s while waiting for the chief (worker 0 at '
                '%s) to restore the model' % (
                    cluster.name, stop.name, cluster.worker_hosts[0]),
                stop.exit_status)
        if time.time() > deadline:
            raise errors.UserError(
                '%s: the chief (worker 0 at %s) has not initialized the model '
                'after %g s; start it, or raise --cluster_timeout' %
                (cluster.name, cluster.worker_hosts[0], cluster.timeout))
        time.sleep(cluster_config.POLL_SECS)


def steps(cluster, sess, global_step, first_step, schedule):
    """The steps this worker takes, as a Steps object to iterate over.

    Args:
      cluster: a Cluster, or None on one machine.
      sess: the Session.
      global_step: the global step variable.
      first_step: the global step the model was restored at (0 if new).
      schedule: the chief's save_schedule.SaveSchedule (its max_steps is
        the step to stop at).
    """
    if cluster is None:
        return _Steps(first_step, schedule)
    if cluster.sync:
        return _SyncSteps(cluster, sess, global_step, first_step, schedule)
    return _AsyncSteps(cluster, sess, global_step, first_step, schedule)


class _Steps(object):
    """Steps on one machine; what the cluster's steps share.

    Attributes:
      global_step: the global step after the last training call.
      batches: the batches this worker trained on.
    """

    def __init__(self, first_step, schedule):
        self.global_step = first_step
        self.batches = 0
        self._schedule = schedule
        self._max_steps = schedule.max_steps

    def __iter__(self):
        return iter(range(self.global_step, self._max_steps))

    def taken(self, step, unused_trained):
        """The step the training call took (None: it took none)."""
        self.global_step = step + 1
        self.batches += 1
        return step

    def save_due(self):
        """True when the chief is to save (and evaluate) now."""
        return self._schedule.due(self.global_step)

    def checkpoint_step(self):
        """The global step a checkpoint saved now holds."""
        return self.global_step

    def saved(self, step):
        """Tells the schedule the chief saved at `step`."""
        self._schedule.saved(step)

    def hold(self):
        """Stops the run where it is (a stop signal); returns its step."""
        return self.global_step

    def finish(self):
        """Ends this worker's training; says how it went on a cluster."""


class _ClusterSteps(_Steps):
    """A cluster's steps: the Session and the Cluster at hand."""

    def __init__(self, cluster, sess, global_step, first_step, schedule):
        super().__init__(first_step, schedule)
        self._cluster = cluster
        self._sess = sess
        self._global_step_var = global_step

    def finish(self):
        cluster = self._cluster
        if cluster.update_runner is not None:
            cluster.update_runner.stop()
        if cluster.sync:
            averaging = ' (each update averages %d batches)' % (
                cluster.replicas_to_aggregate)
        else:
            averaging = ''
        print('%s: trained on %d batches; the global step is %d%s.' % (
            cluster.name.capitalize(), self.batches,
            self._sess.run(self._global_step_var), averaging), flush=True)


class _AsyncSteps(_ClusterSteps):
    """Asynchronous steps through the step gate (see the module's doc)."""

    def __init__(self, cluster, sess, global_step, first_step, schedule):
        super().__init__(cluster, sess, global_step, first_step, schedule)
        self._gate = cluster.gate
        self._refused = False
        self._finished = False
        self.limit = None
        if cluster.is_chief:
            sess.on_model_lost = self._restore
            if first_step < self._max_steps:
                self._open_gate(first_step)
        else:
            sess.on_model_lost = self._wait_for_restore
        if self._gate.check is not None:
            sess.resend = self._check_after

    def __iter__(self):
        chief = self._cluster.is_chief
        while True:
            if self._refused and not chief and not self._wait_for_the_gate():
                return
            if self.global_step >= self._max_steps and (
                    not chief or self._finished):
                return
            yield self.global_step

    def taken(self, step, trained):
        taken, self.global_step = (int(v) for v in trained)
        self._refused = taken < 0
        if self._refused:
            return None
        self.batches += 1
        return taken

    def save_due(self):
        if self.global_step >= self.limit:
            # The gate is closed at the limit: the step is still.
            return True
        if self._schedule.time_due() and not self._closing:
            # Close the gate where the run is; the next call answers at
            # which step it closed.
            self._set_limit(self.global_step)
            self._closing = True
        return False

    def saved(self, step):
        self._schedule.saved(step)
        self._check_updates()
        if step >= self._max_steps:
            self._finished = True
        else:
            self._open_gate(step)

    def _check_after(self, fetches):
        """ClusterSession.resend: once a call's fault is waited out, checks
        that the updates under way then were applied whole (a link cut
        mid-update, update_marks.py)."""
        def finish(result):
            self._check_updates()
            return result
        return fetches, finish

    def _check_updates(self):
        """Says in one line if updates were applied in part or uncounted."""
        if self._gate.check is None:
            return
        line = update_marks.uncounted(
            self._cluster.name, self._gate.marks.devices,
            self._sess.run(self._gate.check))
        if line:
            print(line, flush=True)

    def hold(self):
        # No more steps for anyone; those under way end; then the step.
        self._set_limit(0)
        self._sess.run(self._gate.barrier)
        self.global_step = int(self._sess.run(self._global_step_var))
        return self.global_step

    def _open_gate(self, step):
        self._set_limit(self._schedule.next_step(step))
        self._closing = False

    def _set_limit(self, limit):
        self.limit = limit
        self._gate.set_limit(self._sess, limit)

    def _wait_for_the_gate(self):
        """A worker the gate refused: waits for the chief to open it.

        Returns:
          False when the run is over, True to go on (or to stop: a stop
          signal came, for the loop to see).

        Raises:
          errors.UserError: the chief did not open it in --cluster_timeout.
        """
        cluster = self._cluster
        since = time.time()
        while True:
            step, limit = (int(v) for v in self._sess.run(self._gate.state))
            self.global_step = step
            if step >= self._max_steps:
                return False
            if step < limit or self._sess.stop_requested():
                self._refused = False
                return True
            if time.time() - since > cluster.timeout:
                raise errors.UserError(
                    '%s: the chief (worker 0 at %s) has held training at '
                    'step %d for %g s (--cluster_timeout): it is gone, or '
                    'cannot reach the parameter servers; start it again (a '
                    'supervisor does: see docs/cluster.md)' % (
                        cluster.name, cluster.worker_hosts[0], step,
                        cluster.timeout))
            time.sleep(cluster_config.POLL_SECS)

    def _restore(self, error):
        """The chief, when a parameter server lost the model: restores it."""
        self._say('a parameter server lost the model (%s); restoring it.' %
                  errors.tf_reason(error, limit=80))
        restored = _take_over(self._cluster, self._sess)
        self.global_step = int(self._sess.run(self._global_step_var))
        if restored:
            print('Restored %s (step %d).' % (restored, self.global_step))
        self._schedule.saved(self.global_step)
        self._finished = False
        self._open_gate(self.global_step)

    def _wait_for_restore(self, error):
        """Another worker, when a parameter server lost the model."""
        self._say('a parameter server lost the model (%s); waiting for the '
                  'chief to restore it.' % errors.tf_reason(error, limit=80))
        _wait_for_the_chief(self._cluster, self._sess)

    def _say(self, message):
        _say(self._cluster, message)


class _SyncSteps(_ClusterSteps):
    """Synchronous steps: each the global step this worker's batch is for."""

    def __init__(self, cluster, sess, global_step, first_step, schedule):
        super().__init__(cluster, sess, global_step, first_step, schedule)
        self._first_step = first_step
        self._ops = cluster.ops.sync
        self._runner = cluster.update_runner
        sess.on_model_lost = (self._restore if cluster.is_chief else
                              self._wait_for_restore)

    def __iter__(self):
        cluster, max_steps = self._cluster, self._max_steps
        while True:
            step = self._sess.run(self._global_step_var)
            if step >= max_steps:
                break
            if cluster.is_chief and step == max_steps - 1:
                # max_steps - 1 is the closing pass's, below.
                step = max(max_steps - 2, 0)
            yield step
        if cluster.is_chief and self._first_step < max_steps:
            self._sess.run(self._ops.closing)
            yield max_steps - 1

    def taken(self, step, trained):
        self.global_step = step + 1
        if not int(trained[1]):
            # A batch the gate refused (sent again, or the closing pass).
            return None
        self.batches += 1
        return step

    def checkpoint_step(self):
        # Other workers' batches may move it on: the runner is paused.
        return update_runner.still_step(self._sess, self._ops, self._runner)

    def saved(self, step):
        self._schedule.saved(step)
        self._runner.resume()

    def hold(self):
        self.global_step = self.checkpoint_step()
        return self.global_step

    def _restore(self, error):
        """The chief, when a parameter server lost the model: restores it."""
        _say(self._cluster, 'a parameter server lost the model (%s); '
             'restoring it.' % errors.tf_reason(error, limit=80))
        restored = _take_over(self._cluster, self._sess)
        _start_updates(self._sess, self._ops)
        self.global_step = int(self._sess.run(self._global_step_var))
        if restored:
            print('Restored %s (step %d).' % (restored, self.global_step))
        self._schedule.saved(self.global_step)

    def _wait_for_restore(self, error):
        """Another worker, when a parameter server lost the model."""
        _say(self._cluster, 'a parameter server lost the model (%s); waiting '
             'for the chief to restore it.' % errors.tf_reason(error,
                                                               limit=80))
        _wait_for_the_chief(self._cluster, self._sess)
        self._sess.run(self._ops.local_step_init)


def _say(cluster, message):
    print('%s: %s' % (cluster.name.capitalize(), message), flush=True)

"""A worker's Session on the cluster: every call bounded, faults waited out.

It waits for the parameter servers to accept connections and sees only the
parameter servers and this worker. Each call:

- has a deadline (config.call_timeout), and runs in a helper thread so that
  the main thread stays free for Ctrl-C and SIGTERM: a stop request ends a
  call that does not return within a few seconds (Stopped);
- when the parameter servers do not answer (a cut link, a task restarting),
  is asked again until they do, for up to --cluster_timeout in all (and at
  least once), with one line when the wait starts and one when it ends; then
  the task gives up in one line that names the unreachable peer
  (asynchronous training only: a synchronous step cannot be asked twice, so
  it ends the task at once);
- when a parameter server restarted, asks again through a new session (the
  restarted server does not know the old one), and when it lost the model,
  lets the run's recovery put it back (on_model_lost); a new session too
  when the parameter servers answer connections again but calls still fail
  the way they did (seen now and then after a cut link: the session keeps
  answering the old error without asking);
- when TensorFlow's gRPC client resent a request and its receiver refused
  the copy as a duplicate, is asked again.

A request asked again may have been carried out already: a step whose answer
was lost is a step taken (the step protocol counts it; a synchronous batch is
taken once per step), and every other call a worker makes can be made twice.
"""

import concurrent.futures
import sys
import threading
import time

import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors
from mnist_tf1.cluster import config as cluster_config
from mnist_tf1.cluster import peers

# TensorFlow's gRPC client resends a request that met a transient failure;
# a task that had already received it refuses the copy, and the whole run
# fails with AbortedError although nothing is wrong with the cluster. Seen
# once in some twenty kill-and-restart test runs on a loaded 2-core machine.
_DUPLICATE_REQUEST = 'request was received twice'
_DUPLICATE_RETRIES = 3
# What a call meets while a peer is away: no connection, or no answer.
_PEER_AWAY = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError,
              tf.errors.AbortedError, tf.errors.CancelledError)
# A restarted parameter server holds no values until the chief restores them,
# and knows nothing of the sessions made before ("Session handle is not
# found ... Possibly this worker ... just restarted").
_MODEL_LOST = ('uninitialized', 'not initialized')
_SESSION_LOST = 'handle is not found'

# Seconds between two tries while a peer is away.
_RETRY_SECS = 0.5
# Tries that fail while the parameter servers answer connections before the
# calls go through a new session; and seconds between two new sessions.
_STALE_TRIES = 2
_RENEW_EVERY_SECS = 3.0
# Seconds a call may go on after a stop request before the task looks for a
# lost peer, and ends if there is one.
_STOP_GRACE_SECS = 2.0
# Calls at once: the main thread's, and those of threads of its own (a
# synchronous chief's queue runner may call while a step waits on it).
_CALLERS = 4


class Stopped(Exception):
    """Ctrl-C or SIGTERM came while the cluster did not answer."""

    def __init__(self, message, exit_status):
        super().__init__(message)
        self.exit_status = exit_status


def create_session(cluster, config):
    """A Session on this machine, or on the cluster through this worker.

    On a cluster, waits (up to --cluster_timeout) for the parameter servers to
    accept connections, and filters devices so that this worker needs none of
    the other workers.
    """
    if cluster is None:
        return tf.Session(config=config)
    peers.wait_for_parameter_servers(cluster)
    session_config = cluster_config.session_config(cluster, config)
    session_config.device_filters.extend(
        ['/job:ps', '/job:worker/task:%d' % cluster.task_index])
    return ClusterSession(cluster.name, cluster.server.target,
                          config=session_config, cluster=cluster)


def honour_stop(sess, stop):
    """Lets a stop request (interruption.StopRequest) end a call that hangs.

    Nothing to do on one machine, where calls do not hang.
    """
    if isinstance(sess, ClusterSession):
        sess.stop = stop


class ClusterSession(tf.Session):
    """A Session whose calls are bounded and outlast a peer's absence.

    Attributes:
      stop: the training loop's StopRequest, once it has one (honour_stop).
      on_model_lost: called with the error when a parameter server lost the
        model; puts it back (the chief) or waits for it (the others).
    """

    def __init__(self, name, target, config, cluster=None):
        """Args:
          name: this task's name in messages ('worker 1').
          target: its server's target.
          config: the session's ConfigProto.
          cluster: the Cluster, to wait out faults; None: calls that fail
            (other than a refused duplicate) fail at once.
        """
        super().__init__(target, config=config)
        self._target = target
        self._config = config
        # The session calls go through: this one, or a new one once a
        # parameter server restarted. The old ones are kept, never closed:
        # freeing or closing them can wait forever on a task that is gone.
        self._active = self
        self._stale = []
        self._name = name
        self._cluster = cluster
        self._wait_out_faults = cluster is not None
        self._timeout_ms = int(config.operation_timeout_in_ms)
        self._caller = concurrent.futures.ThreadPoolExecutor(_CALLERS)
        # One recovery at a time (the chief's update runner calls from a
        # thread of its own); a thread's own calls during it fail as they
        # come; a call that failed before a recovery is asked again after it.
        self._recovery = threading.Lock()
        self._recoveries = 0
        self._in_recovery = threading.local()
        self.stop = None
        self.on_model_lost = None
        self.resend = None
        # Not `_closed`: that is tf.Session's own, and set here first it
        # made close() skip closing the session, so a call still hanging in
        # the helper thread was never cancelled (and the task never ended).
        self._closing = False

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None,
            resend=None):
        """Session.run, bounded, faults waited out (see the module's doc).

        `resend` (this call's), or else the session's, when set, is called
        with the fetches of a call that met a fault: it returns the fetches
        to ask for instead, and a function that turns their result into the
        one the caller expects (or None).
        """
        resend = resend or self.resend
        options = self._with_deadline(options)
        fault = None
        finish = None
        duplicates = 0
        while True:
            started = time.time()
            recoveries = self._recoveries
            try:
                result = self._call(fetches, feed_dict, options, run_metadata)
            except tf.errors.FailedPreconditionError as e:
                if not self._can_recover(e):
                    raise
                self._recover(e, recoveries)
                continue
            except _PEER_AWAY as e:
                if (_DUPLICATE_REQUEST in str(e) and
                        duplicates < _DUPLICATE_RETRIES):
                    duplicates += 1
                    self._say('the cluster refused a resent request as a '
                              'duplicate; running again.')
                    continue
                if not self._wait_out_faults or self._closing:
                    raise
                if self._waiting_for_workers(e):
                    # A synchronous step that waited its deadline for the
                    # other workers' batches waits on for its update (or
                    # gives up, naming them), its batch sent alone again.
                    if finish is None and resend is not None:
                        fetches, finish = resend(fetches)
                    if finish is None:
                        raise
                    continue
                if fault is None:
                    fault = _Fault(self._cluster, e, started)
                    if resend is not None:
                        fetches, finish = resend(fetches)
                # A session a restarted server forgot is renewed before the
                # next try; one whose calls keep failing though the servers
                # answer, when the fault says so: once, either way.
                lost = _SESSION_LOST in str(e)
                if fault.wait(e, self.stop) or lost:
                    self._renew()
                continue
            if fault is not None:
                fault.end()
            return finish(result) if finish is not None else result

    def close(self):
        self._closing = True
        self._caller.shutdown(wait=False)
        tf.Session.close(self._active)

    def _renew(self):
        """Calls go through a new session from now on."""
        if self._active is not self:
            self._stale.append(self._active)
        self._active = tf.Session(self._target, graph=self.graph,
                                  config=self._config)

    def stop_requested(self):
        return self.stop is not None and self.stop.requested

    def _with_deadline(self, options):
        if not self._timeout_ms or (options is not None and
                                    options.timeout_in_ms):
            return options
        bounded = tf.RunOptions()
        if options is not None:
            bounded.CopyFrom(options)
        bounded.timeout_in_ms = self._timeout_ms
        return bounded

    def _call(self, fetches, feed_dict, options, run_metadata):
        """tf.Session.run in a helper thread; this thread waits for it.

        Raises:
          Stopped: a stop signal came, and the call still hangs on a peer
            that does not answer.
        """
        future = self._caller.submit(tf.Session.run, self._active, fetches,
                                     feed_dict, options, run_metadata)
        look_at = None
        while True:
            try:
                return future.result(timeout=_RETRY_SECS)
            except concurrent.futures.TimeoutError:
                if not self.stop_requested():
                    continue
                look_at = look_at or time.time() + _STOP_GRACE_SECS
                if time.time() < look_at:
                    continue
                # A slow call that will end is let end; one waiting on a
                # lost peer would not before its deadline.
                gone = self._gone()
                if gone or self._cluster is None:
                    raise _stopped(self._name, gone, self.stop)
                look_at = time.time() + _STOP_GRACE_SECS

    def _gone(self):
        """The parameter servers that do not answer a connection."""
        if self._cluster is None:
            return []
        return peers.unreachable('ps', self._cluster.ps_hosts)

    def _waiting_for_workers(self, error):
        """True when a synchronous call ran out of time while the parameter
        servers answer: it waited for the other workers' batches, which is
        no fault of the network to wait out (sync_updates.py, task.py)."""
        return (self._cluster.sync and
                isinstance(error, tf.errors.DeadlineExceededError) and
                not self._gone())

    def _can_recover(self, error):
        return (self.on_model_lost is not None and
                not getattr(self._in_recovery, 'active', False) and
                any(words in str(error) for words in _MODEL_LOST))

    def _recover(self, error, recoveries):
        """Puts the model back, unless another thread did since the call
        that met `error` began."""
        with self._recovery:
            if self._recoveries != recoveries:
                return
            self._in_recovery.active = True
            try:
                self.on_model_lost(error)
            finally:
                self._in_recovery.active = False
                self._recoveries += 1

    def _say(self, message):
        _print_line('%s: %s' % (self._name.capitalize(), message))


class _Fault(object):
    """The parameter servers stopped answering: wait for them, or give up."""

    def __init__(self, cluster, error, started):
        self._cluster = cluster
        self._started = started
        self._error = error
        self._answering = 0
        self._tries = 0
        self._renewed_at = started
        gone = peers.unreachable('ps', cluster.ps_hosts)
        if gone:
            what = 'lost ' + peers.describe(gone)
        else:
            what = 'the parameter servers do not answer (%s)' % (
                type(error).__name__)
        _print_line('%s: %s; waiting up to %g s.' % (
            cluster.name.capitalize(), what, cluster.timeout))

    def wait(self, error, stop):
        """Sleeps before the next try; raises when it is time to give up.

        Args:
          error: what the last try met.
          stop: the StopRequest, or None.

        Returns:
          True when the next try should go through a new session: the
          parameter servers answer connections, and calls still fail.

        Raises:
          errors.UserError: --cluster_timeout has passed since the fault.
          Stopped: a stop signal came.
        """
        self._error = error
        self._tries += 1
        cluster = self._cluster
        # The clock starts with the call that failed; but the task gives up
        # only after a try made once the fault was seen: a task that was
        # itself paused (SIGSTOP, a suspended machine) past --cluster_timeout
        # finds the time gone before it could try again.
        if (time.time() - self._started > cluster.timeout and
                self._tries > 1):
            gone = peers.unreachable('ps', cluster.ps_hosts)
            if gone:
                what = '%s: gone' % peers.describe(gone)
            else:
                what = ('the parameter servers answer connections but not '
                        'calls (%s: %s)' % (type(self._error).__name__,
                                            errors.tf_reason(self._error)))
            raise errors.UserError(
                '%s: %s for %g s (--cluster_timeout); check that it runs and '
                'the network to it, then start this task again (a supervisor '
                'does: see docs/cluster.md)' % (cluster.name, what,
                                                cluster.timeout))
        deadline = time.time() + _RETRY_SECS
        while time.time() < deadline:
            if stop is not None and stop.requested:
                raise _stopped(cluster.name, peers.unreachable(
                    'ps', cluster.ps_hosts), stop)
            time.sleep(0.05)
        if peers.unreachable('ps', cluster.ps_hosts):
            self._answering = 0
            return False
        self._answering += 1
        if (self._answering < _STALE_TRIES or
                time.time() - self._renewed_at < _RENEW_EVERY_SECS):
            return False
        self._renewed_at = time.time()
        return True

    def end(self):
        _print_line('%s: the parameter servers answer again after %.1f s; '
                    'carrying on.' % (self._cluster.name.capitalize(),
                                      time.time() - self._started))


def _print_line(line):
    """Prints a line in one write. A synchronous chief's update runner and
    its training loop meet a fault at once; print() writes the text and the
    newline apart, and their lines ran into each other."""
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


def _stopped(name, gone, stop):
    """Stopped, saying what the task was waiting for.

    Args:
      name: this task's name ('worker 1').
      gone: peers.unreachable()'s list of the parameter servers.
      stop: the StopRequest.
    """
    waiting = (peers.describe(gone) if gone else
               'the parameter servers, which do not answer')
    return Stopped('%s: stopped by %s while waiting for %s' % (
        name, stop.name, waiting), stop.exit_status)

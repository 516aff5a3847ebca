"""Between-graph training on a cluster, on TensorFlow's own runtime.

TensorFlow 1.x trained on many machines with a tf.train.ClusterSpec, one
tf.train.Server per task and tf.train.replica_device_setter (TensorFlow's
mnist_replica.py). The training loop in fully_connected_feed.py does the same
when it is given a cluster:

  ps tasks      hold the variables and serve them until every worker is done.
  worker tasks  each build the whole graph, with its variables placed on the
                ps tasks, and run the training loop on their own batches.
                Worker 0 is the chief: it initializes the model or restores it
                from the last checkpoint, and alone writes checkpoints and
                summaries. The others wait for it, and may stop and rejoin.

    mnist-tf1-train --ps_hosts=ps0:2222 --worker_hosts=w0:2222,w1:2222 \\
        --job_name=worker --task_index=1 [training flags]

or the cluster and the task from TF_CONFIG. scripts/local_cluster.sh starts
a cluster on this machine.

Asynchronous by default: each worker applies its own gradients. So that the
workers together take exactly --max_steps steps, they take step numbers from
a counter held on the first parameter server; the chief keeps the last step
for itself and takes it after all the others, so that its final checkpoint
and evaluation hold the finished model.

Synchronous with --sync_replicas: a SyncReplicasOptimizer wraps the network's
optimizer, and each update of the global step averages the gradients of
--replicas_to_aggregate batches. Each worker's step is the global step it
computed its batch at. The chief ends with a closing pass whose gradients are
marked stale (so nothing changes) to save and evaluate after the last update.

How a run ends: each worker, when done, puts its task index on a queue on
every parameter server; a parameter server exits when every worker has, or,
once the chief has, after --cluster_timeout more seconds.
"""

import contextlib
import json
import os
import socket
import sys
import time
import traceback

from absl import flags

import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors
from mnist_tf1.platform import device

flags.DEFINE_string('ps_hosts', None,
                    'Cluster: comma-separated host:port of the parameter '
                    'servers.')
flags.DEFINE_string('worker_hosts', None,
                    'Cluster: comma-separated host:port of the workers; the '
                    'first is the chief.')
flags.DEFINE_enum('job_name', None, ['ps', 'worker'],
                  "Cluster: this task's job. Without it (and without "
                  'TF_CONFIG) training runs on this machine alone.')
flags.DEFINE_integer('task_index', 0, "Cluster: this task's index in its job.")
flags.DEFINE_boolean('sync_replicas', False,
                     'Cluster: synchronous training; each update averages '
                     'the gradients of --replicas_to_aggregate batches '
                     '(SyncReplicasOptimizer).')
flags.DEFINE_integer('replicas_to_aggregate', None,
                     'Cluster, with --sync_replicas: batches averaged per '
                     'update (default: the number of workers).')
flags.DEFINE_float('cluster_timeout', 120.0,
                   'Cluster: seconds a task waits for another before giving '
                   "up: a worker for the parameter servers and the chief's "
                   'initialization, a parameter server for the other '
                   'workers once the chief is done.')

TF_CONFIG = 'TF_CONFIG'

# The last step is the chief's, once the others have taken theirs; a step a
# worker took but never finished (it was killed) would keep the chief waiting,
# so it stops waiting when the global step has not moved for this long.
_STALL_SECS = 10.0
# How often a waiting task looks again.
_POLL_SECS = 0.25
# TensorFlow's gRPC client resends a request that met a transient failure;
# a task that had already received it refuses the copy, and the whole run
# fails with AbortedError although nothing is wrong with the cluster. Seen
# once in some twenty kill-and-restart test runs on a loaded 2-core machine.
_DUPLICATE_REQUEST = 'request was received twice'
_DUPLICATE_RETRIES = 3


class Cluster(object):
    """This task's place in the cluster, and what its run has built."""

    def __init__(self, ps_hosts, worker_hosts, job_name, task_index,
                 sync=False, replicas_to_aggregate=None, timeout=120.0):
        self.ps_hosts = list(ps_hosts)
        self.worker_hosts = list(worker_hosts)
        self.job_name = job_name
        self.task_index = task_index
        self.sync = sync
        self.replicas_to_aggregate = (replicas_to_aggregate or
                                      len(self.worker_hosts))
        self.timeout = timeout
        self.spec = tf.train.ClusterSpec({'ps': self.ps_hosts,
                                          'worker': self.worker_hosts})
        self.server = None
        # Built during the run: the SyncReplicasOptimizer (sync_replicas()),
        # the run's own ops and its chief's queue runner (prepare_session()),
        # the number of batches this worker trained on (steps()), and the
        # session it reported done through (_report_done()).
        self.sync_optimizer = None
        self.ops = None
        self.coordinator = None
        self.batches = 0
        self.report_session = None

    @property
    def is_chief(self):
        return self.job_name == 'worker' and self.task_index == 0

    @property
    def name(self):
        """'worker 1', 'ps 0': how messages name this task."""
        return '%s %d' % (self.job_name, self.task_index)


def _hosts(text, what):
    """['host:port', ...] from 'host:port,host:port'; UserError if malformed."""
    hosts = [h.strip() for h in text.split(',') if h.strip()]
    for host in hosts:
        name, _, port = host.rpartition(':')
        if not name or not port.isdigit() or not 0 < int(port) < 65536:
            raise errors.UserError(
                '%s: %r is not host:port; give e.g. localhost:2222' %
                (what, host))
    return hosts


def _from_tf_config(text):
    """(ps_hosts, worker_hosts, job_name, task_index) from TF_CONFIG's JSON.

    TF_CONFIG may name a separate 'chief' job (as tf.estimator did): it is
    worker 0 here, and its 'worker' tasks follow it.
    """
    try:
        config = json.loads(text)
        cluster = config['cluster']
        task = config.get('task', {})
        chief = list(cluster.get('chief', []))
        workers = chief + list(cluster.get('worker', []))
        ps_hosts = list(cluster.get('ps', []))
        task_type = task.get('type')
        task_index = int(task.get('index', 0))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise errors.UserError(
            '%s is not a cluster description (%s: %s); see the README, or '
            'unset it to train on this machine' %
            (TF_CONFIG, type(e).__name__, e))
    if task_type == 'chief':
        return ps_hosts, workers, 'worker', task_index
    if task_type == 'worker':
        return ps_hosts, workers, 'worker', task_index + len(chief)
    if task_type == 'ps':
        return ps_hosts, workers, 'ps', task_index
    raise errors.UserError(
        '%s task type %r is not one this program runs; use ps, worker or '
        'chief' % (TF_CONFIG, task_type))


def from_flags(flag_values, environ=None):
    """This task's Cluster from the flags or TF_CONFIG; None to run alone.

    The flags win when any of --ps_hosts, --worker_hosts, --job_name or
    --task_index is given; else TF_CONFIG is read when set.

    Raises:
      errors.UserError: the description is incomplete or inconsistent.
    """
    environ = os.environ if environ is None else environ
    given = [name for name in ('ps_hosts', 'worker_hosts', 'job_name',
                               'task_index') if flag_values[name].present]
    if given:
        missing = [name for name in ('ps_hosts', 'worker_hosts', 'job_name')
                   if not flag_values[name].value]
        if missing:
            raise errors.UserError(
                'a cluster task needs %s too (given: %s); or leave them all '
                'out to train on this machine' %
                (', '.join('--' + m for m in missing),
                 ', '.join('--' + g for g in given)))
        ps_hosts = _hosts(flag_values.ps_hosts, '--ps_hosts')
        worker_hosts = _hosts(flag_values.worker_hosts, '--worker_hosts')
        job_name, task_index = flag_values.job_name, flag_values.task_index
        source = '--ps_hosts/--worker_hosts'
    elif environ.get(TF_CONFIG, '').strip():
        ps_hosts, worker_hosts, job_name, task_index = _from_tf_config(
            environ[TF_CONFIG])
        source = TF_CONFIG
    else:
        for name in ('sync_replicas', 'replicas_to_aggregate'):
            if flag_values[name].present:
                raise errors.UserError(
                    '--%s is for a cluster: give --ps_hosts, --worker_hosts, '
                    '--job_name and --task_index (or TF_CONFIG) too' % name)
        return None

    if not ps_hosts or not worker_hosts:
        raise errors.UserError(
            '%s: a cluster needs at least one parameter server and one '
            'worker' % source)
    hosts = ps_hosts if job_name == 'ps' else worker_hosts
    if not 0 <= task_index < len(hosts):
        raise errors.UserError(
            'there is no %s task %d: %s lists %d' %
            (job_name, task_index, source, len(hosts)))
    replicas = flag_values.replicas_to_aggregate
    if replicas is not None:
        if not flag_values.sync_replicas:
            raise errors.UserError(
                '--replicas_to_aggregate needs --sync_replicas')
        if replicas < 1:
            raise errors.UserError(
                '--replicas_to_aggregate must be a positive integer')
    if flag_values.cluster_timeout <= 0:
        raise errors.UserError('--cluster_timeout must be positive')
    return Cluster(ps_hosts, worker_hosts, job_name, task_index,
                   sync=flag_values.sync_replicas,
                   replicas_to_aggregate=replicas,
                   timeout=flag_values.cluster_timeout)


def is_chief(cluster):
    """True for the chief, and for a run on this machine alone."""
    return cluster is None or cluster.is_chief


def worker_seed(cluster, seed):
    """The batch-order seed for this worker: each draws its own batches."""
    if cluster is None or seed is None:
        return seed
    return seed + cluster.task_index


class NoSummaries(object):
    """A summary writer for workers other than the chief: writes nothing."""

    def add_summary(self, *unused_args, **unused_kwargs):
        pass

    def add_run_metadata(self, *unused_args, **unused_kwargs):
        pass

    def add_graph(self, *unused_args, **unused_kwargs):
        pass

    def flush(self):
        pass

    def close(self):
        pass


def _report(message):
    """One line on stderr, as errors.run_cli writes it."""
    prog = sys.argv[0].rsplit('/', 1)[-1] if sys.argv else 'mnist-tf1'
    sys.stderr.write('%s: error: %s\n' % (prog, message))


def _one_line(e):
    """The first line of a TensorFlow error, without its decorations."""
    text = getattr(e, 'message', None) or str(e) or type(e).__name__
    lines = [l.strip() for l in text.splitlines()
             if l.strip() and not l.startswith(
                 ('From /job', '=====', 'Graph execution error'))]
    return (lines[0] if lines else type(e).__name__)[:300]


def run_task(cluster, train):
    """Runs this task of the cluster to its end, then exits the process.

    A parameter server serves until the workers are done; a worker calls
    train(). Errors end in one line on stderr and exit status 1.

    The process exits through os._exit as soon as its outcome is known and
    its output flushed: tearing down a process that holds a gRPC server and
    sessions can take seconds, and forever once a parameter server is gone
    (freeing a Session then waits on it). So this never returns, and an error
    is never released before the exit.

    Args:
      cluster: a Cluster, from from_flags().
      train: called with no arguments on a worker; runs the training loop.
    """
    try:
        _start_server(cluster)
        if cluster.job_name == 'ps':
            _serve(cluster)
        else:
            print('%s of %d%s at %s; parameter servers %s; %s training.' % (
                cluster.name.capitalize(), len(cluster.worker_hosts),
                ' (the chief)' if cluster.is_chief else '',
                cluster.worker_hosts[cluster.task_index],
                ','.join(cluster.ps_hosts),
                'synchronous' if cluster.sync else 'asynchronous'))
            sys.stdout.flush()
            train()
            _report_done(cluster)
    except errors.UserError as e:
        _report(e)
        _exit(1)
    except tf.errors.OpError as e:
        _report('%s: the cluster failed (%s: %s); check the other tasks' %
                (cluster.name, type(e).__name__, _one_line(e)))
        _exit(1)
    except KeyboardInterrupt:
        _exit(130)
    except SystemExit as e:
        _exit(e.code if isinstance(e.code, int) else int(e.code is not None))
    except BaseException:  # pylint: disable=broad-except
        traceback.print_exc()
        _exit(1)
    _exit(0)


def _exit(status):
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)  # pylint: disable=protected-access


def _start_server(cluster):
    if cluster.job_name == 'ps':
        # A parameter server only holds variables: no GPU memory for it.
        config = tf.ConfigProto(device_count={'GPU': 0})
    else:
        config = _cluster_config(device.session_config())
    try:
        cluster.server = tf.train.Server(
            cluster.spec, job_name=cluster.job_name,
            task_index=cluster.task_index, config=config, start=True)
    except (tf.errors.OpError, ValueError) as e:
        hosts = cluster.ps_hosts if cluster.job_name == 'ps' else \
            cluster.worker_hosts
        raise errors.UserError(
            '%s: cannot start its server on %s (%s); is the port free?' %
            (cluster.name, hosts[cluster.task_index], _one_line(e)))


def _done_queue(ps_task, num_workers):
    """The queue on a parameter server that workers report done on."""
    with tf.device('/job:ps/task:%d/cpu:0' % ps_task):
        # Every task declares it alike, so they all share one queue.
        return tf.FIFOQueue(max(100, 10 * num_workers), tf.int32, shapes=[()],
                            shared_name='mnist_tf1_done_ps%d' % ps_task,
                            name='done_ps%d' % ps_task)


def _serve(cluster):
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
                    time.sleep(_POLL_SECS)
    print('Parameter server %d: all %d workers are done; stopping.' %
          (cluster.task_index, num_workers))


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


@contextlib.contextmanager
def sync_replicas(cluster):
    """With --sync_replicas, makes the network's optimizer synchronous.

    Every network builds its own optimizer inside its training() and calls
    minimize() on it. While this context is open, that minimize() goes
    through a tf.train.SyncReplicasOptimizer wrapping the network's optimizer,
    so any network trains synchronously without knowing about clusters.

    Raises:
      errors.UserError: the network did not minimize exactly once.
    """
    if cluster is None or not cluster.sync:
        yield
        return
    optimizer_class = tf.train.Optimizer
    minimize = optimizer_class.minimize
    wrapped = []

    def sync_minimize(optimizer, loss, global_step=None, **kwargs):
        if isinstance(optimizer, tf.train.SyncReplicasOptimizer):
            return minimize(optimizer, loss, global_step=global_step, **kwargs)
        sync = tf.train.SyncReplicasOptimizer(
            optimizer,
            replicas_to_aggregate=cluster.replicas_to_aggregate,
            total_num_replicas=len(cluster.worker_hosts))
        wrapped.append(sync)
        return sync.minimize(loss, global_step=global_step, **kwargs)

    optimizer_class.minimize = sync_minimize
    try:
        yield
    finally:
        optimizer_class.minimize = minimize
    if len(wrapped) != 1:
        raise errors.UserError(
            '--sync_replicas needs a network whose training() calls '
            'minimize() once; this one called it %d times' % len(wrapped))
    cluster.sync_optimizer = wrapped[0]
    # The chief never runs it; say so, or TensorFlow logs that at exit.
    _mark_used(cluster.sync_optimizer.ready_for_local_init_op)


def _mark_used(tensor):
    getattr(tensor, 'mark_used', lambda: None)()


def create_session(cluster, config):
    """A Session on this machine, or on the cluster through this worker.

    On a cluster, waits (up to --cluster_timeout) for the parameter servers to
    accept connections, and filters devices so that this worker needs none of
    the other workers.
    """
    if cluster is None:
        return tf.Session(config=config)
    _wait_for_parameter_servers(cluster)
    cluster_config = _cluster_config(config)
    cluster_config.device_filters.extend(
        ['/job:ps', '/job:worker/task:%d' % cluster.task_index])
    return _ClusterSession(cluster.name, cluster.server.target,
                           config=cluster_config)


class _ClusterSession(tf.Session):
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


def _cluster_config(config):
    """A copy of a local session's config that a cluster can take.

    A server needs its inter-op thread pool (device.session_config runs ops
    in the caller's thread, which only a local session can do).
    """
    cluster_config = tf.ConfigProto()
    cluster_config.CopyFrom(config)
    cluster_config.ClearField('inter_op_parallelism_threads')
    return cluster_config


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
                            e.strerror or e, TF_CONFIG))
                time.sleep(_POLL_SECS)


def _report_done(cluster):
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


class _RunOps(object):
    """The ops a cluster run adds to the graph besides the network's."""

    def __init__(self, cluster, global_step):
        num_workers = len(cluster.worker_hosts)
        self.uninitialized = tf.report_uninitialized_variables(
            tf.global_variables())
        _mark_used(self.uninitialized)
        if cluster.sync:
            sync = cluster.sync_optimizer
            # Only the tokens the workers cannot do without: with more, the
            # first worker up would take the first update's batches alone.
            self.init_tokens = sync.get_init_tokens_op(num_tokens=max(
                0, cluster.replicas_to_aggregate - num_workers))
            # The chief's closing pass: its gradients stale, a token to end on.
            local_step = [v for v in tf.local_variables()
                          if v.op.name.endswith('sync_rep_local_step')][0]
            self.closing = [local_step.assign(-1),
                            sync.get_init_tokens_op(num_tokens=1)]
        else:
            # The step counter: a queue that holds one number. Taking a step
            # dequeues it and enqueues the next in one run on the parameter
            # server, so no two workers ever take the same step.
            with tf.device(global_step.device):
                counter = tf.FIFOQueue(1, tf.int64, shapes=[()],
                                       shared_name='mnist_tf1_next_step',
                                       name='next_step')
                self.step = counter.dequeue()
                with tf.control_dependencies([self.step]):
                    self.take_step = [self.step, counter.enqueue(self.step + 1)]
                self.counter_size = counter.size()
                # (An int32 global step, as TensorFlow 1.x's mnist.py
                # made it, counts in the same int64 queue.)
                self.set_counter = counter.enqueue(
                    tf.cast(global_step, tf.int64))


def prepare_session(cluster, sess, global_step, initialize):
    """Readies the model: initialize() here or on the chief; others wait.

    Args:
      cluster: a Cluster, or None on one machine.
      sess: the Session from create_session().
      global_step: the global step variable.
      initialize: restores the model from the last checkpoint or initializes
        it; returns what it restored (None when it initialized).

    Returns:
      What initialize() returned; None on workers other than the chief.

    Raises:
      errors.UserError: a worker waited --cluster_timeout for the chief.
    """
    if cluster is None:
        return initialize()
    cluster.ops = ops = _RunOps(cluster, global_step)
    restored = None
    if cluster.is_chief:
        if not cluster.sync:
            _hold_the_steps(sess, global_step, ops)
        restored = initialize()
    else:
        _wait_for_the_chief(cluster, sess, ops.uninitialized)
    if cluster.sync:
        sync = cluster.sync_optimizer
        if cluster.is_chief:
            sess.run(sync.chief_init_op)
            sess.run(ops.init_tokens)
            # The chief's queue runner aggregates the gradients, updates the
            # variables and hands out the tokens of the next step.
            cluster.coordinator = tf.train.Coordinator()
            sync.get_chief_queue_runner().create_threads(
                sess, coord=cluster.coordinator, daemon=True, start=True)
        else:
            sess.run(sync.local_step_init_op)
    elif cluster.is_chief:
        # Steps go on from the model's (restored) global step.
        sess.run(ops.set_counter)
    return restored


def _hold_the_steps(sess, global_step, ops):
    """A restarted chief: stops the others' steps before it restores.

    The step counter is taken off its queue, so that no worker starts a step,
    and the steps already started are let finish; else they would land on the
    restored model uncounted and the run would overshoot --max_steps.
    """
    if not sess.run(ops.counter_size):
        return  # A new run: nobody is training yet.
    sess.run(ops.step)
    step, quiet_since = sess.run(global_step), time.time()
    while time.time() - quiet_since < 1.0:
        time.sleep(0.05)
        now = sess.run(global_step)
        if now != step:
            step, quiet_since = now, time.time()


def _wait_for_the_chief(cluster, sess, uninitialized):
    deadline = time.time() + cluster.timeout
    while len(sess.run(uninitialized)):
        if time.time() > deadline:
            raise errors.UserError(
                '%s: the chief (worker 0 at %s) has not initialized the model '
                'after %g s; start it, or raise --cluster_timeout' %
                (cluster.name, cluster.worker_hosts[0], cluster.timeout))
        time.sleep(_POLL_SECS)


def steps(cluster, sess, global_step, first_step, max_steps):
    """The steps the training loop takes, in order.

    On one machine: first_step, ..., max_steps - 1. On a cluster, the steps
    this worker takes of the global step's way to max_steps; the chief's last
    is max_steps - 1, taken when every other step is done.

    Args:
      cluster: a Cluster, or None on one machine.
      sess: the Session.
      global_step: the global step variable.
      first_step: the global step the model was restored at (0 if new).
      max_steps: the global step to stop at.

    Returns:
      An iterable of step numbers.
    """
    if cluster is None:
        return range(first_step, max_steps)
    if cluster.sync:
        return _sync_steps(cluster, sess, global_step, first_step, max_steps)
    return _async_steps(cluster, sess, global_step, first_step, max_steps)


def _async_steps(cluster, sess, global_step, first_step, max_steps):
    options = tf.RunOptions(timeout_in_ms=int(cluster.timeout * 1000))
    while True:
        try:
            step, _ = sess.run(cluster.ops.take_step, options=options)
        except tf.errors.DeadlineExceededError:
            raise errors.UserError(
                '%s: no step to take after %g s; is the chief (worker 0 at '
                '%s) running?' % (cluster.name, cluster.timeout,
                                  cluster.worker_hosts[0]))
        if step >= max_steps - 1:
            break
        cluster.batches += 1
        yield step
    if cluster.is_chief and first_step < max_steps:
        if _wait_for_the_others(sess, global_step, max_steps - 1) < max_steps:
            cluster.batches += 1
            yield max_steps - 1


def _wait_for_the_others(sess, global_step, target):
    """Waits until the global step reaches target, or stops moving."""
    step = sess.run(global_step)
    moved = time.time()
    while step < target:
        time.sleep(0.02)
        now = sess.run(global_step)
        if now != step:
            step, moved = now, time.time()
        elif time.time() - moved > _STALL_SECS:
            print('The global step stopped at %d, short of %d: a worker '
                  'stopped in the middle of a step.' % (step, target))
            break
    return step


def _sync_steps(cluster, sess, global_step, first_step, max_steps):
    while True:
        step = sess.run(global_step)
        if step >= max_steps:
            break
        cluster.batches += 1
        if cluster.is_chief and step == max_steps - 1:
            # max_steps - 1 is the closing pass's, below.
            step = max(max_steps - 2, 0)
        yield step
    if cluster.is_chief and first_step < max_steps:
        sess.run(cluster.ops.closing)
        yield max_steps - 1


def finish(cluster, sess, global_step):
    """Ends this worker's training: stops the chief's queue runner and says
    how it went. (run_task reports done once the session is closed.)"""
    if cluster is None:
        return
    if cluster.coordinator is not None:
        cluster.coordinator.request_stop()
    if cluster.sync:
        averaging = ' (each update averages %d batches)' % (
            cluster.replicas_to_aggregate)
    else:
        averaging = ''
    print('%s: trained on %d batches; the global step is %d%s.' % (
        cluster.name.capitalize(), cluster.batches, sess.run(global_step),
        averaging))
    sys.stdout.flush()

"""train_and_evaluate as one task of a TF_CONFIG cluster (TensorFlow 1.x's
between-graph replication, Kubeflow's TFJob), on the project's cluster
runtime (mnist_tf1/cluster/): the same TF_CONFIG reading, servers, bounded
calls and one-line failures as mnist-tf1-train's tasks.

  ps         serves the variables until every worker reports done
             (cluster/parameter_server.py), then the process exits;
  chief      worker 0: initializes or restores the model, trains, saves
             checkpoints and summaries into model_dir; then exits;
  worker     trains on its own batches, its variables on the ps tasks;
             then exits;
  evaluator  outside the cluster: evaluates each new checkpoint in model_dir
             (into model_dir/eval) until one reaches train_spec.max_steps,
             and returns, as on one machine.

A session the parameter servers stop answering is made again (as 1.x's
MonitoredTrainingSession did) for up to the cluster timeout, after one line
naming the peer; then the task ends in one line. The timeout is 120 s, or
RunConfig(session_creation_timeout_secs=...) when given.
"""

import functools
import time

from absl import flags as absl_flags
import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors
from mnist_tf1.cluster import config as cluster_config
from mnist_tf1.cluster import flags as cluster_flags
from mnist_tf1.cluster import peers
from mnist_tf1.cluster import spec as cluster_spec
from mnist_tf1.cluster import task
from mnist_tf1.legacy.estimator import run_config as run_config_lib

_DEFAULT_TIMEOUT_SECS = 120.0
# TensorFlow 1.15's default session_creation_timeout_secs: not given.
_UNSET_TIMEOUT_SECS = 7200
_PEER_AWAY = (tf.errors.AbortedError, tf.errors.UnavailableError)
# Sessions left open because a parameter server was gone: kept from the
# garbage collector, whose freeing would wait on it too.
_LEFT_OPEN = []


def _close(close, cluster):
    """A session's close(), unless a parameter server is gone: closing
    then waits on it without end (the MonitoredSession closes the session a
    lost peer broke before it makes a new one)."""
    if peers.unreachable('ps', cluster.ps_hosts):
        _LEFT_OPEN.append(close)
        return
    close()


def run_task(estimator, train_spec, eval_spec):
    """This task's part; returns only on the evaluator."""
    config = estimator.config
    if config.task_type == run_config_lib.TaskType.EVALUATOR:
        return _evaluate_checkpoints(estimator, train_spec, eval_spec)
    cluster = _cluster(config)
    task.run_task(cluster, lambda: _train(estimator, train_spec, cluster))
    return None, []  # Not reached: run_task exits the process.


def _timeout(config):
    """How long a task waits for another: 120 s, or the RunConfig's
    session_creation_timeout_secs when the program gave one."""
    if config.session_creation_timeout_secs == _UNSET_TIMEOUT_SECS:
        return _DEFAULT_TIMEOUT_SECS
    return config.session_creation_timeout_secs


def _cluster(config):
    """The project's Cluster for this task, from TF_CONFIG."""
    values = absl_flags.FlagValues()
    cluster_flags.define(values)
    values(['train_and_evaluate', '--cluster_timeout=%g' % _timeout(config)])
    return cluster_spec.Cluster.from_flags(values)


def _train(estimator, train_spec, cluster):
    """A worker's training, to train_spec.max_steps; its exit status."""
    max_steps = train_spec.max_steps
    if max_steps is not None and max_steps <= estimator.global_step_on_disk():
        tf.logging.info('Skipping training since max_steps has already '
                        'saved.')
        return 0
    worker_device = '/job:worker/task:%d' % cluster.task_index
    with tf.Graph().as_default() as graph, graph.device(
            tf.train.replica_device_setter(cluster=cluster.spec,
                                           worker_device=worker_device)):
        spec, hooks, chief_hooks = estimator.training_graph(
            train_spec.input_fn, list(train_spec.hooks), None, max_steps, [])
        config = cluster_config.session_config(cluster,
                                               estimator.session_config())
        config.device_filters[:] = ['/job:ps', worker_device]
        scaffold = spec.scaffold
        if cluster.is_chief:
            hooks += chief_hooks + _chief_summary_hooks(estimator, scaffold)
            creator = tf.train.ChiefSessionCreator(
                scaffold=scaffold, master=cluster.server.target,
                config=config, checkpoint_dir=estimator.model_dir)
        else:
            creator = _WorkerSessionCreator(scaffold, cluster.server.target,
                                            config, cluster.timeout)
        # Not closed on a failure: closing waits on a parameter server that
        # is gone; the task's process exits at once instead (task.py).
        session = tf.train.MonitoredSession(
            session_creator=_BoundedCreator(creator, cluster), hooks=hooks)
        loss = None
        try:
            while not session.should_stop():
                _, loss = session.run([spec.train_op, spec.loss])
        except (tf.errors.OutOfRangeError, StopIteration):
            pass  # The input ended: a whole run, as on one machine.
        session.close()
    tf.logging.info('Loss for final step: %s.', loss)
    return 0


def _chief_summary_hooks(estimator, scaffold):
    """What MonitoredTrainingSession gives a chief: global_step/sec and the
    model's summaries, into model_dir."""
    config = estimator.config
    hooks = []
    if config.log_step_count_steps:
        hooks.append(tf.train.StepCounterHook(
            every_n_steps=config.log_step_count_steps,
            output_dir=estimator.model_dir))
    if config.save_summary_steps:
        hooks.append(tf.train.SummarySaverHook(
            save_steps=config.save_summary_steps,
            output_dir=estimator.model_dir, scaffold=scaffold))
    return hooks


class _WorkerSessionCreator(tf.train.SessionCreator):
    """tf.train.WorkerSessionCreator, looking for the chief's model every
    second rather than every 30 (a worker lagged 30 s behind the chief in
    TensorFlow 1.x: tensorflow/tensorflow#11753)."""

    def __init__(self, scaffold, master, config, max_wait_secs):
        self._scaffold = scaffold
        self._master = master
        self._config = config
        self._max_wait_secs = max_wait_secs

    def create_session(self):
        scaffold = self._scaffold
        scaffold.finalize()
        manager = tf.train.SessionManager(
            local_init_op=scaffold.local_init_op,
            local_init_feed_dict=scaffold.local_init_feed_dict,
            ready_op=scaffold.ready_op,
            ready_for_local_init_op=scaffold.ready_for_local_init_op,
            graph=tf.get_default_graph(), recovery_wait_secs=1)
        return manager.wait_for_session(self._master, config=self._config,
                                        max_wait_secs=self._max_wait_secs)


class _BoundedCreator(tf.train.SessionCreator):
    """Makes the session again while the parameter servers are away (the
    MonitoredSession asks again on AbortedError or UnavailableError), for
    up to the cluster's timeout; then one line naming who is gone."""

    def __init__(self, creator, cluster):
        self._creator = creator
        self._cluster = cluster
        self._away_since = None
        self._made = False

    def create_session(self):
        cluster = self._cluster
        if self._made:
            gone = peers.unreachable('ps', cluster.ps_hosts)
            if gone:
                print('%s: %s does not answer; waiting up to %g s.' % (
                    cluster.name.capitalize(), peers.describe(gone),
                    cluster.timeout), flush=True)
        # A session made while a parameter server is away waits for it
        # without end: wait here instead, up to the timeout (one line).
        peers.wait_for_parameter_servers(cluster)
        try:
            session = self._creator.create_session()
        except _PEER_AWAY as e:
            self._wait_or_give_up(e)
            raise
        session.close = functools.partial(_close, session.close, cluster)
        if self._away_since is not None:
            print('%s: the parameter servers answer again; training goes on.'
                  % cluster.name.capitalize(), flush=True)
        self._away_since = None
        self._made = True
        return session

    def _wait_or_give_up(self, error):
        cluster = self._cluster
        gone = peers.unreachable('ps', cluster.ps_hosts)
        what = (peers.describe(gone) if gone else '%s: %s' % (
            type(error).__name__, errors.tf_reason(error, limit=120)))
        now = time.time()
        if self._away_since is None:
            self._away_since = now
            print('%s: %s does not answer; waiting up to %g s.' % (
                cluster.name.capitalize(), what, cluster.timeout),
                  flush=True)
        elif now - self._away_since > cluster.timeout:
            raise errors.UserError(
                '%s: lost %s for %g s; start it again, then this task' % (
                    cluster.name, what, cluster.timeout))
        time.sleep(cluster_config.POLL_SECS)


def _evaluate_checkpoints(estimator, train_spec, eval_spec):
    """The evaluator: each new checkpoint, until max_steps is reached."""
    time.sleep(eval_spec.start_delay_secs or 0)
    timeout = _timeout(estimator.config)
    last = None
    for path in tf.train.checkpoints_iterator(
            estimator.model_dir, min_interval_secs=eval_spec.throttle_secs or 0,
            timeout=timeout):
        try:
            last = estimator.evaluate(eval_spec.input_fn, steps=eval_spec.steps,
                                      hooks=list(eval_spec.hooks),
                                      checkpoint_path=path, name=eval_spec.name)
        except tf.errors.NotFoundError:
            continue  # Deleted meanwhile (keep_checkpoint_max): the next.
        step = int(last[tf.GraphKeys.GLOBAL_STEP])
        if train_spec.max_steps is not None and step >= train_spec.max_steps:
            break
    if last is None:
        raise errors.UserError(
            'evaluator: no checkpoint appeared in %s in %g s; start the '
            'chief, or check model_dir' % (estimator.model_dir, timeout))
    return last, []

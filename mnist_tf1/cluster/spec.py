"""This task's place in a cluster, from the flags or from TF_CONFIG.

A Cluster holds the whole cluster (its parameter servers and workers), this
task's job and index, and how it trains (asynchronous or synchronous, how
long to wait for the others). The training command makes it with
Cluster.from_flags(FLAGS); the modules below it take the Cluster.
"""

import json
import os

import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors

TF_CONFIG = 'TF_CONFIG'


class Cluster(object):
    """This task's place in the cluster, and what its run has built."""

    def __init__(self, ps_hosts, worker_hosts, job_name, task_index,
                 sync=False, replicas_to_aggregate=None, timeout=120.0,
                 ports_closed=False):
        self.ps_hosts = list(ps_hosts)
        self.worker_hosts = list(worker_hosts)
        self.job_name = job_name
        self.task_index = task_index
        self.sync = sync
        self.replicas_to_aggregate = (replicas_to_aggregate or
                                      len(self.worker_hosts))
        self.timeout = timeout
        # --cluster_ports_closed: the user closed them; the task does not
        # say at start that its port is open (exposure.py).
        self.ports_closed = ports_closed
        self.spec = tf.train.ClusterSpec({'ps': self.ps_hosts,
                                          'worker': self.worker_hosts})
        # Built during the run: the task's server (task.py); the step gate or
        # the synchronous training's ops (optimizer.cluster_minimize()); the
        # run's own ops, how the chief initializes the model and its update
        # runner (steps.prepare_session()); the session it reported done
        # through (parameter_server.report_done()).
        self.server = None
        self.gate = None
        self.sync_training = None
        self.ops = None
        self.initialize = None
        self.update_runner = None
        self.report_session = None
        # The step this task trains to (steps.prepare_session()); on a
        # worker other than the chief, the chief's, as it published it
        # (run_info.py).
        self.max_steps = None
        self.chief_max_steps = None

    @classmethod
    def from_flags(cls, flag_values, environ=None):
        """This task's Cluster from the flags or TF_CONFIG; None to run alone.

        The flags win when any of --ps_hosts, --worker_hosts, --job_name or
        --task_index is given; else TF_CONFIG is read when set.

        Args:
          flag_values: the training command's parsed flags (flags.define()).
          environ: the environment to read TF_CONFIG from (os.environ).

        Raises:
          errors.UserError: the description is incomplete or inconsistent.
        """
        return _from_flags(flag_values, environ)

    @property
    def is_chief(self):
        return self.job_name == 'worker' and self.task_index == 0

    @property
    def name(self):
        """'worker 1', 'ps 0': how messages name this task."""
        return '%s %d' % (self.job_name, self.task_index)


def _hosts(text, what):
    """['host:port', ...] from 'host:port,host:port'; UserError if bad."""
    return _checked([h.strip() for h in text.split(',') if h.strip()], what)


def _checked(hosts, what):
    """hosts, each a 'host:port' string; UserError naming the first that is
    not."""
    for host in hosts:
        name, _, port = (host.rpartition(':') if isinstance(host, str)
                         else ('', '', ''))
        if not name or not port.isdigit() or not 0 < int(port) < 65536:
            raise errors.UserError(
                '%s: %r is not host:port; give e.g. localhost:2222' %
                (what, host))
    return hosts


def _job(cluster, job):
    """TF_CONFIG's host list for `job` (none: []), each host checked."""
    hosts = cluster.get(job, [])
    if not isinstance(hosts, list):
        raise errors.UserError(
            '%s: cluster %r is %r, not a list of host:port; give e.g. '
            '["localhost:2222"]' % (TF_CONFIG, job, hosts))
    return _checked(hosts, '%s cluster %r' % (TF_CONFIG, job))


def _from_tf_config(text):
    """(ps_hosts, worker_hosts, job_name, task_index) from TF_CONFIG's JSON.

    TF_CONFIG may name a separate 'chief' job (as tf.estimator did): it is
    worker 0 here, and its 'worker' tasks follow it.
    """
    try:
        config = json.loads(text)
        cluster = config['cluster']
        task = config.get('task', {})
        chief = _job(cluster, 'chief')
        workers = chief + _job(cluster, 'worker')
        ps_hosts = _job(cluster, 'ps')
        task_type = task.get('type')
        task_index = int(task.get('index', 0))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise errors.UserError(
            '%s is not a cluster description (%s: %s); see the README, or '
            'unset it to train on this machine' %
            (TF_CONFIG, type(e).__name__, e))
    if len(chief) > 1 or (task_type == 'chief' and task_index != 0):
        raise errors.UserError(
            '%s: a cluster has one chief, task 0 (here %d chief hosts, this '
            'task %s %d); list the others as workers' %
            (TF_CONFIG, len(chief), task_type, task_index))
    if task_type == 'chief':
        return ps_hosts, workers, 'worker', task_index
    if task_type == 'worker':
        return ps_hosts, workers, 'worker', task_index + len(chief)
    if task_type == 'ps':
        return ps_hosts, workers, 'ps', task_index
    raise errors.UserError(
        '%s task type %r is not one this program runs; use ps, worker or '
        'chief' % (TF_CONFIG, task_type))


def _from_flags(flag_values, environ=None):
    """Cluster.from_flags()."""
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
                   timeout=flag_values.cluster_timeout,
                   ports_closed=flag_values.cluster_ports_closed)


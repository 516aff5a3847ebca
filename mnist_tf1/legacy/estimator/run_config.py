"""RunConfig: where an Estimator writes and how often (TensorFlow 1.15's
fields and defaults), and this task's place from TF_CONFIG."""

import json
import os

import tensorflow.compat.v1 as tf

from mnist_tf1.legacy.estimator import model_fn as model_fn_lib

_DEFAULT_SAVE_SECS = 600


class TaskType(object):
    MASTER = 'master'
    PS = 'ps'
    WORKER = 'worker'
    CHIEF = 'chief'
    EVALUATOR = 'evaluator'


class RunConfig(object):
    """How an Estimator runs: its model_dir, seed, save and log schedule,
    session config; on a cluster (TF_CONFIG) this task's type and index."""

    def __init__(self, model_dir=None, tf_random_seed=None,
                 save_summary_steps=100, save_checkpoints_steps=None,
                 save_checkpoints_secs=None, session_config=None,
                 keep_checkpoint_max=5, keep_checkpoint_every_n_hours=10000,
                 log_step_count_steps=100, train_distribute=None,
                 device_fn=None, protocol=None, eval_distribute=None,
                 experimental_distribute=None,
                 experimental_max_worker_delay_secs=None,
                 session_creation_timeout_secs=7200):
        del protocol, experimental_max_worker_delay_secs  # As 1.15's gRPC.
        if train_distribute or eval_distribute or experimental_distribute:
            raise model_fn_lib.EstimatorError(
                'RunConfig: distribution strategies are not provided here; '
                'leave train_distribute/eval_distribute out (a TF_CONFIG '
                'cluster trains between-graph, as TensorFlow 1.x did)')
        if save_checkpoints_steps and save_checkpoints_secs:
            raise model_fn_lib.EstimatorError(
                'RunConfig: give save_checkpoints_steps or '
                'save_checkpoints_secs, not both')
        if not save_checkpoints_steps and save_checkpoints_secs is None:
            save_checkpoints_secs = _DEFAULT_SAVE_SECS
        self.model_dir = model_dir
        self.tf_random_seed = tf_random_seed
        self.save_summary_steps = save_summary_steps
        self.save_checkpoints_steps = save_checkpoints_steps
        self.save_checkpoints_secs = save_checkpoints_secs
        self.session_config = session_config
        self.keep_checkpoint_max = keep_checkpoint_max
        self.keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self.log_step_count_steps = log_step_count_steps
        self.device_fn = device_fn
        self.session_creation_timeout_secs = session_creation_timeout_secs
        self.train_distribute = self.eval_distribute = None
        self._read_tf_config()

    def _read_tf_config(self):
        """task_type, task_id, cluster_spec, ... as 1.15 read them."""
        text = os.environ.get('TF_CONFIG', '').strip()
        config = {}
        if text:
            try:
                config = json.loads(text)
            except ValueError as e:
                raise model_fn_lib.EstimatorError(
                    'TF_CONFIG is not JSON (%s); unset it to run on this '
                    'machine' % e)
        task = config.get('task') or {}
        cluster = config.get('cluster') or {}
        self.cluster_spec = tf.train.ClusterSpec(cluster)
        self.task_type = task.get('type', TaskType.WORKER)
        self.task_id = int(task.get('index', 0))
        self.num_ps_replicas = len(cluster.get('ps', []))
        self.num_worker_replicas = (len(cluster.get('worker', [])) +
                                    len(cluster.get('chief', []))) or 1
        self.is_chief = (self.task_type == TaskType.CHIEF or
                         (self.task_type == TaskType.WORKER and
                          'chief' not in cluster and self.task_id == 0))
        self.master = ''
        self.evaluation_master = ''
        self.global_id_in_cluster = 0

    @property
    def is_cluster_task(self):
        """True when TF_CONFIG names a cluster this task is part of."""
        return bool(self.cluster_spec.as_dict())

    def replace(self, **kwargs):
        """A copy with these fields changed, as 1.15's replace()."""
        fields = dict(model_dir=self.model_dir,
                      tf_random_seed=self.tf_random_seed,
                      save_summary_steps=self.save_summary_steps,
                      save_checkpoints_steps=self.save_checkpoints_steps,
                      save_checkpoints_secs=self.save_checkpoints_secs,
                      session_config=self.session_config,
                      keep_checkpoint_max=self.keep_checkpoint_max,
                      keep_checkpoint_every_n_hours=(
                          self.keep_checkpoint_every_n_hours),
                      log_step_count_steps=self.log_step_count_steps,
                      device_fn=self.device_fn,
                      session_creation_timeout_secs=(
                          self.session_creation_timeout_secs))
        if ('save_checkpoints_steps' in kwargs and
                'save_checkpoints_secs' not in kwargs):
            fields['save_checkpoints_secs'] = None
        if ('save_checkpoints_secs' in kwargs and
                'save_checkpoints_steps' not in kwargs):
            fields['save_checkpoints_steps'] = None
        fields.update(kwargs)
        return RunConfig(**fields)

    def __repr__(self):
        shown = ('model_dir', 'tf_random_seed', 'save_summary_steps',
                 'save_checkpoints_steps', 'save_checkpoints_secs',
                 'keep_checkpoint_max', 'keep_checkpoint_every_n_hours',
                 'log_step_count_steps', 'task_type', 'task_id', 'is_chief',
                 'num_ps_replicas', 'num_worker_replicas')
        return '{%s}' % ', '.join("'_%s': %r" % (k, getattr(self, k))
                                  for k in shown)

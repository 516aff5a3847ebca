"""TrainSpec, EvalSpec and train_and_evaluate (TensorFlow 1.15's).

On this machine, train_and_evaluate trains to train_spec.max_steps and
evaluates each checkpoint saved at least throttle_secs after the last
evaluation, and the last one. With TF_CONFIG naming a cluster, each task
does its part (cluster_training.py): parameter servers serve, the chief and
the workers train, the evaluator evaluates the chief's checkpoints.
"""

import collections
import time

import tensorflow.compat.v1 as tf

from mnist_tf1.legacy.estimator import estimator as estimator_lib
from mnist_tf1.legacy.estimator import model_fn as model_fn_lib

EstimatorError = model_fn_lib.EstimatorError


class TrainSpec(collections.namedtuple('TrainSpec',
                                       ['input_fn', 'max_steps', 'hooks'])):
    """How train_and_evaluate trains: input_fn, max_steps (None: until the
    input ends), hooks."""

    def __new__(cls, input_fn, max_steps=None, hooks=None):
        if not callable(input_fn):
            raise EstimatorError('TrainSpec: input_fn must be a function')
        if max_steps is not None and max_steps <= 0:
            raise EstimatorError('TrainSpec: max_steps must be > 0, given: %s'
                                 % max_steps)
        return super().__new__(cls, input_fn, max_steps,
                               tuple(model_fn_lib.check_hooks(hooks)))


class EvalSpec(collections.namedtuple('EvalSpec', [
        'input_fn', 'steps', 'name', 'hooks', 'exporters', 'start_delay_secs',
        'throttle_secs'])):
    """How train_and_evaluate evaluates: input_fn, steps (None: until the
    input ends), name, hooks, start_delay_secs, throttle_secs."""

    def __new__(cls, input_fn, steps=100, name=None, hooks=None,
                exporters=None, start_delay_secs=120, throttle_secs=600):
        if not callable(input_fn):
            raise EstimatorError('EvalSpec: input_fn must be a function')
        if steps is not None and steps <= 0:
            raise EstimatorError('EvalSpec: steps must be > 0, given: %s' %
                                 steps)
        if exporters:
            raise EstimatorError(
                'EvalSpec: exporters are not provided here; call '
                'estimator.export_saved_model after train_and_evaluate')
        return super().__new__(cls, input_fn, steps, name,
                               tuple(model_fn_lib.check_hooks(hooks)),
                               (), start_delay_secs, throttle_secs)


def train_and_evaluate(estimator, train_spec, eval_spec):
    """Trains and evaluates, here or as this TF_CONFIG task's part.

    Returns:
      (the last evaluation's metrics, []) where this task evaluated last
      (this machine, the evaluator); on a cluster's other tasks the process
      exits when its part is done.
    """
    if not isinstance(estimator, estimator_lib.Estimator):
        raise EstimatorError('train_and_evaluate takes a tf.estimator.'
                             'Estimator, not %s' % type(estimator).__name__)
    if not isinstance(train_spec, TrainSpec) or not isinstance(
            eval_spec, EvalSpec):
        raise EstimatorError('train_and_evaluate takes a tf.estimator.'
                             'TrainSpec and a tf.estimator.EvalSpec')
    if estimator.config.is_cluster_task:
        from mnist_tf1.legacy.estimator import cluster_training  # pylint: disable=g-import-not-at-top
        return cluster_training.run_task(estimator, train_spec, eval_spec)
    return _train_and_evaluate_here(estimator, train_spec, eval_spec)


def _train_and_evaluate_here(estimator, train_spec, eval_spec):
    listener = _EvaluateAfterSave(estimator, eval_spec, train_spec.max_steps)
    estimator.train(train_spec.input_fn, hooks=list(train_spec.hooks),
                    max_steps=train_spec.max_steps,
                    saving_listeners=[listener])
    if listener.last is None or listener.evaluated_step != (
            estimator.global_step_on_disk()):
        listener.evaluate()
    return listener.last, []


class _EvaluateAfterSave(tf.train.CheckpointSaverListener):
    """Evaluates a new checkpoint when throttle_secs have passed."""

    def __init__(self, estimator, eval_spec, max_steps):
        self._estimator = estimator
        self._spec = eval_spec
        self._max_steps = max_steps
        self._next = time.time() + (eval_spec.throttle_secs or 0)
        self.last = None
        self.evaluated_step = None

    def after_save(self, session, global_step_value):
        if global_step_value and (time.time() >= self._next or
                                  global_step_value == self._max_steps):
            self.evaluate()

    def evaluate(self):
        spec = self._spec
        self.last = self._estimator.evaluate(spec.input_fn, steps=spec.steps,
                                             hooks=list(spec.hooks),
                                             name=spec.name)
        self.evaluated_step = int(self.last[tf.GraphKeys.GLOBAL_STEP])
        self._next = time.time() + (spec.throttle_secs or 0)

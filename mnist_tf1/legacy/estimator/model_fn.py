"""ModeKeys and EstimatorSpec: what a model_fn is called with and returns.

A model_fn(features, labels, mode, params, config) builds the graph for one
mode and returns an EstimatorSpec. What TensorFlow 1.15 refused, this
refuses too, in one line that says what to write (a UserValueError, still a
ValueError for a program that catches one).
"""

import collections

import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors


class ModeKeys(object):
    """The mode a model_fn builds its graph for."""
    TRAIN = 'train'
    EVAL = 'eval'
    PREDICT = 'infer'


class EstimatorError(errors.UserValueError):
    """A program's Estimator, model_fn or input_fn used wrongly: one line."""


_FIELDS = ('mode', 'predictions', 'loss', 'train_op', 'eval_metric_ops',
           'export_outputs', 'training_chief_hooks', 'training_hooks',
           'scaffold', 'evaluation_hooks', 'prediction_hooks')


class EstimatorSpec(collections.namedtuple('EstimatorSpec', _FIELDS)):
    """What a model_fn returns: the ops of its mode (TensorFlow 1.15's)."""

    def __new__(cls, mode, predictions=None, loss=None, train_op=None,
                eval_metric_ops=None, export_outputs=None,
                training_chief_hooks=None, training_hooks=None, scaffold=None,
                evaluation_hooks=None, prediction_hooks=None):
        if mode not in (ModeKeys.TRAIN, ModeKeys.EVAL, ModeKeys.PREDICT):
            raise EstimatorError(
                'EstimatorSpec mode %r is not a tf.estimator.ModeKeys; pass '
                'the mode your model_fn was called with' % (mode,))
        if mode == ModeKeys.TRAIN and (loss is None or train_op is None):
            raise EstimatorError(
                'EstimatorSpec for TRAIN has no %s; give it loss= and '
                'train_op= (optimizer.minimize(loss, global_step=...))' %
                ('loss or train_op' if loss is None and train_op is None else
                 'loss' if loss is None else 'train_op'))
        if mode == ModeKeys.EVAL and loss is None:
            raise EstimatorError('EstimatorSpec for EVAL has no loss; give '
                                 'it loss=')
        if mode == ModeKeys.PREDICT and predictions is None:
            raise EstimatorError('EstimatorSpec for PREDICT has no '
                                 'predictions; give it predictions=')
        if loss is not None:
            loss = _scalar_loss(loss)
        for name, metric in (eval_metric_ops or {}).items():
            if not (isinstance(metric, tuple) and len(metric) == 2):
                raise EstimatorError(
                    'eval_metric_ops[%r] is not a (value, update_op) pair; '
                    'use a tf.metrics function, e.g. tf.metrics.accuracy' %
                    (name,))
        hooks = {}
        for field, value in (('training_chief_hooks', training_chief_hooks),
                             ('training_hooks', training_hooks),
                             ('evaluation_hooks', evaluation_hooks),
                             ('prediction_hooks', prediction_hooks)):
            hooks[field] = tuple(check_hooks(value, field))
        return super().__new__(
            cls, mode, predictions, loss, train_op, eval_metric_ops or {},
            export_outputs, scaffold=scaffold or tf.train.Scaffold(), **hooks)

    def _replace(self, **kwds):
        return EstimatorSpec(**dict(self._asdict(), **kwds))


def _scalar_loss(loss):
    """loss as a scalar tensor; a [1] or [1, 1] one is reshaped as 1.15 did."""
    loss = tf.convert_to_tensor(loss)
    shape = loss.shape
    if shape.ndims is not None and shape.num_elements() == 1 and shape.ndims:
        return tf.reshape(loss, [])
    if shape.ndims not in (None, 0):
        raise EstimatorError(
            'loss must be a scalar, not shape %s; reduce it, e.g. '
            'tf.reduce_mean or tf.losses.sparse_softmax_cross_entropy' % shape)
    return loss


def check_hooks(hooks, what='hooks'):
    """hooks as a list of SessionRunHooks; one line for anything else."""
    hooks = list(hooks or [])
    for hook in hooks:
        if not isinstance(hook, tf.train.SessionRunHook):
            raise EstimatorError(
                '%s must be tf.train.SessionRunHook objects, not %s' % (
                    what, type(hook).__name__))
    return hooks


def checked_spec(spec, mode, model_fn):
    """The model_fn's result, refused in one line unless an EstimatorSpec."""
    name = getattr(model_fn, '__name__', 'model_fn')
    name = 'model_fn' if name == 'model_fn' else 'model_fn ' + name
    if not isinstance(spec, EstimatorSpec):
        raise EstimatorError(
            '%s returned %s, not a tf.estimator.EstimatorSpec; end it with '
            'return tf.estimator.EstimatorSpec(mode=mode, ...)' % (
                name, type(spec).__name__))
    if spec.mode != mode:
        raise EstimatorError(
            '%s was called for mode %r but its EstimatorSpec says %r; pass '
            'mode=mode' % (name, mode, spec.mode))
    return spec

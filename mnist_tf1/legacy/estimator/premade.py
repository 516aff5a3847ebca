"""Premade DNNClassifier and LinearClassifier over tf.feature_column, as
TensorFlow 1.15's tf.estimator had them (its v1 classes: the training loss
summed over the batch; Adagrad at 0.05 for the DNN, Ftrl at 0.2 for the
linear model; variables named 'dnn/hiddenlayer_0/kernel',
'linear/linear_model/x/weights', ...).

The graph is written with tf.compat.v1 ops (no Keras), so they run whether
or not Keras 2 is installed.
"""

import math

import numpy as np
import tensorflow.compat.v1 as tf

from mnist_tf1.legacy.estimator import estimator as estimator_lib
from mnist_tf1.legacy.estimator import export as export_lib
from mnist_tf1.legacy.estimator import model_fn as model_fn_lib

ModeKeys = model_fn_lib.ModeKeys
EstimatorError = model_fn_lib.EstimatorError

_OPTIMIZERS = {
    'Adagrad': tf.train.AdagradOptimizer,
    'Adam': tf.train.AdamOptimizer,
    'Ftrl': tf.train.FtrlOptimizer,
    'RMSProp': tf.train.RMSPropOptimizer,
    'SGD': tf.train.GradientDescentOptimizer,
}


def _optimizer(optimizer, learning_rate, who):
    """An optimizer from a name, an instance or a function returning one."""
    if isinstance(optimizer, str):
        if optimizer not in _OPTIMIZERS:
            raise EstimatorError('%s: optimizer %r is not one of %s; or pass '
                                 'an instance, e.g. tf.train.AdamOptimizer()'
                                 % (who, optimizer, ', '.join(_OPTIMIZERS)))
        return _OPTIMIZERS[optimizer](learning_rate=learning_rate)
    if callable(optimizer) and not isinstance(optimizer, tf.train.Optimizer):
        optimizer = optimizer()
    if not isinstance(optimizer, tf.train.Optimizer):
        raise EstimatorError('%s: optimizer must be a name or a tf.train.'
                             'Optimizer, not %s' % (who,
                                                    type(optimizer).__name__))
    return optimizer


def _dense_input(features, columns, who):
    """input_layer of the columns; one line when a feature does not fit."""
    if not isinstance(features, dict):
        features = {'x': features} if len(columns) == 1 and getattr(
            columns[0], 'key', None) == 'x' else features
    if not isinstance(features, dict):
        raise EstimatorError('%s: input_fn must give features as a dict of '
                             'tensors keyed by the columns\' names' % who)
    for column in columns:
        key = getattr(column, 'key', None)
        if key is None:
            continue
        if key not in features:
            raise EstimatorError(
                "%s: input_fn gives no feature %r for its column (it gives "
                "%s)" % (who, key, ', '.join(map(repr, sorted(features)))))
        shape = getattr(column, 'shape', None)
        given = tf.convert_to_tensor(features[key]).shape
        if shape is not None and given.ndims and given[1:].is_fully_defined():
            if int(np.prod(given.as_list()[1:])) != int(np.prod(shape)):
                raise EstimatorError(
                    '%s: feature %r has shape %s per example, its '
                    'numeric_column says %s; give the column that shape' % (
                        who, key, given.as_list()[1:], list(shape)))
    dense = [c if hasattr(c, 'variable_shape') else
             tf.feature_column.indicator_column(c) for c in columns]
    return tf.feature_column.input_layer(features, dense)


def _head(logits, labels, mode, n_classes, optimizer, who):
    """The classification head: predictions, loss, metrics, train_op."""
    if n_classes == 2:
        logistic = tf.sigmoid(logits)
        probabilities = tf.concat([1 - logistic, logistic], axis=1)
        class_ids = tf.cast(logits > 0, tf.int64)
    else:
        probabilities = tf.nn.softmax(logits)
        class_ids = tf.expand_dims(tf.argmax(logits, axis=1), -1)
    predictions = {'logits': logits, 'probabilities': probabilities,
                   'class_ids': class_ids, 'classes': tf.as_string(class_ids)}
    if n_classes == 2:
        predictions['logistic'] = logistic
    if mode == ModeKeys.PREDICT:
        names = tf.as_string(tf.range(n_classes))
        classes = tf.tile(tf.expand_dims(names, 0),
                          [tf.shape(logits)[0], 1])
        classification = export_lib.ClassificationOutput(
            scores=probabilities, classes=classes)
        return model_fn_lib.EstimatorSpec(
            mode, predictions=predictions, export_outputs={
                'serving_default': classification,
                'classification': classification,
                'predict': export_lib.PredictOutput(predictions)})
    if labels is None:
        raise EstimatorError('%s: input_fn gives no labels; return '
                             '(features, labels) to train or evaluate' % who)
    labels = tf.reshape(tf.cast(labels, tf.int64), [-1, 1])
    if n_classes == 2:
        unreduced = tf.nn.sigmoid_cross_entropy_with_logits(
            labels=tf.cast(labels, tf.float32), logits=logits)
    else:
        unreduced = tf.expand_dims(
            tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf.reshape(labels, [-1]), logits=logits), -1)
    loss = tf.reduce_sum(unreduced)
    if mode == ModeKeys.EVAL:
        metrics = {'accuracy': tf.metrics.accuracy(labels, class_ids),
                   'average_loss': tf.metrics.mean(unreduced)}
        if n_classes == 2:
            metrics.update(
                auc=tf.metrics.auc(labels, logistic),
                precision=tf.metrics.precision(labels, class_ids),
                recall=tf.metrics.recall(labels, class_ids))
        return model_fn_lib.EstimatorSpec(mode, predictions=predictions,
                                          loss=loss, eval_metric_ops=metrics)
    tf.summary.scalar('loss', loss)
    tf.summary.scalar('average_loss', tf.reduce_mean(unreduced))
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train_op = optimizer.minimize(
            loss, global_step=tf.train.get_global_step())
    return model_fn_lib.EstimatorSpec(mode, predictions=predictions,
                                      loss=loss, train_op=train_op)


def _dense(inputs, units, name, activation=None):
    """A fully connected layer: kernel (Glorot uniform) and bias, as
    tf.layers.dense made them."""
    with tf.variable_scope(name):
        kernel = tf.get_variable('kernel', [inputs.shape[1].value, units],
                                 initializer=tf.glorot_uniform_initializer())
        bias = tf.get_variable('bias', [units],
                               initializer=tf.zeros_initializer())
        outputs = tf.nn.bias_add(tf.matmul(inputs, kernel), bias)
        return activation(outputs) if activation else outputs


def _check_common(n_classes, weight_column, label_vocabulary, who):
    if not isinstance(n_classes, int) or n_classes < 2:
        raise EstimatorError('%s: n_classes must be an integer >= 2, given: '
                             '%r' % (who, n_classes))
    if weight_column is not None or label_vocabulary is not None:
        raise EstimatorError(
            '%s: weight_column and label_vocabulary are not provided here; '
            'give integer labels 0..n_classes-1' % who)


class DNNClassifier(estimator_lib.Estimator):
    """A fully connected network over feature columns, as 1.15's."""

    def __init__(self, hidden_units, feature_columns, model_dir=None,
                 n_classes=2, weight_column=None, label_vocabulary=None,
                 optimizer='Adagrad', activation_fn=tf.nn.relu, dropout=None,
                 input_layer_partitioner=None, config=None,
                 warm_start_from=None, loss_reduction=None, batch_norm=False):
        del input_layer_partitioner, loss_reduction  # 1.15: SUM.
        who = 'DNNClassifier'
        _check_common(n_classes, weight_column, label_vocabulary, who)
        if batch_norm:
            raise EstimatorError('%s: batch_norm is not provided here' % who)
        columns = list(feature_columns)
        hidden_units = list(hidden_units)

        def _model_fn(features, labels, mode):
            with tf.variable_scope('dnn'):
                with tf.variable_scope('input_from_feature_columns'):
                    net = _dense_input(features, columns, who)
                for i, units in enumerate(hidden_units):
                    net = _dense(net, units, 'hiddenlayer_%d' % i,
                                 activation_fn)
                    if dropout and mode == ModeKeys.TRAIN:
                        net = tf.nn.dropout(net, rate=dropout)
                logits = _dense(net, 1 if n_classes == 2 else n_classes,
                                'logits')
            return _head(logits, labels, mode, n_classes, None if
                         mode != ModeKeys.TRAIN else
                         _optimizer(optimizer, 0.05, who), who)

        super().__init__(_model_fn, model_dir=model_dir, config=config,
                         warm_start_from=warm_start_from)


class LinearClassifier(estimator_lib.Estimator):
    """A linear model over feature columns, as 1.15's."""

    def __init__(self, feature_columns, model_dir=None, n_classes=2,
                 weight_column=None, label_vocabulary=None, optimizer='Ftrl',
                 config=None, partitioner=None, warm_start_from=None,
                 loss_reduction=None, sparse_combiner='sum'):
        del partitioner, loss_reduction, sparse_combiner
        who = 'LinearClassifier'
        _check_common(n_classes, weight_column, label_vocabulary, who)
        columns = list(feature_columns)
        learning_rate = min(0.2, 1.0 / math.sqrt(len(columns)))
        units = 1 if n_classes == 2 else n_classes

        def _model_fn(features, labels, mode):
            with tf.variable_scope('linear'), tf.variable_scope(
                    'linear_model'):
                logits = tf.get_variable('bias_weights', [units],
                                         initializer=tf.zeros_initializer())
                for column in columns:
                    inputs = _dense_input(features, [column], who)
                    with tf.variable_scope(column.name):
                        weights = tf.get_variable(
                            'weights', [inputs.shape[1].value, units],
                            initializer=tf.zeros_initializer())
                    logits = logits + tf.matmul(inputs, weights)
            return _head(logits, labels, mode, n_classes, None if
                         mode != ModeKeys.TRAIN else
                         _optimizer(optimizer, learning_rate, who), who)

        super().__init__(_model_fn, model_dir=model_dir, config=config,
                         warm_start_from=warm_start_from)

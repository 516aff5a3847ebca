"""tf.contrib functions whose successors take other arguments: each takes the
1.x arguments and calls what TensorFlow's upgrade script wrote instead
(contrib_renames.FUNCTIONS lists them).

The initializers and regularizers stay out of Keras, as the upgrade
script's tf.keras ones would not: a program that only wanted Xavier's
initializer needs no tf_keras for it.
"""

import importlib

from mnist_tf1 import input_data
from mnist_tf1.legacy import removed_names


def _tf():
    return importlib.import_module('tensorflow.compat.v1')


class UnknownDataset(removed_names.Removed, ValueError):
    """load_dataset() of a data set other than MNIST (a ValueError, as the
    original raised for a name it did not know)."""


def xavier_initializer(uniform=True, seed=None, dtype=None):
    """tf.contrib.layers.xavier_initializer: Glorot's initializer, uniform
    or truncated normal, scale 1 over the mean of fan-in and fan-out."""
    tf = _tf()
    return tf.variance_scaling_initializer(
        scale=1.0, mode='fan_avg',
        distribution='uniform' if uniform else 'truncated_normal',
        seed=seed, dtype=dtype or tf.float32)


def variance_scaling_initializer(factor=2.0, mode='FAN_IN', uniform=False,
                                 seed=None, dtype=None):
    """tf.contrib.layers.variance_scaling_initializer (He's by default)."""
    tf = _tf()
    if mode not in ('FAN_IN', 'FAN_OUT', 'FAN_AVG'):
        raise TypeError('Unknown mode %s [FAN_IN, FAN_OUT, FAN_AVG]' % mode)
    return tf.variance_scaling_initializer(
        scale=factor, mode=mode.lower(),
        distribution='uniform' if uniform else 'truncated_normal',
        seed=seed, dtype=dtype or tf.float32)


def _regularizer(scale, name, penalty):
    if scale < 0.0:
        raise ValueError('Setting a scale less than 0 on a regularizer: %g'
                         % scale)
    if scale == 0.0:
        return lambda _: None  # As 1.x: no term in the loss at all.

    def regularize(weights):
        tf = _tf()
        with tf.name_scope(None, name, [weights]) as scope:
            return tf.multiply(tf.cast(scale, weights.dtype.base_dtype),
                               penalty(tf, weights), name=scope)
    return regularize


def l1_regularizer(scale, scope=None):
    """tf.contrib.layers.l1_regularizer: scale * sum(|weights|)."""
    return _regularizer(scale, scope or 'l1_regularizer',
                        lambda tf, w: tf.reduce_sum(tf.abs(w)))


def l2_regularizer(scale, scope=None):
    """tf.contrib.layers.l2_regularizer: scale * sum(weights ** 2) / 2."""
    return _regularizer(scale, scope or 'l2_regularizer',
                        lambda tf, w: tf.nn.l2_loss(w))


def always_record_summaries():
    """tf.contrib.summary.always_record_summaries, a context manager."""
    return _tf().compat.v2.summary.record_if(True)


def never_record_summaries():
    """tf.contrib.summary.never_record_summaries, a context manager."""
    return _tf().compat.v2.summary.record_if(False)


def load_dataset(name, size='small', test_with_fake_data=False):
    """tf.contrib.learn.datasets.load_dataset: MNIST from this project's
    input_data (in 1.x, the same module behind it), in 'MNIST-data'.

    Raises:
      UnknownDataset: for the other data sets it knew (iris, boston,
        dbpedia), which this project does not have.
    """
    del size, test_with_fake_data  # Only dbpedia's loader read them.
    if name == 'mnist':
        return input_data.load_mnist()
    raise UnknownDataset(
        "tf.contrib.learn.datasets.load_dataset(%r): only 'mnist' is here "
        '(this project is about MNIST); load that data set with numpy '
        'or tf.data' % name)

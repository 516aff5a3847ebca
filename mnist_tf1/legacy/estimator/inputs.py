"""tf.estimator.inputs.numpy_input_fn: batches of numpy arrays, fed from
Python.

TensorFlow 1.15 fed its numpy_input_fn's queue from a Python thread, so that
the arrays never became part of the graph. Here each batch is fed into
placeholders with the step's own Session.run, by a hook the Estimator adds
(FeedHook): the graph holds no copy of the data (MNIST's 172 MB as graph
constants would go into graph.pbtxt, every .meta and the events), and a step
costs what a feed_dict step costs. The input ends (OutOfRangeError, as 1.15's
queue did) after num_epochs passes; num_epochs=None feeds forever.
"""

import weakref

import numpy as np
import tensorflow.compat.v1 as tf

from mnist_tf1.legacy.estimator import model_fn as model_fn_lib

# Graph -> the feeders its input_fns made (not a graph collection: those
# go into every .meta file, and a Feeder cannot).
_FEEDERS = weakref.WeakKeyDictionary()


def feeders(graph):
    """The feeders the input_fns called in graph made."""
    return list(_FEEDERS.get(graph, ()))


def numpy_input_fn(x, y=None, batch_size=128, num_epochs=1, shuffle=None,
                   queue_capacity=1000, num_threads=1):
    """An input_fn giving batches of x (an array or a dict of arrays) and y.

    Args as TensorFlow 1.15's: shuffle must be given (True or False);
    queue_capacity and num_threads are accepted and have nothing to do here.

    Returns:
      input_fn() -> (features, labels), or features alone when y is None.
    """
    del queue_capacity, num_threads  # No queue: the step's own run feeds.
    if not isinstance(shuffle, bool):
        raise model_fn_lib.EstimatorError(
            'numpy_input_fn: shuffle must be given as True or False (got %r);'
            ' True for training, False for evaluation and prediction' %
            (shuffle,))
    if not isinstance(batch_size, int) or batch_size < 1:
        raise model_fn_lib.EstimatorError(
            'numpy_input_fn: batch_size must be a positive integer, not %r' %
            (batch_size,))
    if num_epochs is not None and (not isinstance(num_epochs, int) or
                                   num_epochs < 1):
        raise model_fn_lib.EstimatorError(
            'numpy_input_fn: num_epochs must be a positive integer or None '
            '(forever), not %r' % (num_epochs,))
    x_arrays = _arrays(x, 'x')
    y_arrays = None if y is None else _arrays(y, 'y')
    if isinstance(x, dict) and isinstance(y, dict):
        both = sorted(set(x) & set(y))
        if both:
            raise model_fn_lib.EstimatorError(
                'numpy_input_fn: x and y both have %s; rename one' %
                ', '.join(map(repr, both)))
    lengths = {name: len(a) for name, a in _items(x_arrays, y_arrays)}
    if len(set(lengths.values())) != 1:
        raise model_fn_lib.EstimatorError(
            'numpy_input_fn: x and y must have as many rows each; got %s' %
            ', '.join('%s: %d' % item for item in sorted(lengths.items())))

    def input_fn():
        feeder = Feeder(x_arrays, y_arrays, batch_size, num_epochs, shuffle)
        _FEEDERS.setdefault(tf.get_default_graph(), []).append(feeder)
        features = (feeder.tensors['x'] if not isinstance(x, dict) else
                    {k: feeder.tensors[k] for k in x})
        if y is None:
            return features
        labels = (feeder.tensors['y'] if not isinstance(y, dict) else
                  {k: feeder.tensors[k] for k in y})
        return features, labels

    return input_fn


def _arrays(value, what):
    """{name: ndarray}; 'x' or 'y' names a bare array."""
    if isinstance(value, dict):
        if not value:
            raise model_fn_lib.EstimatorError(
                'numpy_input_fn: %s is an empty dict' % what)
        return {k: np.asarray(v) for k, v in value.items()}
    array = np.asarray(value)
    if array.ndim == 0 or not len(array):
        raise model_fn_lib.EstimatorError(
            'numpy_input_fn: %s must be an array of examples (got %s)' % (
                what, 'an empty one' if array.ndim else type(value).__name__))
    return {what: array}


def _items(*dicts):
    for d in dicts:
        for item in (d or {}).items():
            yield item


class Feeder(object):
    """Placeholders for one input_fn's arrays, and the batches to feed."""

    def __init__(self, x_arrays, y_arrays, batch_size, num_epochs, shuffle):
        self._arrays = dict(_items(x_arrays, y_arrays))
        self._size = len(next(iter(self._arrays.values())))
        self._batch_size = batch_size
        self._epochs_left = num_epochs
        self._shuffle = shuffle
        self._random = np.random.RandomState(tf.get_seed(None)[1])
        self._num_epochs = num_epochs
        self._order = None
        self._position = self._size  # A pass starts at the first batch.
        with tf.name_scope('numpy_input'):
            self.tensors = {
                name: tf.placeholder(tf.as_dtype(a.dtype),
                                     [None] + list(a.shape[1:]), name=name)
                for name, a in self._arrays.items()}

    def _next_epoch(self):
        """Starts a pass over the arrays; False when none is left."""
        if self._epochs_left is not None:
            if self._epochs_left == 0:
                return False
            self._epochs_left -= 1
        self._order = (self._random.permutation(self._size) if self._shuffle
                       else None)
        self._position = 0
        return True

    def _indices(self):
        """The next batch's rows: a slice within one unshuffled pass, else
        an array (a batch may span two passes, as 1.15's queue's did)."""
        parts = []
        wanted = self._batch_size
        while wanted:
            if self._position >= self._size and not self._next_epoch():
                break
            end = min(self._size, self._position + wanted)
            parts.append((self._position, end, self._order))
            wanted -= end - self._position
            self._position = end
        if not parts:
            raise tf.errors.OutOfRangeError(
                None, None, 'numpy_input_fn: its %d epochs are fed' %
                self._num_epochs)
        if len(parts) == 1 and parts[0][2] is None:
            return slice(parts[0][0], parts[0][1])
        return np.concatenate([
            np.arange(a, b) if order is None else order[a:b]
            for a, b, order in parts])

    def next_feed(self):
        """{placeholder: batch} for the next step; OutOfRangeError at the
        end of the last epoch."""
        rows = self._indices()
        return {self.tensors[name]: a[rows] for name, a in self._arrays.items()}


class FeedHook(tf.train.SessionRunHook):
    """Feeds the next batch of every feeder into each step's run."""

    def __init__(self, feeders):
        self._feeders = list(feeders)

    def before_run(self, run_context):
        feed = {}
        for feeder in self._feeders:
            feed.update(feeder.next_feed())
        return tf.train.SessionRunArgs(None, feed_dict=feed)

"""Reads MNIST: the TensorFlow 1.x tutorials' input_data.py, rebuilt.

Same names and behaviour as the original (`read_data_sets`, `DataSet`,
`next_batch`, `extract_images`, `extract_labels`, `dense_to_one_hot`,
`load_mnist`), down to the batches a seed gives; the differences:

* Every file is checked against its pinned SHA-256 (data/download.py) and
  parsed strictly (data/idx.py): a bad file is one clear line (a UserError),
  a ValueError where the original raised one.
* A DataSet keeps its images as they came (uint8: 47 MB for all of MNIST
  rather than 188 MB of float32) and converts each batch to float32 in
  [0, 1] on the way out, bit for bit the original's values. The first access
  to `DataSet.images` converts the whole set once; from then on `images` is
  that one array, as in the original (edits to it reach the batches).
* `DataSet.batches()` walks the set once, last partial batch included, for
  evaluation over every example.

As in the original, building a DataSet (read_data_sets builds three) seeds
numpy's global random generator, and the shuffles draw from it: the seed is
TensorFlow's op seed for `seed` (random_seed.get_seed), so a graph-level
tf.set_random_seed fixes the batches too. Importing the module changes
nothing.
"""

import collections

import numpy as np
import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors
from mnist_tf1.data import download
from mnist_tf1.data import idx

TRAIN_IMAGES = 'train-images-idx3-ubyte.gz'
TRAIN_LABELS = 'train-labels-idx1-ubyte.gz'
TEST_IMAGES = 't10k-images-idx3-ubyte.gz'
TEST_LABELS = 't10k-labels-idx1-ubyte.gz'

# Examples in the canonical files (the validation set comes out of the 60000).
TRAIN_EXAMPLES = 60000
TEST_EXAMPLES = 10000

Datasets = collections.namedtuple('Datasets', ['train', 'validation', 'test'])

# uint8 -> float32 in [0, 1]: the factor the original multiplied by, as the
# float32 that its float32 multiply used, so the values are bit-identical.
# (The in-graph training loop scales by the same float32.)
PIXEL_SCALE = np.float32(1.0 / 255.0)


def extract_images(f):
    """Extracts the images into a 4D uint8 numpy array [index, y, x, depth].

    Args:
      f: A binary file object of an MNIST images .gz file (as opened by
        `open(path, 'rb')`).

    Returns:
      data: A read-only 4D uint8 numpy array [index, y, x, depth].

    Raises:
      UserError: the file is not a well-formed MNIST image file (a
        UserValueError, caught by `except ValueError` too, where the original
        raised ValueError).
    """
    print('Extracting', idx.name_of(f))
    return idx.read_images(f)


def dense_to_one_hot(labels_dense, num_classes):
    """Converts class labels from scalars to one-hot vectors (float64)."""
    labels_dense = np.asarray(labels_dense)
    labels_one_hot = np.zeros((labels_dense.shape[0], num_classes))
    labels_one_hot[np.arange(labels_dense.shape[0]), labels_dense] = 1
    return labels_one_hot


def extract_labels(f, one_hot=False, num_classes=10):
    """Extracts the labels into a 1D uint8 numpy array [index].

    Args:
      f: A binary file object of an MNIST labels .gz file.
      one_hot: Does one hot encoding for the result.
      num_classes: Number of classes for the one hot encoding; every label must
        be below it.

    Returns:
      labels: a read-only 1D uint8 numpy array, or a float64 [index, class]
        array when one_hot.

    Raises:
      UserError: the file is not a well-formed MNIST label file.
    """
    print('Extracting', idx.name_of(f))
    labels = idx.read_labels(f, num_classes)
    if one_hot:
        return dense_to_one_hot(labels, num_classes)
    return labels


def _fake_labels(n, one_hot):
    if one_hot:
        labels = np.zeros((n, 10))
        labels[:, 0] = 1
        return labels
    return np.zeros(n, dtype=np.uint8)


def _seed_numpy(seed):
    """Seeds numpy's global generator as TensorFlow 1.x's DataSet did.

    The op seed of `seed` under the graph-level seed, if any; with neither,
    numpy draws a fresh seed from the OS.
    """
    seed1, seed2 = tf.get_seed(seed)
    np.random.seed(seed1 if seed is None else seed2)


class DataSet(object):
    """A set of images and labels, handed out in batches.

    The stored arrays are the original's: shuffled (replaced by a permuted
    copy) before the first batch and at each new epoch, `images` and `labels`
    returning them. Images stay as given (uint8 from extract_images: 43 MB
    for the training set instead of 172 MB of float32) until `images` is
    first read; until then each batch is converted on its own.
    """

    def __init__(self,
                 images,
                 labels,
                 fake_data=False,
                 one_hot=False,
                 dtype=np.float32,
                 reshape=True,
                 seed=None):
        """Construct a DataSet.

        Args:
          images: uint8 array [n, rows, cols, 1] (as from extract_images).
          labels: array [n] (or [n, classes] when one-hot).
          fake_data: hand out fake batches instead (`images` and `labels` are
            ignored); num_examples is then 10000.
          one_hot: for fake data, whether fake labels are one-hot.
          dtype: np.float32 or tf.float32 (images scaled to [0, 1]), or
            uint8 (raw 0-255).
          reshape: flatten each image to rows*cols values.
          seed: the op seed for the shuffles (numpy's global generator is
            seeded with it, as in the original); None: the graph-level seed,
            else a fresh one.

        Raises:
          TypeError: `dtype` is neither uint8 nor float32.
          ValueError: images and labels do not have the same length.
        """
        _seed_numpy(seed)
        # Accept TensorFlow dtypes too, as the original did.
        dtype = np.dtype(getattr(dtype, 'as_numpy_dtype', dtype))
        if dtype not in (np.uint8, np.float32):
            raise TypeError('Invalid image dtype %r, expected uint8 or float32'
                            % dtype)
        self._dtype = dtype
        self._fake_data = fake_data
        self.one_hot = one_hot
        self._images = self._labels = None
        if fake_data:
            self._num_examples = 10000
        else:
            self._set_arrays(np.asarray(images), np.asarray(labels), reshape)
        # True while the stored images still await the conversion to float32
        # (done per batch, or for the whole set when `images` is first read).
        self._raw = not fake_data and dtype == np.float32
        self._epochs_completed = 0
        self._index_in_epoch = 0
        # Once batches are taken as indices (next_batch_indices), the
        # shuffles permute this index of the stored arrays instead of them.
        self._order = None

    def _set_arrays(self, images, labels, reshape):
        if images.shape[0] != labels.shape[0]:
            raise ValueError('images.shape: %s labels.shape: %s' %
                             (images.shape, labels.shape))
        self._num_examples = images.shape[0]
        if reshape and images.ndim != 2:  # (2: flattened already.)
            if images.ndim != 4 or images.shape[3] != 1:
                raise ValueError('expected images [n, rows, cols, 1], got '
                                 'images.shape %s' % (images.shape,))
            # A view: no copy of the pixels. (The sizes are spelled out, as
            # in the original, so that an empty set reshapes too.)
            images = images.reshape(images.shape[0],
                                    images.shape[1] * images.shape[2])
        self._images = images
        self._labels = labels

    def _out(self, images):
        """Stored images -> what callers get (float32 in [0, 1] by default)."""
        if not self._raw:
            return images
        # astype copies, so scaling in place never touches the stored images.
        images = images.astype(np.float32)
        images *= PIXEL_SCALE
        return images

    @property
    def images(self):
        """All images, in the stored order: the same array at every access
        until the next epoch's shuffle, as in the original."""
        if self._fake_data and self._images is None:
            self._images = np.ones((self._num_examples, 784),
                                   dtype=self._dtype)
        elif self._raw:
            # Once, for good: from here on batches are slices of this array.
            self._images = self._out(self._images)
            self._raw = False
        return self._images

    @property
    def labels(self):
        """All labels, in the stored order."""
        if self._fake_data and self._labels is None:
            self._labels = _fake_labels(self._num_examples, self.one_hot)
        return self._labels

    @property
    def num_examples(self):
        return self._num_examples

    @property
    def epochs_completed(self):
        return self._epochs_completed

    def _fake_batch(self, batch_size):
        return (np.ones((batch_size, 784), dtype=self._dtype),
                _fake_labels(batch_size, self.one_hot))

    def _shuffle(self):
        # The original's draws: numpy.random.shuffle of an arange.
        perm = np.arange(self._num_examples)
        np.random.shuffle(perm)
        if self._order is not None:
            self._order = self._order[perm]
            return
        self._images = self._images[perm]
        self._labels = self._labels[perm]

    def _take(self, start, end):
        """The examples at [start, end) of the current order."""
        where = (slice(start, end) if self._order is None
                 else self._order[start:end])
        return self._images[where], self._labels[where]

    def _advance(self, batch_size, shuffle, take):
        """Moves next_batch's place on by batch_size; returns [take(start,
        end)] for the part of the current order the batch takes, or for a
        batch crossing an epoch's end, the rest of it and the next's start."""
        if not 1 <= batch_size <= self._num_examples:
            raise errors.UserValueError(
                'batch size %d does not fit a data set of %d examples; use a '
                'batch size between 1 and %d' %
                (batch_size, self._num_examples, self._num_examples))
        start = self._index_in_epoch
        # Shuffle for the first epoch.
        if self._epochs_completed == 0 and start == 0 and shuffle:
            self._shuffle()
        if start + batch_size <= self._num_examples:
            self._index_in_epoch += batch_size
            return [take(start, self._index_in_epoch)]
        # The batch crosses into the next epoch.
        self._epochs_completed += 1
        rest = take(start, self._num_examples)
        if shuffle:
            self._shuffle()
        self._index_in_epoch = batch_size - (self._num_examples - start)
        return [rest, take(0, self._index_in_epoch)]

    def next_batch(self, batch_size, fake_data=False, shuffle=True):
        """Returns the next `batch_size` examples from this data set.

        The original's semantics: shuffled before the first batch and again at
        each new epoch; a batch that crosses the end of an epoch is the rest of
        that epoch followed by the start of the next one.

        Args:
          batch_size: number of examples, 1 to num_examples.
          fake_data: return a fake batch (all-ones images, label 0).
          shuffle: shuffle the order at the start of each epoch.

        Returns:
          (images, labels): images [batch_size, 784] float32 in [0, 1] (or as
          set by dtype/reshape), labels [batch_size].

        Raises:
          UserError: batch_size is not between 1 and num_examples (also a
            ValueError).
        """
        if fake_data or self._fake_data:
            return self._fake_batch(batch_size)
        parts = self._advance(batch_size, shuffle, self._take)
        if len(parts) == 1:
            images, labels = parts[0]
        else:
            images, labels = (np.concatenate(p) for p in zip(*parts))
        return self._out(images), labels

    def next_batch_indices(self, batch_size, shuffle=True):
        """The batch next_batch() would return next, as indices into
        stored_examples(), moving on as next_batch does: for the in-graph
        training loop (training/in_graph_steps.py), which gathers them. From
        the first call on, the shuffles permute an index instead of the
        stored arrays (fake data: zeros, its one stored example)."""
        if self._fake_data:
            return np.zeros(batch_size, dtype=np.int64)
        if self._order is None:
            self._order = np.arange(self._num_examples)
        return np.concatenate(self._advance(
            batch_size, shuffle, lambda start, end: self._order[start:end]))

    def examples_at(self, indices):
        """(images, labels) of the stored examples at `indices`, converted as
        next_batch() converts them (fake data: a fake batch as long)."""
        if self._fake_data:
            return self._fake_batch(len(indices))
        return self._out(self._images[indices]), self._labels[indices]

    @property
    def scales_pixels(self):
        """Whether next_batch() scales the stored uint8 pixels to [0, 1]
        (float32 data sets, the default, and fake data), rather than hand
        them out as stored (dtype=uint8)."""
        return self._dtype == np.float32 or self._fake_data

    def stored_examples(self):
        """The stored (images, labels) themselves: images uint8 (0-255) until
        `images` is read (float32 then). Fake data: one fake example, its
        pixels 255 (1.0 once scaled, as fake batches are)."""
        if self._fake_data:
            return (np.full((1, 784), 255, dtype=np.uint8),
                    _fake_labels(1, self.one_hot))
        return self._images, self._labels

    def batches(self, batch_size):
        """Yields (images, labels) batches covering every example once.

        In the stored order, the last batch holding the remainder; does not
        touch next_batch's position or epoch count. Meant for evaluation,
        where every example must be counted whatever the batch size.

        Args:
          batch_size: the most examples in one batch (at least 1).

        Yields:
          (images, labels) as from next_batch.

        Raises:
          UserError: batch_size is below 1.
        """
        if batch_size < 1:
            raise errors.UserValueError(
                'batch size %d is too small; use 1 or more' % batch_size)
        for start in range(0, self._num_examples, batch_size):
            end = min(start + batch_size, self._num_examples)
            if self._fake_data:
                yield self._fake_batch(end - start)
            else:
                yield (self._out(self._images[start:end]),
                       self._labels[start:end])


def _extract(path, extract, **kwargs):
    with open(path, 'rb') as f:
        return extract(f, **kwargs)


def _load_pair(train_dir, images_name, labels_name, one_hot, source_url):
    """Downloads (if needed) and reads one images file and its labels file."""
    images_path = download.maybe_download(images_name, train_dir, source_url)
    images = _extract(images_path, extract_images)
    labels_path = download.maybe_download(labels_name, train_dir, source_url)
    labels = _extract(labels_path, extract_labels, one_hot=one_hot)
    if len(images) != len(labels):
        raise errors.UserError(
            '%s holds %d images but %s holds %d labels; they must match: '
            'download both files again' %
            (images_path, len(images), labels_path, len(labels)))
    return images, labels


def read_data_sets(train_dir,
                   fake_data=False,
                   one_hot=False,
                   dtype=np.float32,
                   reshape=True,
                   validation_size=5000,
                   seed=None,
                   source_url=None):
    """Downloads (if needed), verifies and reads MNIST.

    Args:
      train_dir: folder holding the four .gz files; created if missing.
      fake_data: return fake data sets instead (nothing is read).
      one_hot: labels as one-hot float64 vectors instead of uint8 classes.
      dtype: np.float32 (images in [0, 1]) or np.uint8 (raw 0-255).
      reshape: images as [n, 784] instead of [n, 28, 28, 1].
      validation_size: how many of the first training examples become the
        validation set.
      seed: the op seed of each DataSet's shuffles (see DataSet).
      source_url: base URL or folder to download from; see download.py.

    Returns:
      Datasets(train, validation, test): 55000 / 5000 / 10000 examples by
      default.

    Raises:
      UserError: a file is missing and cannot be downloaded, is corrupt, or
        validation_size does not fit the training set (a ValueError too, as
        in the original).
    """
    options = dict(one_hot=one_hot, dtype=dtype, reshape=reshape, seed=seed)
    if fake_data:
        def fake():
            return DataSet([], [], fake_data=True, **options)
        return Datasets(train=fake(), validation=fake(), test=fake())

    train_images, train_labels = _load_pair(
        train_dir, TRAIN_IMAGES, TRAIN_LABELS, one_hot, source_url)
    test_images, test_labels = _load_pair(
        train_dir, TEST_IMAGES, TEST_LABELS, one_hot, source_url)

    if not 0 <= validation_size <= len(train_images):
        raise errors.UserValueError(
            'validation size %d does not fit the %d training examples; use a '
            'value between 0 and %d' %
            (validation_size, len(train_images), len(train_images)))
    # Slices are views: the pixels are not copied.
    validation_images = train_images[:validation_size]
    validation_labels = train_labels[:validation_size]
    train_images = train_images[validation_size:]
    train_labels = train_labels[validation_size:]

    train = DataSet(train_images, train_labels, **options)
    validation = DataSet(validation_images, validation_labels, **options)
    test = DataSet(test_images, test_labels, **options)
    return Datasets(train=train, validation=validation, test=test)


def load_mnist(train_dir='MNIST-data'):
    """The original's shorthand: read_data_sets(train_dir)."""
    return read_data_sets(train_dir)

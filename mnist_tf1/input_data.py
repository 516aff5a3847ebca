"""Reads MNIST: the TensorFlow 1.x tutorials' input_data.py, rebuilt.

Same names and behaviour as the original (`read_data_sets`, `DataSet`,
`next_batch`, `extract_images`, `extract_labels`), with these differences:

* Every file is checked against its pinned SHA-256 (see download.py).
* The IDX parser rejects bad files (HTML pages saved under an MNIST name,
  truncated or corrupt gzip, wrong magic numbers, headers that disagree with
  the data) with one clear UserError line, and a header can never make it
  allocate more memory than the data actually present.
* A DataSet keeps its images as uint8 (47 MB for all of MNIST rather than
  188 MB of float32) and converts each batch to float32 in [0, 1] on the way
  out, so the model sees the same values as before.
* Shuffling uses a per-DataSet np.random.RandomState(seed), so a fixed seed
  gives the same batches in every run; with the same seed the batches are the
  ones the original produced after np.random.seed(seed).
* `DataSet.batches()` walks the set once, last partial batch included, for
  evaluation over every example.
"""

import collections
import math
import zlib

import numpy as np

from mnist_tf1.cli.errors import UserError
from mnist_tf1.data import download

TRAIN_IMAGES = 'train-images-idx3-ubyte.gz'
TRAIN_LABELS = 'train-labels-idx1-ubyte.gz'
TEST_IMAGES = 't10k-images-idx3-ubyte.gz'
TEST_LABELS = 't10k-labels-idx1-ubyte.gz'

# Examples in the canonical files (the validation set comes out of the 60000).
TRAIN_EXAMPLES = 60000
TEST_EXAMPLES = 10000

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049

# The most decompressed data each kind of file may hold. The real files are
# 47 MB (images) and 60 kB (labels); the limits only stop a corrupt header
# from making the reader try to hold gigabytes.
MAX_IMAGE_BYTES = 256 << 20
MAX_LABEL_BYTES = 64 << 20

Datasets = collections.namedtuple('Datasets', ['train', 'validation', 'test'])

_GZIP_WBITS = 16 + zlib.MAX_WBITS  # zlib: expect a gzip header and trailer.
_GZIP_MAGIC = b'\x1f\x8b'
_CHUNK = 1 << 20

# uint8 -> float32 in [0, 1]: the factor the original multiplied by, as the
# float32 that its float32 multiply used, so the values are bit-identical.
_SCALE = np.float32(1.0 / 255.0)


def _name(f):
    name = getattr(f, 'name', None)
    return name if isinstance(name, str) else '<stream>'


def _not_gzip_reason(head):
    """Says what a file that is not gzip seems to be instead."""
    if not head:
        return 'is empty'
    text = head.lstrip().lower()
    if text.startswith((b'<!doctype', b'<html', b'<?xml', b'<head', b'<body')):
        return ('is not a gzip file but an HTML page (probably an error page '
                'saved under this name)')
    if head[:4] in (b'\x00\x00\x08\x03', b'\x00\x00\x08\x01'):
        return 'is not gzip-compressed (it looks like an uncompressed IDX file)'
    return 'is not a gzip file (it starts with %r)' % head[:8]


class _Gunzip(object):
    """Decompresses a gzip file a bounded amount at a time.

    `zlib.decompressobj(...).decompress(data, max_length)` never returns more
    than asked for, so memory follows what the caller asks for, which the
    callers bound by the header's sizes after checking them.
    """

    def __init__(self, f):
        self._f = f
        self._name = _name(f)
        head = f.read(512)
        if head[:2] != _GZIP_MAGIC:
            raise UserError('%s %s; delete it and download it again' %
                            (self._name, _not_gzip_reason(head)))
        self._pending = head  # Compressed bytes not yet given to zlib.
        self._inflater = zlib.decompressobj(_GZIP_WBITS)
        self._done = False

    def _fail(self, what):
        raise UserError('%s is %s; delete it and download it again' %
                        (self._name, what))

    def _next_member(self, rest):
        """After a gzip member ends: skip zero padding, start the next one."""
        # Like Python's gzip module: zero padding is allowed after a member,
        # and another member may follow it; anything else is corruption.
        while True:
            rest = rest.lstrip(b'\0')
            if len(rest) >= 2:
                break
            more = self._f.read(_CHUNK)
            if not more:
                break
            rest += more
        if not rest:
            self._done = True
        elif rest[:2] != _GZIP_MAGIC:
            self._fail('corrupt (unexpected bytes after the end of the gzip '
                       'data)')
        else:
            self._pending = rest
            self._inflater = zlib.decompressobj(_GZIP_WBITS)

    def read(self, size):
        """Returns the next `size` decompressed bytes, fewer only at the end.

        Raises:
          UserError: the gzip data is truncated or corrupt.
        """
        parts = []
        remaining = size
        while remaining > 0 and not self._done:
            data = self._pending or self._f.read(_CHUNK)
            self._pending = b''
            if not data:
                self._fail('truncated (the gzip data ends early)')
            try:
                out = self._inflater.decompress(data, remaining)
            except zlib.error as e:
                self._fail('corrupt (gzip: %s)' % e)
            parts.append(out)
            remaining -= len(out)
            self._pending = self._inflater.unconsumed_tail
            if self._inflater.eof:
                self._next_member(self._inflater.unused_data)
        return b''.join(parts)


def _read_idx(f, magic, kind, ndims, max_bytes):
    """Reads one IDX file of unsigned bytes from a gzip file object.

    Returns:
      (dims, payload): the header's dimensions and exactly prod(dims) bytes.
    """
    name = _name(f)
    stream = _Gunzip(f)
    header_size = 4 * (1 + ndims)
    # The magic number first: a label file passed as images should be named
    # as such, not reported as a short header.
    header = stream.read(4)
    if len(header) == 4:
        found = int.from_bytes(header, 'big')
        if found != magic:
            hint = ''
            if found in (IMAGE_MAGIC, LABEL_MAGIC):
                hint = ' (it is an MNIST %s file)' % (
                    'image' if found == IMAGE_MAGIC else 'label')
            raise UserError('%s has magic number %d, expected %d for an MNIST '
                            '%s file%s; check the file name or download it '
                            'again' % (name, found, magic, kind, hint))
        header += stream.read(header_size - 4)
    if len(header) < header_size:
        raise UserError('%s is not an MNIST %s file: its header is %d bytes, '
                        'expected %d; delete it and download it again' %
                        (name, kind, len(header), header_size))
    dims = [int.from_bytes(header[i:i + 4], 'big')
            for i in range(4, header_size, 4)]
    count, item_size = dims[0], math.prod(dims[1:])
    expected = count * item_size  # Python ints: no overflow.
    # The count and the size of one item are checked too: with a zero count,
    # huge rows and columns would pass the total yet break numpy's reshape.
    if max(expected, count, item_size) > max_bytes:
        raise UserError('%s has a corrupt header: it declares %s %s data, more '
                        'than the %d MiB this reader accepts; delete it and '
                        'download it again' %
                        (name, 'x'.join(str(d) for d in dims), kind,
                         max_bytes >> 20))
    # One byte more than declared, so that trailing data is noticed.
    payload = stream.read(expected + 1)
    if len(payload) != expected:
        raise UserError('%s is corrupt: its header declares %s (%d bytes) but '
                        'it holds %s bytes of data; delete it and download it '
                        'again' %
                        (name, 'x'.join(str(d) for d in dims), expected,
                         len(payload) if len(payload) < expected
                         else 'more than %d' % expected))
    return dims, payload


def extract_images(f):
    """Extracts the images into a 4D uint8 numpy array [index, y, x, depth].

    Args:
      f: A binary file object of an MNIST images .gz file (as opened by
        `open(path, 'rb')`).

    Returns:
      data: A read-only 4D uint8 numpy array [index, y, x, depth].

    Raises:
      UserError: the file is not a well-formed MNIST image file.
    """
    (num_images, rows, cols), payload = _read_idx(
        f, IMAGE_MAGIC, 'image', 3, MAX_IMAGE_BYTES)
    data = np.frombuffer(payload, dtype=np.uint8)
    return data.reshape(num_images, rows, cols, 1)


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
    (unused_num_items,), payload = _read_idx(
        f, LABEL_MAGIC, 'label', 1, MAX_LABEL_BYTES)
    labels = np.frombuffer(payload, dtype=np.uint8)
    if labels.size and labels.max() >= num_classes:
        index = int(np.argmax(labels >= num_classes))
        raise UserError('%s has label %d at index %d, outside 0-%d; delete it '
                        'and download it again' %
                        (_name(f), labels[index], index, num_classes - 1))
    if one_hot:
        return dense_to_one_hot(labels, num_classes)
    return labels


def _fake_labels(n, one_hot):
    if one_hot:
        labels = np.zeros((n, 10))
        labels[:, 0] = 1
        return labels
    return np.zeros(n, dtype=np.uint8)


class DataSet(object):
    """A set of images and labels, handed out in batches.

    Images are stored as given (uint8 from extract_images) and converted per
    batch, so a 55,000-image set takes 43 MB instead of 172 MB of float32.
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
          dtype: np.float32 (images scaled to [0, 1]) or np.uint8 (raw 0-255).
          reshape: flatten each image to rows*cols values.
          seed: seed of this DataSet's own shuffling; None draws a fresh one.

        Raises:
          TypeError: `dtype` is neither uint8 nor float32.
          ValueError: images and labels do not have the same length.
        """
        # Accept TensorFlow dtypes too, as the original did.
        dtype = np.dtype(getattr(dtype, 'as_numpy_dtype', dtype))
        if dtype not in (np.uint8, np.float32):
            raise TypeError('Invalid image dtype %r, expected uint8 or float32'
                            % dtype)
        self._dtype = dtype
        self._fake_data = fake_data
        self.one_hot = one_hot
        self._rng = np.random.RandomState(seed)
        if fake_data:
            self._num_examples = 10000
            self._images = self._labels = None
        else:
            images = np.asarray(images)
            labels = np.asarray(labels)
            if images.shape[0] != labels.shape[0]:
                raise ValueError('images.shape: %s labels.shape: %s' %
                                 (images.shape, labels.shape))
            self._num_examples = images.shape[0]
            if reshape:
                if images.ndim == 4 and images.shape[3] != 1:
                    raise ValueError('expected one channel, got images.shape '
                                     '%s' % (images.shape,))
                # A view: no copy of the pixels.
                images = images.reshape(images.shape[0], -1)
            self._images = images
            self._labels = labels
        # Batches are taken through this permutation rather than by permuting
        # the arrays, which keeps the stored arrays read-only and in file
        # order; the composed order is the one the original's arrays had.
        self._order = np.arange(self._num_examples)
        self._epochs_completed = 0
        self._index_in_epoch = 0

    def _convert(self, images):
        """Stored images -> what callers get (float32 in [0, 1] by default)."""
        if self._dtype == np.uint8:
            return images
        # astype copies, so scaling in place never touches the stored images.
        images = images.astype(np.float32)
        images *= _SCALE
        return images

    @property
    def images(self):
        """All images in file order, converted like batches.

        Computed on every access (a new float32 array, 172 MB for the training
        set): prefer next_batch() or batches().
        """
        if self._fake_data:
            return np.ones((self._num_examples, 784), dtype=self._dtype)
        return self._convert(self._images)

    @property
    def labels(self):
        """All labels in file order."""
        if self._fake_data:
            return _fake_labels(self._num_examples, self.one_hot)
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

    def _take(self, start, end):
        index = self._order[start:end]
        return self._images[index], self._labels[index]

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
          UserError: batch_size is not between 1 and num_examples.
        """
        if fake_data or self._fake_data:
            return self._fake_batch(batch_size)
        if not 1 <= batch_size <= self._num_examples:
            raise UserError('batch size %d does not fit a data set of %d '
                            'examples; use a batch size between 1 and %d' %
                            (batch_size, self._num_examples,
                             self._num_examples))
        start = self._index_in_epoch
        # Shuffle for the first epoch.
        if self._epochs_completed == 0 and start == 0 and shuffle:
            self._shuffle()
        if start + batch_size <= self._num_examples:
            self._index_in_epoch += batch_size
            images, labels = self._take(start, self._index_in_epoch)
            return self._convert(images), labels
        # The batch crosses into the next epoch.
        self._epochs_completed += 1
        rest_num_examples = self._num_examples - start
        images_rest, labels_rest = self._take(start, self._num_examples)
        if shuffle:
            self._shuffle()
        self._index_in_epoch = batch_size - rest_num_examples
        images_new, labels_new = self._take(0, self._index_in_epoch)
        return (self._convert(np.concatenate((images_rest, images_new))),
                np.concatenate((labels_rest, labels_new)))

    def _shuffle(self):
        # The same draws as the original's `numpy.random.shuffle(perm)`.
        perm = np.arange(self._num_examples)
        self._rng.shuffle(perm)
        self._order = self._order[perm]

    def batches(self, batch_size):
        """Yields (images, labels) batches covering every example once.

        In file order, the last batch holding the remainder; does not touch
        next_batch's position or epoch count. Meant for evaluation, where every
        example must be counted whatever the batch size.

        Args:
          batch_size: the most examples in one batch (at least 1).

        Yields:
          (images, labels) as from next_batch.

        Raises:
          UserError: batch_size is below 1.
        """
        if batch_size < 1:
            raise UserError('batch size %d is too small; use 1 or more' %
                            batch_size)
        for start in range(0, self._num_examples, batch_size):
            end = min(start + batch_size, self._num_examples)
            if self._fake_data:
                yield self._fake_batch(end - start)
            else:
                yield (self._convert(self._images[start:end]),
                       self._labels[start:end])


def _extract(path, extract, **kwargs):
    print('Extracting', path)
    with open(path, 'rb') as f:
        return extract(f, **kwargs)


def _load_pair(train_dir, images_name, labels_name, one_hot, source_url):
    """Downloads (if needed) and reads one images file and its labels file."""
    images_path = download.maybe_download(images_name, train_dir, source_url)
    images = _extract(images_path, extract_images)
    labels_path = download.maybe_download(labels_name, train_dir, source_url)
    labels = _extract(labels_path, extract_labels, one_hot=one_hot)
    if len(images) != len(labels):
        raise UserError('%s holds %d images but %s holds %d labels; they must '
                        'match: download both files again' %
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
      seed: seed for each DataSet's shuffling; None for a fresh one.
      source_url: base URL or folder to download from; see download.py.

    Returns:
      Datasets(train, validation, test): 55000 / 5000 / 10000 examples by
      default.

    Raises:
      UserError: a file is missing and cannot be downloaded, is corrupt, or
        validation_size does not fit the training set.
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
        raise UserError('validation size %d does not fit the %d training '
                        'examples; use a value between 0 and %d' %
                        (validation_size, len(train_images),
                         len(train_images)))
    # Slices are views: the pixels are not copied.
    validation_images = train_images[:validation_size]
    validation_labels = train_labels[:validation_size]
    train_images = train_images[validation_size:]
    train_labels = train_labels[validation_size:]

    train = DataSet(train_images, train_labels, **options)
    validation = DataSet(validation_images, validation_labels, **options)
    test = DataSet(test_images, test_labels, **options)
    return Datasets(train=train, validation=validation, test=test)

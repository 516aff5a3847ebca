"""input_data.py: IDX parsing, DataSet batching and read_data_sets."""

import gzip
import io
import os
import struct
import time
import tracemalloc

from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from mnist_tf1 import input_data
from mnist_tf1.cli.errors import UserError
from mnist_tf1.data import download


def idx_bytes(magic, dims, payload):
    return struct.pack('>%dI' % (1 + len(dims)), magic, *dims) + bytes(payload)


def gz_file(raw, name='test-idx.gz'):
    """A binary file object holding gzip(raw), with a name like open()'s."""
    f = io.BytesIO(gzip.compress(raw, mtime=0))
    f.name = name
    return f


def raw_file(data, name='test-idx.gz'):
    f = io.BytesIO(data)
    f.name = name
    return f


def image_file(n=3, rows=2, cols=2, payload=None, name='imgs.gz'):
    if payload is None:
        payload = bytes(range(n * rows * cols))
    return gz_file(idx_bytes(2051, (n, rows, cols), payload), name)


def label_file(labels, n=None, name='labels.gz'):
    n = len(labels) if n is None else n
    return gz_file(idx_bytes(2049, (n,), bytes(labels)), name)


def user_error(fn, *args, **kwargs):
    """Runs fn, expects a UserError, returns its one-line message."""
    with pytest.raises(UserError) as e:
        fn(*args, **kwargs)
    message = str(e.value)
    assert '\n' not in message
    return message


# --- IDX parsing -------------------------------------------------------------


def test_extract_small_files():
    images = input_data.extract_images(image_file())
    assert images.shape == (3, 2, 2, 1) and images.dtype == np.uint8
    assert images.ravel().tolist() == list(range(12))
    labels = input_data.extract_labels(label_file([3, 0, 9]))
    assert labels.tolist() == [3, 0, 9] and labels.dtype == np.uint8
    one_hot = input_data.extract_labels(label_file([3, 0]), one_hot=True)
    assert one_hot.tolist() == [[0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
                                [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]]


def test_empty_sets_are_well_formed():
    images = input_data.extract_images(image_file(0, 28, 28))
    assert images.shape == (0, 28, 28, 1)
    assert input_data.extract_labels(label_file([])).shape == (0,)


def test_multi_member_gzip_and_zero_padding_are_accepted():
    raw = idx_bytes(2049, (4,), [1, 2, 3, 4])
    data = gzip.compress(raw[:6]) + gzip.compress(raw[6:]) + b'\0' * 10
    labels = input_data.extract_labels(raw_file(data))
    assert labels.tolist() == [1, 2, 3, 4]


def test_html_page_under_an_mnist_name():
    page = b'\n<!DOCTYPE html><html><body>403 Forbidden</body></html>\n'
    message = user_error(input_data.extract_images,
                         raw_file(page, 'data/train-images-idx3-ubyte.gz'))
    assert 'data/train-images-idx3-ubyte.gz' in message
    assert 'HTML page' in message


def test_not_gzip_empty_and_uncompressed():
    assert 'is empty' in user_error(input_data.extract_labels, raw_file(b''))
    raw = idx_bytes(2049, (2,), [1, 2])
    assert 'uncompressed IDX' in user_error(input_data.extract_labels,
                                            raw_file(raw))
    assert 'not a gzip file' in user_error(input_data.extract_labels,
                                           raw_file(b'PK\x03\x04zip'))


def test_stream_without_a_name():
    message = user_error(input_data.extract_labels, io.BytesIO(b'junk'))
    assert '<stream>' in message


def test_truncated_gzip():
    data = image_file().getvalue()
    for cut in (3, 12, len(data) // 2, len(data) - 1):
        message = user_error(input_data.extract_images,
                             raw_file(data[:cut], 'cut.gz'))
        assert 'cut.gz' in message
        assert 'truncated' in message or 'corrupt' in message


def test_corrupt_gzip_checksum():
    data = bytearray(label_file([1, 2, 3]).getvalue())
    data[-8] ^= 0xFF  # The CRC-32 in the gzip trailer.
    assert 'corrupt' in user_error(input_data.extract_labels,
                                   raw_file(bytes(data)))


def test_garbage_after_gzip_data():
    data = label_file([1, 2]).getvalue() + b'garbage'
    assert 'after the end' in user_error(input_data.extract_labels,
                                         raw_file(data))


def test_wrong_magic():
    message = user_error(input_data.extract_images,
                         label_file([1, 2], name='swapped.gz'))
    assert 'swapped.gz' in message and '2049' in message and '2051' in message
    assert 'label file' in message
    message = user_error(input_data.extract_labels,
                         gz_file(idx_bytes(1234, (1,), [1])))
    assert '1234' in message


def test_short_header():
    message = user_error(input_data.extract_images,
                         gz_file(struct.pack('>3I', 2051, 1, 28)))
    assert 'header is 12 bytes, expected 16' in message
    message = user_error(input_data.extract_labels, gz_file(b'\0\0'))
    assert 'header is 2 bytes, expected 8' in message


def test_header_and_payload_disagree_both_ways():
    short = image_file(3, 2, 2, payload=bytes(11), name='short.gz')
    message = user_error(input_data.extract_images, short)
    assert 'short.gz' in message and '12 bytes' in message
    assert 'holds 11' in message
    long = image_file(3, 2, 2, payload=bytes(13), name='long.gz')
    message = user_error(input_data.extract_images, long)
    assert 'long.gz' in message and 'more than 12' in message
    assert 'holds 4' in user_error(input_data.extract_labels,
                                   label_file([1, 2, 3, 4], n=5))
    assert 'more than 3' in user_error(input_data.extract_labels,
                                       label_file([1, 2, 3, 4], n=3))


@pytest.mark.parametrize('dims', [
    (0xFFFFFFFF, 28, 28),          # Far over the limit: refused at once.
    (300000, 28, 28),              # 235 MB, under it: data must be read first.
    (0, 0xFFFFFFFF, 0xFFFFFFFF),   # Zero bytes in all, absurd shape.
])
def test_huge_header_does_not_allocate(dims):
    f = gz_file(idx_bytes(2051, dims, bytes(784 * 10)))
    tracemalloc.start()
    start = time.perf_counter()
    try:
        user_error(input_data.extract_images, f)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 1.0
    assert peak < 4 << 20


def test_empty_set_with_absurd_image_size_is_refused():
    # Zero images of 2**32-1 squared pixels: zero bytes, matching the empty
    # payload, but no sensible shape (numpy cannot even build it).
    message = user_error(input_data.extract_images,
                         gz_file(idx_bytes(2051, (0, 0xFFFFFFFF, 0xFFFFFFFF),
                                           b'')))
    assert 'corrupt header' in message


def test_huge_label_header_does_not_allocate():
    tracemalloc.start()
    try:
        user_error(input_data.extract_labels,
                   gz_file(idx_bytes(2049, (0xFFFFFFFF,), [1, 2])))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20


def test_labels_out_of_range():
    message = user_error(input_data.extract_labels,
                         label_file([1, 9, 10, 3], name='bad-labels.gz'))
    assert 'bad-labels.gz' in message and 'label 10 at index 2' in message
    assert 'index 0' in user_error(input_data.extract_labels,
                                   label_file([255]))
    # Fewer classes: the bound follows num_classes.
    user_error(input_data.extract_labels, label_file([0, 5]), num_classes=5)


def _valid_small_idx():
    return st.one_of(
        st.tuples(st.just('images'),
                  st.builds(lambda n, r, c: idx_bytes(2051, (n, r, c),
                                                      bytes(n * r * c)),
                            st.integers(0, 3), st.integers(0, 3),
                            st.integers(0, 3))),
        st.tuples(st.just('labels'),
                  st.lists(st.integers(0, 9), max_size=6).map(
                      lambda ls: idx_bytes(2049, (len(ls),), ls))))


@st.composite
def _mutated(draw, data):
    """Applies a few random edits (flip, cut, insert, delete) to data."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(['flip', 'cut', 'insert', 'delete']))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == 'flip' and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif kind == 'cut':
            del data[pos:]
        elif kind == 'insert':
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[pos:pos + draw(st.integers(1, 8))]
    return bytes(data)


@st.composite
def _hostile_files(draw):
    source = draw(st.sampled_from(['random', 'gz', 'raw']))
    if source == 'random':
        return draw(st.binary(max_size=200))
    _, raw = draw(_valid_small_idx())
    if source == 'gz':  # Broken gzip around a valid IDX file.
        return draw(_mutated(gzip.compress(raw, mtime=0)))
    # A valid gzip around a broken IDX file: exercises the header checks.
    return gzip.compress(draw(_mutated(raw)), mtime=0)


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(_hostile_files())
def test_hostile_bytes_give_an_array_or_a_user_error(data):
    try:
        images = input_data.extract_images(raw_file(data))
    except UserError as e:
        assert '\n' not in str(e)
    else:
        assert images.dtype == np.uint8 and images.ndim == 4
        assert images.shape[3] == 1
    try:
        labels = input_data.extract_labels(raw_file(data))
    except UserError as e:
        assert '\n' not in str(e)
    else:
        assert labels.dtype == np.uint8 and labels.ndim == 1
        assert labels.size == 0 or labels.max() <= 9


# --- DataSet -----------------------------------------------------------------


def make_set(n=10, seed=0, **kwargs):
    """A DataSet whose image i has every pixel equal to i."""
    images = np.repeat(np.arange(n, dtype=np.uint8), 4).reshape(n, 2, 2, 1)
    labels = np.arange(n, dtype=np.uint8) % 10
    return input_data.DataSet(images, labels, seed=seed, **kwargs)


def ids(images):
    """Recovers the example indices from a float32 batch of make_set()."""
    return np.rint(images[:, 0] * 255).astype(int).tolist()


def test_next_batch_shapes_and_values():
    ds = make_set(n=10)
    images, labels = ds.next_batch(4)
    assert images.shape == (4, 4) and images.dtype == np.float32
    assert labels.shape == (4,)
    assert images.min() >= 0 and images.max() <= 10 / 255 + 1e-7
    # Images and labels stay paired through the shuffle.
    assert [i % 10 for i in ids(images)] == labels.tolist()


def test_epochs_and_reshuffle_cover_every_example_once_per_epoch():
    n = 50
    ds = make_set(n=n, seed=3)
    stream = []
    for step in range(40):  # 40 * 7 = 280 examples: 5 full epochs and a bit.
        images, labels = ds.next_batch(7)
        assert len(labels) == 7
        stream += ids(images)
        assert ds.epochs_completed == len(stream) // n - (len(stream) % n == 0)
    epochs = [stream[i:i + n] for i in range(0, 5 * n, n)]
    for epoch in epochs:
        assert sorted(epoch) == list(range(n))
    # Reshuffled every epoch, and shuffled from the start.
    assert len({tuple(e) for e in epochs}) == 5
    assert epochs[0] != list(range(n))


def test_epoch_boundary_is_counted_on_the_next_call_as_in_the_original():
    ds = make_set(n=10)
    ds.next_batch(5)
    ds.next_batch(5)
    assert ds.epochs_completed == 0
    ds.next_batch(5)
    assert ds.epochs_completed == 1


def test_same_seed_same_batches_other_seed_other_batches():
    def run(seed):
        ds = make_set(n=30, seed=seed)
        return [ids(ds.next_batch(8)[0]) for _ in range(12)]
    assert run(5) == run(5)
    assert run(5) != run(6)


class OriginalDataSet(object):
    """TensorFlow r1.x's DataSet (contrib/learn/.../datasets/mnist.py),
    verbatim but for the fake-data branches and the deprecation decorator."""

    def __init__(self, images, labels, dtype=tf.float32, reshape=True,
                 seed=None):
        seed1, seed2 = tf.get_seed(seed)
        # If op level seed is not set, use whatever graph level seed is returned
        np.random.seed(seed1 if seed is None else seed2)
        dtype = tf.as_dtype(dtype).base_dtype
        assert images.shape[0] == labels.shape[0]
        self._num_examples = images.shape[0]
        if reshape:
            assert images.shape[3] == 1
            images = images.reshape(images.shape[0],
                                    images.shape[1] * images.shape[2])
        if dtype == tf.float32:
            # Convert from [0, 255] -> [0.0, 1.0].
            images = images.astype(np.float32)
            images = np.multiply(images, 1.0 / 255.0)
        self._images = images
        self._labels = labels
        self._epochs_completed = 0
        self._index_in_epoch = 0

    @property
    def images(self):
        return self._images

    @property
    def labels(self):
        return self._labels

    def next_batch(self, batch_size, shuffle=True):
        start = self._index_in_epoch
        # Shuffle for the first epoch
        if self._epochs_completed == 0 and start == 0 and shuffle:
            perm0 = np.arange(self._num_examples)
            np.random.shuffle(perm0)
            self._images = self.images[perm0]
            self._labels = self.labels[perm0]
        # Go to the next epoch
        if start + batch_size > self._num_examples:
            # Finished epoch
            self._epochs_completed += 1
            # Get the rest examples in this epoch
            rest_num_examples = self._num_examples - start
            images_rest_part = self._images[start:self._num_examples]
            labels_rest_part = self._labels[start:self._num_examples]
            # Shuffle the data
            if shuffle:
                perm = np.arange(self._num_examples)
                np.random.shuffle(perm)
                self._images = self.images[perm]
                self._labels = self.labels[perm]
            # Start next epoch
            start = 0
            self._index_in_epoch = batch_size - rest_num_examples
            end = self._index_in_epoch
            images_new_part = self._images[start:end]
            labels_new_part = self._labels[start:end]
            return (np.concatenate((images_rest_part, images_new_part), axis=0),
                    np.concatenate((labels_rest_part, labels_new_part), axis=0))
        else:
            self._index_in_epoch += batch_size
            end = self._index_in_epoch
            return self._images[start:end], self._labels[start:end]


def make_pair(n=10, seed=0, **kwargs):
    """Ours and the original, built the same way, ours second (each seeds
    numpy's global generator on construction, so the last one built wins)."""
    images = np.repeat(np.arange(n, dtype=np.uint8), 4).reshape(n, 2, 2, 1)
    labels = np.arange(n, dtype=np.uint8) % 10
    original = OriginalDataSet(images, labels, seed=seed, **kwargs)
    state = np.random.get_state()
    ours = input_data.DataSet(images, labels, seed=seed, **kwargs)
    return original, ours, state


def same_arrays(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


@pytest.mark.parametrize('n,batch_size', [(10, 3), (12, 4), (7, 7), (9, 1)])
def test_batches_equal_the_original_algorithm(n, batch_size):
    original, ours, state = make_pair(n=n, seed=42)
    theirs = []
    for _ in range(25):
        theirs.append(original.next_batch(batch_size))
    np.random.set_state(state)  # As it was when ours was built.
    for images, labels in theirs:
        got_images, got_labels = ours.next_batch(batch_size)
        assert same_arrays(got_images, images)  # Bit for bit, float32.
        assert same_arrays(got_labels, labels)
    assert ours.epochs_completed == original._epochs_completed


def test_images_and_labels_are_the_originals_arrays_through_epochs():
    original, ours, state = make_pair(n=10, seed=3)
    # Read before any batch, between batches and across epochs: the same
    # arrays (values and order) as the original's at every point.
    steps = []
    for step in range(9):
        original.next_batch(4)
        steps.append((original.images, original.labels))
    np.random.set_state(state)
    first = ours.images
    assert ours.images is first  # One array, not a new one per access.
    for images, labels in steps:
        ours.next_batch(4)
        assert same_arrays(ours.images, images)
        assert same_arrays(ours.labels, labels)


def test_images_is_one_array_whose_edits_reach_the_batches():
    ds = make_set(n=10, seed=1)
    assert ds._images.dtype == np.uint8  # Lean until images is read.
    images = ds.images
    assert images.dtype == np.float32 and images.flags.writeable
    assert ds.images is images and ds.labels is ds.labels
    images[:] = 0.5
    batch, _ = ds.next_batch(3)
    assert np.all(batch == 0.5)


def test_numpy_global_generator_is_seeded_as_the_original_did():
    make_set(seed=7)
    after_ours = np.random.rand()
    np.random.seed(7)
    assert np.random.rand() == after_ours


def test_graph_level_seed_fixes_the_batches():
    def batches():
        with tf.Graph().as_default():
            tf.set_random_seed(11)
            ds = make_set(n=30, seed=None)
        return [ids(ds.next_batch(8)[0]) for _ in range(6)]
    assert batches() == batches()


def test_errors_the_original_raised_as_value_errors_still_are():
    with pytest.raises(ValueError):
        make_set(n=5).next_batch(6)
    with pytest.raises(ValueError):
        input_data.extract_images(label_file([1, 2]))
    with pytest.raises(ValueError):
        input_data.extract_labels(gz_file(idx_bytes(1234, (1,), [1])))


def test_no_shuffle_is_file_order_with_wrap_around():
    ds = make_set(n=5)
    got = [ids(ds.next_batch(3, shuffle=False)[0]) for _ in range(3)]
    assert got == [[0, 1, 2], [3, 4, 0], [1, 2, 3]]
    assert ds.epochs_completed == 1


def test_bad_batch_sizes():
    ds = make_set(n=5)
    assert 'between 1 and 5' in user_error(ds.next_batch, 6)
    user_error(ds.next_batch, 0)
    user_error(lambda: list(ds.batches(0)))


@pytest.mark.parametrize('batch_size', [1, 3, 7, 10, 15])
def test_batches_cover_every_example_once(batch_size):
    ds = make_set(n=10)
    ds.next_batch(4)  # batches() neither uses nor moves this position.
    got = list(ds.batches(batch_size))
    sizes = [len(labels) for _, labels in got]
    assert sum(sizes) == 10
    assert all(s == batch_size for s in sizes[:-1])
    assert 0 < sizes[-1] <= batch_size
    walked = sum((ids(images) for images, _ in got), [])
    assert sorted(walked) == list(range(10))
    assert walked == [i % 10 for i in ids(ds.images)]  # The stored order.
    assert all(images.dtype == np.float32 for images, _ in got)
    assert ds.epochs_completed == 0 and ds._index_in_epoch == 4


def test_uint8_dtype_and_no_reshape():
    ds = make_set(n=4, dtype=np.uint8, reshape=False)
    images, _ = ds.next_batch(2)
    assert images.dtype == np.uint8 and images.shape == (2, 2, 2, 1)
    ds = make_set(n=4, reshape=False)
    assert ds.next_batch(2)[0].shape == (2, 2, 2, 1)
    with pytest.raises(TypeError):
        make_set(dtype=np.int32)
    assert make_set(dtype=tf.float32).images.dtype == np.float32
    assert make_set(dtype=tf.uint8).images.dtype == np.uint8


def test_images_flattened_already_are_taken_as_they_are():
    flat = make_set(n=4).images
    again = input_data.DataSet(flat, np.zeros(4, np.uint8), dtype=np.uint8)
    assert again.images is flat
    with pytest.raises(ValueError):
        input_data.DataSet(np.zeros((2, 2, 2, 3), np.uint8), np.zeros(2))


def test_mismatched_arrays_are_a_programming_error():
    with pytest.raises(ValueError):
        input_data.DataSet(np.zeros((3, 2, 2, 1), np.uint8),
                           np.zeros(2, np.uint8))


def test_fake_data():
    ds = input_data.DataSet([], [], fake_data=True)
    assert ds.num_examples == 10000
    images, labels = ds.next_batch(100)
    assert images.shape == (100, 784) and np.all(images == 1.0)
    assert labels.tolist() == [0] * 100
    assert sum(len(l) for _, l in ds.batches(300)) == 10000
    one_hot = input_data.DataSet([], [], fake_data=True, one_hot=True)
    _, labels = one_hot.next_batch(2)
    assert labels.tolist() == [[1] + [0] * 9] * 2
    sets = input_data.read_data_sets('/nonexistent/never/created', True)
    assert [s.num_examples for s in sets] == [10000] * 3
    assert not os.path.exists('/nonexistent')


def test_dense_to_one_hot():
    assert input_data.dense_to_one_hot(np.array([2, 0]), 3).tolist() == [
        [0, 0, 1], [1, 0, 0]]


# --- read_data_sets on the real files ----------------------------------------


@pytest.fixture(scope='module')
def real_sets(mnist_data_dir):
    return input_data.read_data_sets(mnist_data_dir, seed=1)


def test_real_sizes_range_and_storage(real_sets, mnist_data_dir):
    train, validation, test = real_sets
    assert (train.num_examples, validation.num_examples,
            test.num_examples) == (55000, 5000, 10000)
    assert input_data.TRAIN_EXAMPLES == 60000
    assert input_data.TEST_EXAMPLES == 10000
    for ds in real_sets:
        assert ds._images.dtype == np.uint8  # 784 bytes an image, not 3136.
        assert ds.labels.dtype == np.uint8
        assert ds.labels.min() == 0 and ds.labels.max() == 9
    # The validation set is the first 5000 training examples, as in the
    # original; the famous first labels of the MNIST training file.
    assert validation.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    with open(os.path.join(mnist_data_dir, input_data.TRAIN_LABELS), 'rb') as f:
        all_labels = input_data.extract_labels(f)
    np.testing.assert_array_equal(train.labels, all_labels[5000:])
    images, labels = train.next_batch(100)
    assert images.shape == (100, 784) and images.dtype == np.float32
    assert images.min() == 0.0 and images.max() == 1.0
    test_images = test.images
    assert test_images.shape == (10000, 784) and test_images.dtype == np.float32
    assert test_images.min() == 0.0 and test_images.max() == 1.0
    assert test.images is test_images


def test_real_eval_batches_count_every_example(real_sets):
    for ds in real_sets:
        assert sum(len(l) for _, l in ds.batches(128)) == ds.num_examples


def test_real_one_hot_and_split(mnist_data_dir):
    sets = input_data.read_data_sets(mnist_data_dir, one_hot=True,
                                     validation_size=0, reshape=False)
    assert sets.train.num_examples == 60000
    assert sets.validation.num_examples == 0
    assert list(sets.validation.batches(100)) == []
    assert sets.train.labels.shape == (60000, 10)
    assert sets.test.next_batch(5)[0].shape == (5, 28, 28, 1)
    # Flattened too (it once failed to reshape the empty validation set).
    sets = input_data.read_data_sets(mnist_data_dir, validation_size=0)
    assert sets.validation.images.shape == (0, 784)
    assert sets.train.num_examples == 60000


@pytest.mark.parametrize('size', [60001, 10 ** 9, -1])
def test_validation_size_out_of_range(mnist_data_dir, size):
    message = user_error(input_data.read_data_sets, mnist_data_dir,
                         validation_size=size)
    assert str(size) in message and '60000' in message
    with pytest.raises(ValueError):  # What the original raised.
        input_data.read_data_sets(mnist_data_dir, validation_size=size)


def test_read_data_sets_downloads_from_source(mnist_source_dir, tmp_path,
                                              capsys):
    sets = input_data.read_data_sets(str(tmp_path / 'data'),
                                     source_url=mnist_source_dir)
    assert sets.test.num_examples == 10000
    out = capsys.readouterr().out.splitlines()
    # The tutorial's lines: download, then extract, file by file.
    assert out[0] == ('Successfully downloaded train-images-idx3-ubyte.gz '
                      '9912422 bytes.')
    assert out[1] == 'Extracting %s' % (tmp_path / 'data' /
                                        'train-images-idx3-ubyte.gz')
    assert len(out) == 8


def test_image_and_label_counts_must_match(tmp_path, monkeypatch):
    # Digests pin the real files, so skip the download step to feed our own.
    monkeypatch.setattr(download, 'maybe_download',
                        lambda name, folder, source_url=None:
                        os.path.join(folder, name))
    (tmp_path / input_data.TRAIN_IMAGES).write_bytes(
        image_file(3, 2, 2).getvalue())
    (tmp_path / input_data.TRAIN_LABELS).write_bytes(
        label_file([1, 2]).getvalue())
    message = user_error(input_data.read_data_sets, str(tmp_path))
    assert input_data.TRAIN_IMAGES in message
    assert input_data.TRAIN_LABELS in message
    assert '3 images' in message and '2 labels' in message

"""The confusion matrix, the misclassified selection and their pictures,
against numbers worked out by hand."""

import numpy as np
import pytest

import tensorflow.compat.v1 as tf

from mnist_tf1.summaries import confusion
from mnist_tf1.summaries import pictures

# Eight examples, worked by hand:
#   index:       0  1  2  3  4  5  6  7
#   true label:  0  1  2  2  1  0  2  1
#   prediction:  0  2  2  1  1  0  0  1
# Wrong: 1 (1 as 2), 3 (2 as 1), 6 (2 as 0).
LABELS = np.array([0, 1, 2, 2, 1, 0, 2, 1])
PREDICTIONS = np.array([0, 2, 2, 1, 1, 0, 0, 1])
BY_HAND = np.array([
    # predicted 0  1  2
    [2, 0, 0],  # true 0: indices 0, 5 right
    [0, 2, 1],  # true 1: 4, 7 right; 1 predicted 2
    [1, 1, 1],  # true 2: 2 right; 3 predicted 1; 6 predicted 0
])


def decode_png(data):
    """PNG bytes -> uint8 array, decoded by TensorFlow (not by our code)."""
    with tf.Graph().as_default(), tf.Session() as sess:
        return sess.run(tf.image.decode_png(data))


def test_confusion_matrix_matches_hand_count():
    matrix = confusion.confusion_matrix(LABELS, PREDICTIONS, num_classes=3)
    np.testing.assert_array_equal(matrix, BY_HAND)
    # Ten classes: the same counts in the top-left corner, zeros elsewhere.
    ten = confusion.confusion_matrix(LABELS, PREDICTIONS)
    assert ten.shape == (10, 10)
    np.testing.assert_array_equal(ten[:3, :3], BY_HAND)
    assert ten.sum() == 8 and np.trace(ten) == 5


def test_confusion_matrix_takes_one_hot_labels():
    one_hot = np.eye(3)[LABELS]
    np.testing.assert_array_equal(
        confusion.confusion_matrix(one_hot, PREDICTIONS, num_classes=3),
        BY_HAND)


def test_confusion_matrix_refuses_mismatched_lengths():
    with pytest.raises(ValueError):
        confusion.confusion_matrix(LABELS, PREDICTIONS[:5])


def test_misclassified_are_the_wrong_ones_in_set_order():
    np.testing.assert_array_equal(
        confusion.misclassified(LABELS, PREDICTIONS), [1, 3, 6])
    np.testing.assert_array_equal(
        confusion.misclassified(LABELS, PREDICTIONS, limit=2), [1, 3])
    np.testing.assert_array_equal(
        confusion.misclassified(np.eye(3)[LABELS], PREDICTIONS), [1, 3, 6])
    assert confusion.misclassified(LABELS, LABELS).size == 0


def test_draw_text_sets_the_glyph_pixels():
    canvas = np.zeros((7, 9, 3), dtype=np.uint8)
    pictures.draw_text(canvas, '1T', 1, 1, (255, 0, 0))
    ink = canvas[:, :, 0] > 0
    expected = np.zeros((7, 9), dtype=bool)
    # '1' at columns 1-3: .#. ##. .#. .#. ###
    for r, row in enumerate(['010', '110', '010', '010', '111']):
        for c, bit in enumerate(row):
            expected[1 + r, 1 + c] = bit == '1'
    # 'T' four columns on: ### .#. .#. .#. .#.
    for r, row in enumerate(['111', '010', '010', '010', '010']):
        for c, bit in enumerate(row):
            expected[1 + r, 5 + c] = bit == '1'
    np.testing.assert_array_equal(ink, expected)
    assert pictures.text_width('1T') == 7
    assert pictures.text_width('1T', 2) == 14


def test_encode_png_round_trips_through_tensorflow():
    rng = np.random.RandomState(0)
    grey = rng.randint(0, 256, size=(5, 7), dtype=np.uint8)
    rgb = rng.randint(0, 256, size=(4, 3, 3), dtype=np.uint8)
    np.testing.assert_array_equal(
        decode_png(pictures.encode_png(grey))[:, :, 0], grey)
    np.testing.assert_array_equal(decode_png(pictures.encode_png(rgb)), rgb)
    with pytest.raises(ValueError):
        pictures.encode_png(np.zeros((2, 2, 4), dtype=np.uint8))


def test_grid_places_tiles_row_by_row():
    tiles = np.arange(1, 6, dtype=np.uint8)[:, None, None] * np.ones(
        (5, 2, 3), dtype=np.uint8)
    out = pictures.grid(tiles, columns=2)
    assert out.shape == (6, 6)
    assert out[0, 0] == 1 and out[0, 3] == 2 and out[2, 0] == 3
    assert out[4, 0] == 5 and out[4, 3] == 0  # last row padded


def test_misclassified_image_shows_each_digit_with_its_caption():
    digits = np.zeros((3, 784), dtype=np.float32)
    digits[:, 0] = 1.0  # one white pixel at the top-left of each digit
    pixels = confusion.misclassified_image(digits, [1, 2, 0], [2, 1, 0])
    # Three tiles of 60 x 74: the 56-pixel digit, 2-pixel margins, and a
    # 10-pixel caption from row 62.
    assert pixels.shape == (74, 180, 3)
    for tile in range(3):
        # The pixel drawn twice as large, white, inside the margin.
        np.testing.assert_array_equal(pixels[2:4, tile * 60 + 2:tile * 60 + 4],
                                      255)
    caption = pixels[62:, :60]
    red = (caption == confusion._PREDICTION_COLOR).all(axis=2)
    green = (caption == confusion._TRUTH_COLOR).all(axis=2)
    # 'P2' and 'T1' at scale 2: P has 10 pixels, 2 has 11, T 7, 1 8.
    assert red.sum() == (10 + 11) * 4
    assert green.sum() == (7 + 8) * 4
    assert red.nonzero()[1].max() < green.nonzero()[1].min()


def test_confusion_image_shades_and_counts_cells():
    matrix = confusion.confusion_matrix(LABELS, PREDICTIONS, num_classes=3)
    pixels = confusion.confusion_image(matrix, cell=40)
    assert pixels.shape == (160, 160, 3)

    def corner(i, j):  # a cell pixel clear of the grid lines and the text
        return tuple(pixels[(i + 1) * 40 + 3, (j + 1) * 40 + 3])

    # Diagonal blue by row share: row 0 all right (full blue), row 2 a third.
    assert corner(0, 0) == (40, 90, 200)
    assert corner(2, 2)[2] > corner(2, 2)[0] > 40
    # Off-diagonal red by count relative to the largest mistake (1).
    assert corner(1, 2) == (210, 40, 40)
    assert corner(0, 1) == (255, 255, 255)  # no mistakes: white
    # A count drawn in a white cell leaves dark ink there.
    cell = pixels[41:80, 81:120]
    assert (cell.sum(axis=2) == 0).any()

"""What a network gets wrong: the confusion matrix, the misclassified digits,
and the two pictures TensorBoard shows of them.

Plain numpy on the predictions of one evaluation; summaries.py writes the
pictures into the `test` run at each evaluation.
"""

import numpy as np

from mnist_tf1.summaries import pictures

# Most misclassified digits drawn per evaluation, in test-set order so that
# successive evaluations show the same digits while they stay wrong.
MAX_MISCLASSIFIED = 40
_COLUMNS = 10
_ZOOM = 2  # Digits drawn at twice their 28x28 size.
_PREDICTION_COLOR = (255, 110, 110)
_TRUTH_COLOR = (110, 230, 110)


def class_ids(labels):
    """Labels as class ids [n], whether given as ids or one-hot rows."""
    labels = np.asarray(labels)
    if labels.ndim == 2:
        return labels.argmax(axis=1)
    return labels.astype(np.int64)


def confusion_matrix(labels, predictions, num_classes=10):
    """Counts[true, predicted] over a set of examples.

    Args:
      labels: true class ids [n] (or one-hot rows [n, num_classes]).
      predictions: predicted class ids [n].
      num_classes: number of classes.

    Returns:
      int64 array [num_classes, num_classes]; row i, column j counts the
      examples of class i predicted as j, so the diagonal holds the correct
      ones and each row sums to the number of examples of its class.
    """
    labels = class_ids(labels)
    predictions = np.asarray(predictions, dtype=np.int64)
    if labels.shape != predictions.shape:
        raise ValueError('%d labels but %d predictions' %
                         (labels.size, predictions.size))
    flat = labels * num_classes + predictions
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes)


def misclassified(labels, predictions, limit=MAX_MISCLASSIFIED):
    """Indices of the first `limit` examples whose prediction is wrong.

    Returns:
      int array of indices into the set, ascending.
    """
    wrong = np.flatnonzero(class_ids(labels) != np.asarray(predictions))
    return wrong[:limit]


def misclassified_image(images, labels, predictions, columns=_COLUMNS):
    """A grid of digits, each captioned with its prediction and its truth.

    Each tile shows the digit (white on black, as TensorBoard shows inputs)
    over "P<predicted> T<true>", the prediction in red, the truth in green.

    Args:
      images: the digits [n, 784], floats in [0, 1] or uint8.
      labels: their true class ids [n].
      predictions: their predicted class ids [n].
      columns: tiles per row.

    Returns:
      uint8 RGB array [rows*tile_height, columns*tile_width, 3].
    """
    digits = pictures.digits_to_uint8(images)
    side = digits.shape[1] * _ZOOM
    pad = 2
    caption_height = pictures.GLYPH_HEIGHT * 2
    tile_w, tile_h = side + 2 * pad, side + 3 * pad + caption_height + pad
    tiles = np.zeros((len(digits), tile_h, tile_w, 3), dtype=np.uint8)
    for i, (digit, label, prediction) in enumerate(
            zip(digits, class_ids(labels), predictions)):
        big = np.kron(digit, np.ones((_ZOOM, _ZOOM), dtype=np.uint8))
        tiles[i, pad:pad + side, pad:pad + side] = big[:, :, None]
        predicted, truth = 'P%d' % prediction, 'T%d' % label
        width = pictures.text_width(predicted + ' ' + truth, 2)
        left = (tile_w - width) // 2
        top = pad + side + 2 * pad
        pictures.draw_text(tiles[i], predicted, top, left,
                           _PREDICTION_COLOR, 2)
        pictures.draw_text(
            tiles[i], truth, top,
            left + pictures.text_width(predicted + ' ', 2) + 2,
            _TRUTH_COLOR, 2)
    return pictures.grid(tiles, min(columns, max(1, len(tiles))))


def _shade(fraction, color):
    """White blended towards `color` by fraction in [0, 1]."""
    white = np.array(pictures.WHITE, dtype=float)
    return tuple(np.rint(white + (np.array(color) - white) * fraction)
                 .astype(np.uint8))


def confusion_image(matrix, cell=40):
    """The confusion matrix as a picture, counts written in the cells.

    Rows are the true digit (T, down the left), columns the predicted digit
    (P, along the top). Diagonal cells are blue, darker for a larger share
    of their row; off-diagonal cells are red, darker for more mistakes
    (relative to the largest mistake count), so the confusions stand out.

    Args:
      matrix: counts [k, k] from confusion_matrix().
      cell: cell size in pixels.

    Returns:
      uint8 RGB array [(k+1)*cell, (k+1)*cell, 3].
    """
    matrix = np.asarray(matrix)
    k = matrix.shape[0]
    size = (k + 1) * cell
    canvas = np.full((size, size, 3), 255, dtype=np.uint8)
    row_totals = np.maximum(matrix.sum(axis=1), 1)
    off_diagonal = matrix * (1 - np.eye(k, dtype=matrix.dtype))
    worst = max(int(off_diagonal.max()), 1)
    text_h = pictures.GLYPH_HEIGHT * 2

    def write(text, top, left, color):
        scale = 2 if pictures.text_width(text, 2) <= cell - 4 else 1
        width = pictures.text_width(text, scale)
        pictures.draw_text(canvas, text, top + (cell - pictures.GLYPH_HEIGHT *
                                                scale) // 2,
                           left + (cell - width) // 2, color, scale)

    # Corner: T (rows) bottom-left, P (columns) top-right.
    pictures.draw_text(canvas, 'T', cell - text_h - 3, 4, pictures.BLACK, 2)
    pictures.draw_text(canvas, 'P', 3, cell - 10, pictures.BLACK, 2)
    for i in range(k):
        write(str(i), (i + 1) * cell, 0, pictures.BLACK)
        write(str(i), 0, (i + 1) * cell, pictures.BLACK)
        for j in range(k):
            if i == j:
                fraction = matrix[i, j] / row_totals[i]
                color = _shade(fraction, (40, 90, 200))
            else:
                fraction = matrix[i, j] / worst
                color = _shade(fraction, (210, 40, 40))
            top, left = (i + 1) * cell, (j + 1) * cell
            canvas[top + 1:top + cell, left + 1:left + cell] = color
            ink = pictures.WHITE if fraction > 0.55 else pictures.BLACK
            write(str(int(matrix[i, j])), top, left, ink)
    # Grid lines.
    canvas[cell::cell, cell:] = 200
    canvas[cell:, cell::cell] = 200
    return canvas

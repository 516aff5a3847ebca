"""Writes the embedding projector's files: a layer's activations for a sample
of digits, their labels, and a sprite of the digits.

TensorBoard's projector reads `projector_config.pbtxt` in a run directory.
The activations go in a TSV file beside it rather than in a checkpoint, so
the training checkpoints keep exactly the network's variables (a rerun
restores them) and the projector needs no TensorFlow graph of its own:

    <log_dir>/projector_config.pbtxt
    <log_dir>/projector/embedding.tsv    one row of activations per digit
    <log_dir>/projector/metadata.tsv     label and prediction per digit
    <log_dir>/projector/sprite.png       the digits, black on white

Each file appears whole or not at all (written to a temporary name, then
renamed); the config is written last.
"""

import io
import math
import os

import numpy as np

from mnist_tf1.platform import atomic_write
from mnist_tf1.summaries import confusion
from mnist_tf1.summaries import pictures

CONFIG_FILENAME = 'projector_config.pbtxt'
ASSETS_DIR = 'projector'
# How many test digits the projector shows.
SAMPLE_SIZE = 1000


def sprite(images):
    """The digits [n, 784] as one square sprite image, black ink on white.

    Returns:
      uint8 array [side*28, side*28] with side = ceil(sqrt(n)).
    """
    digits = 255 - pictures.digits_to_uint8(images)
    side = max(1, int(math.ceil(math.sqrt(len(digits)))))
    # Square, as the projector's sprites conventionally are: blank cells
    # fill the last rows.
    blank = np.full((side * side - len(digits),) + digits.shape[1:], 255,
                    dtype=np.uint8)
    return pictures.grid(np.concatenate([digits, blank]), side)


def config_text(tensor_name, num_rows, dim, image_size=28):
    """The projector config (protobuf text format) for one embedding."""
    return ('embeddings {\n'
            '  tensor_name: "%s"\n'
            '  tensor_shape: %d\n'
            '  tensor_shape: %d\n'
            '  tensor_path: "%s/embedding.tsv"\n'
            '  metadata_path: "%s/metadata.tsv"\n'
            '  sprite {\n'
            '    image_path: "%s/sprite.png"\n'
            '    single_image_dim: %d\n'
            '    single_image_dim: %d\n'
            '  }\n'
            '}\n' % (tensor_name, num_rows, dim, ASSETS_DIR, ASSETS_DIR,
                     ASSETS_DIR, image_size, image_size))


def write(log_dir, tensor_name, embeddings, images, labels, predictions):
    """Writes the projector files for one embedding into log_dir.

    Args:
      log_dir: the run directory (where the training events are).
      tensor_name: the name the projector shows, e.g. 'hidden2/Relu'.
      embeddings: float array [n, dim], one row per digit.
      images: the digits [n, 784].
      labels: their true class ids [n] (or one-hot rows).
      predictions: the network's predicted class ids [n].
    """
    embeddings = np.asarray(embeddings, dtype=np.float32).reshape(
        len(embeddings), -1)
    assets = os.path.join(log_dir, ASSETS_DIR)
    rows = io.BytesIO()
    np.savetxt(rows, embeddings, fmt='%.6g', delimiter='\t')
    atomic_write.write(os.path.join(assets, 'embedding.tsv'), rows.getvalue())
    # With more than one column the projector wants a header row.
    metadata = ['label\tprediction'] + [
        '%d\t%d' % (label, prediction)
        for label, prediction in zip(confusion.class_ids(labels), predictions)]
    atomic_write.write(os.path.join(assets, 'metadata.tsv'),
                      ('\n'.join(metadata) + '\n').encode('ascii'))
    atomic_write.write(os.path.join(assets, 'sprite.png'),
                      pictures.encode_png(sprite(images)))
    atomic_write.write(
        os.path.join(log_dir, CONFIG_FILENAME),
        config_text(tensor_name, embeddings.shape[0],
                    embeddings.shape[1]).encode('ascii'))

"""The input placeholders every graph of the project is built on.

The tutorial's placeholder_inputs(), used by the training program and by the
commands that rebuild a trained network (networks/trained_model.py), so that
the images always enter a graph as the same `images` placeholder.
"""

import tensorflow.compat.v1 as tf

from mnist_tf1 import mnist


def placeholder_inputs(batch_size, one_hot=False):
    """Generate placeholder variables to represent the input tensors.

    These placeholders are used as inputs by the rest of the model building
    code and will be fed from the downloaded data in the .run() loop.

    Args:
      batch_size: The batch size will be baked into both placeholders; None
        lets one graph take training batches and evaluation batches alike.
      one_hot: Whether labels are one-hot vectors rather than class ids.

    Returns:
      images_placeholder: Images placeholder.
      labels_placeholder: Labels placeholder.
    """
    # Note that the shapes of the placeholders match the shapes of the full
    # image and label tensors, except the first dimension is now batch_size
    # rather than the full size of the train or test data sets.
    images_placeholder = tf.placeholder(
        tf.float32, shape=(batch_size, mnist.IMAGE_PIXELS), name='images')
    if one_hot:
        labels_placeholder = tf.placeholder(
            tf.float32, shape=(batch_size, mnist.NUM_CLASSES), name='labels')
    else:
        labels_placeholder = tf.placeholder(
            tf.int32, shape=(batch_size,), name='labels')
    return images_placeholder, labels_placeholder

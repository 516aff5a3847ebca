"""The single-layer softmax network of "LTFN 1: Intro to TensorFlow".

784 inputs -> 10 logits: `layer1_weights` random normal (stddev 1),
`layer1_biases` zeros; the mean softmax cross-entropy against one-hot labels
is the `cost`; plain gradient descent at 0.01, batches of 100, 1,000 steps,
printing `Cost: ...` every step. Published: the cost falls from about 12.7 to
about 3.3. The tutorial never measured the accuracy; the training loop's
evaluations do.
"""

import tensorflow.compat.v1 as tf

from mnist_tf1.networks import ops
from mnist_tf1.networks import spec

NUM_CLASSES = 10
IMAGE_PIXELS = 28 * 28

# How the training loop drives this network: see networks/spec.py.
SPEC = spec.Spec(
    defaults={
        'learning_rate': 0.01,
        'max_steps': 1000,
        'batch_size': 100,
        'print_cost': True,
    },
    one_hot=True,
    options=('print_cost',))


def inference(images):
    """One fully connected layer: the logits.

    Args:
      images: float32 [None, 784] images in [0, 1].

    Returns:
      logits: float32 [None, 10].
    """
    # Completely random weights and zero biases: "not the greatest choice",
    # the tutorial says, but they work for now.
    layer1_weights = tf.Variable(tf.random_normal([IMAGE_PIXELS, NUM_CLASSES]),
                                 name='layer1_weights')
    layer1_biases = tf.Variable(tf.zeros([NUM_CLASSES]), name='layer1_biases')
    return tf.add(tf.matmul(images, layer1_weights), layer1_biases,
                  name='logits')


def loss(logits, labels):
    """The mean softmax cross-entropy against one-hot labels, 'cost'."""
    return tf.reduce_mean(
        tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits),
        name='cost')


def training(loss, learning_rate):
    """Vanilla gradient descent on the cost; a scalar summary of it."""
    return ops.gradient_descent(loss, learning_rate)


def evaluation(logits, labels):
    """The number of examples whose highest logit is their one-hot label."""
    return ops.count_correct_one_hot(logits, labels)


def progress_printer(flag_values, eval_correct, steps_per_epoch):
    """The tutorial's `Cost: c` line every step, unless --noprint_cost."""
    del eval_correct, steps_per_epoch  # Unused.
    if not flag_values.print_cost:
        return None

    def print_progress(sess, step, loss_value, feed_dict):
        del sess, step, feed_dict  # Unused.
        # print('Cost:', c) as the tutorial did: the float32's shortest form.
        print('Cost:', loss_value)
    return print_progress

"""The three-layer network of the "Python TensorFlow tutorial" (adventures in
machine learning).

784 -> 300 (ReLU) -> 10 (softmax); weights `W1`, `W2` random normal (stddev
0.03), biases `b1`, `b2` random normal (stddev 1, as in the article's code);
gradient descent at 0.5; batches of 100; 10 epochs of 550 batches (5,500
steps), printing the average cost of each epoch as `Epoch: 1 cost = 0.586`.
Published: about 98% test accuracy.

The article's cost is a clipped-softmax cross-entropy with a (1 - y) term,
    -mean(sum(y * log(p) + (1 - y) * log(1 - p), axis=1)),
    p = clip(softmax(logits), 1e-10, 0.9999999);
--clipped_loss trains on exactly that. By default the network trains on the
numerically stable softmax_cross_entropy_with_logits (the -y * log(p) part,
computed from the logits, no clipping).
"""

import tensorflow.compat.v1 as tf

from mnist_tf1.networks import ops
from mnist_tf1.networks import spec

NUM_CLASSES = 10
IMAGE_PIXELS = 28 * 28

# How the training loop drives this network: see networks/spec.py.
SPEC = spec.Spec(
    defaults={
        'learning_rate': 0.5,
        'max_steps': 5500,  # 10 epochs of 550 batches of 100.
        'batch_size': 100,
        'hidden1': 300,
        'clipped_loss': False,
    },
    one_hot=True,
    hparams=('hidden1',),
    loss_params=('clipped_loss',))


def inference(images, hidden_units):
    """The hidden layer and the output layer's logits.

    Args:
      images: float32 [None, 784] images in [0, 1].
      hidden_units: units in the hidden layer (the tutorial: 300).

    Returns:
      logits: float32 [None, 10], 'logits'; the tutorial's output y_ is their
      softmax.
    """
    # The weights connecting the input to the hidden layer...
    W1 = tf.Variable(tf.random_normal([IMAGE_PIXELS, hidden_units],
                                      stddev=0.03), name='W1')
    b1 = tf.Variable(tf.random_normal([hidden_units]), name='b1')
    # ...and the hidden layer to the output layer.
    W2 = tf.Variable(tf.random_normal([hidden_units, NUM_CLASSES],
                                      stddev=0.03), name='W2')
    b2 = tf.Variable(tf.random_normal([NUM_CLASSES]), name='b2')
    hidden_out = tf.nn.relu(tf.add(tf.matmul(images, W1), b1))
    return tf.add(tf.matmul(hidden_out, W2), b2, name='logits')


def loss(logits, labels, clipped=False):
    """The cross-entropy cost, 'cross_entropy'.

    Args:
      logits: from inference().
      labels: one-hot float32 [None, 10].
      clipped: the article's clipped-softmax formula exactly (see above)
        instead of softmax_cross_entropy_with_logits.

    Returns:
      The scalar cost.
    """
    if clipped:
        y_ = tf.nn.softmax(logits)
        y_clipped = tf.clip_by_value(y_, 1e-10, 0.9999999)
        return tf.negative(tf.reduce_mean(tf.reduce_sum(
            labels * tf.log(y_clipped) + (1 - labels) * tf.log(1 - y_clipped),
            axis=1)), name='cross_entropy')
    return tf.reduce_mean(
        tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits),
        name='cross_entropy')


def training(loss, learning_rate):
    """Gradient descent on the cost; a scalar summary of it."""
    return ops.gradient_descent(loss, learning_rate)


def evaluation(logits, labels):
    """The number of examples whose highest output is their one-hot label."""
    return ops.count_correct_one_hot(logits, labels)


def progress_printer(flag_values, eval_correct, steps_per_epoch):
    """`Epoch: N cost = %.3f`, the average cost, after each epoch's batches.

    Epochs count from the first step (550 steps each with the tutorial's
    settings). A run resumed mid-epoch averages the steps it ran.
    """
    del flag_values, eval_correct  # Unused.
    steps_per_epoch = max(1, steps_per_epoch)
    costs = []

    def print_progress(sess, step, loss_value, feed_dict):
        del sess, feed_dict  # Unused.
        costs.append(float(loss_value))
        if (step + 1) % steps_per_epoch == 0:
            avg_cost = sum(costs) / len(costs)
            print('Epoch:', (step + 1) // steps_per_epoch, 'cost =',
                  '{:.3f}'.format(avg_cost))
            del costs[:]
    return print_progress

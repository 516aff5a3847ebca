"""The MNIST network of "Introduction to TensorFlow as a computational
framework": two hidden layers with dropout.

Scopes input / model (fc1, fc2, fc3) / train / evaluation as in the tutorial.
fc1: 784 -> 500, SOFTMAX activation (sic), dropout; fc2: 500 -> 100, ReLU,
dropout; fc3: 100 -> 10 logits. Weights truncated normal (stddev 0.1), biases
0.1; softmax cross-entropy on one-hot labels; Adam at 0.001; keep probability
0.2 while training, 1.0 for evaluation; batches of 100, 20,000 steps, printing
`mid train accuracy: ... at step: ...` every 1,000 steps. Published: final test
accuracy 0.9613.
"""

import numpy as np
import tensorflow.compat.v1 as tf

from mnist_tf1.networks import ops
from mnist_tf1.networks import spec

NUM_CLASSES = 10
IMAGE_PIXELS = 28 * 28

# How the training loop drives this network: see networks/spec.py.
SPEC = spec.Spec(
    defaults={
        'learning_rate': 0.001,
        'max_steps': 20000,
        'batch_size': 100,
        'hidden1': 500,
        'hidden2': 100,
        'keep_prob': 0.2,
    },
    one_hot=True,
    hparams=('hidden1', 'hidden2'),
    train_feeds=('keep_prob',))


def _weights_and_biases(in_units, out_units):
    weights = tf.Variable(
        tf.truncated_normal([in_units, out_units], stddev=0.1), name='weights')
    biases = tf.Variable(tf.constant(0.1, shape=[out_units]), name='biases')
    return weights, biases


def inference(images, hidden1_units, hidden2_units):
    """Builds the model up to the logits.

    Args:
      images: float32 [None, 784] images in [0, 1].
      hidden1_units: units in fc1 (the tutorial: 500).
      hidden2_units: units in fc2 (the tutorial: 100).

    Returns:
      logits: float32 [None, 10], 'model/fc3/logits/logits'. The dropout keep
      probability is the placeholder 'input/keep_prob' (default 1.0, as for
      evaluation), also in the graph collection 'keep_prob'.
    """
    with tf.name_scope('input'):
        # The probability of a neuron being kept during dropout.
        keep_prob = ops.train_feed_placeholder('keep_prob', 1.0)
    with tf.name_scope('model'):
        with tf.name_scope('fc1'):
            # 784 input pixels to the first hidden layer.
            w1, b1 = _weights_and_biases(IMAGE_PIXELS, hidden1_units)
            with tf.name_scope('softmax_activation'):
                a1 = tf.nn.softmax(tf.matmul(images, w1) + b1)
            with tf.name_scope('dropout'):
                drop1 = ops.dropout(a1, keep_prob)
        with tf.name_scope('fc2'):
            w2, b2 = _weights_and_biases(hidden1_units, hidden2_units)
            with tf.name_scope('relu_activation'):
                a2 = tf.nn.relu(tf.matmul(drop1, w2) + b2)
            with tf.name_scope('dropout'):
                drop2 = ops.dropout(a2, keep_prob)
        with tf.name_scope('fc3'):
            w3, b3 = _weights_and_biases(hidden2_units, NUM_CLASSES)
            with tf.name_scope('logits'):
                # The final layer has no dropout.
                logits = tf.add(tf.matmul(drop2, w3), b3, name='logits')
    return logits


def loss(logits, labels):
    """The mean softmax cross-entropy against one-hot labels.

    The op is 'train/loss/mean', in the tutorial's train/loss scope. The
    tutorial minimized the per-example vector (that is, its sum); Adam's steps
    do not depend on the loss's scale, so the mean trains the same.
    """
    with tf.name_scope('train/'):
        with tf.name_scope('loss'):
            cross_entropy = tf.nn.softmax_cross_entropy_with_logits(
                labels=labels, logits=logits)
            return tf.reduce_mean(cross_entropy, name='mean')


def training(loss, learning_rate):
    """Adam in the 'train' scope, stepping the global step."""
    tf.summary.scalar('loss', loss)
    with tf.name_scope('train/'):
        global_step = tf.train.get_or_create_global_step()
        return tf.train.AdamOptimizer(learning_rate).minimize(
            loss, global_step=global_step)


def evaluation(logits, labels):
    """The number correct, in the 'evaluation' scope; an accuracy summary."""
    with tf.name_scope('evaluation'):
        correct_prediction = tf.equal(tf.argmax(logits, 1),
                                      tf.argmax(labels, 1))
        accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32),
                                  name='accuracy')
        correct = tf.reduce_sum(tf.cast(correct_prediction, tf.int32))
    tf.summary.scalar('accuracy', accuracy)
    return correct


def progress_printer(flag_values, eval_correct, steps_per_epoch):
    """`mid train accuracy: %s at step: %d` every 1,000 steps.

    As in the tutorial: the accuracy on the batch just trained on, with
    dropout off.
    """
    del steps_per_epoch  # Unused.
    batch_size = flag_values.batch_size

    def print_progress(sess, step, loss_value, feed_dict):
        del loss_value  # Unused.
        if step % 1000 == 0:
            correct = sess.run(eval_correct,
                               feed_dict=ops.evaluation_feed(feed_dict))
            # A float32, printed as the tutorial's float32 accuracy was.
            print('mid train accuracy: %s at step: %d' %
                  (np.float32(correct / batch_size), step))
    return print_progress

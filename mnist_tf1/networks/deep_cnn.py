"""The deep convolutional network of TensorFlow's mnist_deep.py ("Deep MNIST
for Experts"), the network the LTFN series was heading for.

conv 5x5x32 -> max pool 2x2 -> conv 5x5x64 -> max pool 2x2 -> fully connected
1024 (ReLU) -> dropout -> 10 logits; weights truncated normal (stddev 0.1),
biases 0.1; softmax cross-entropy on one-hot labels; Adam at 1e-4; batch 50,
keep probability 0.5 while training, 20,000 steps. Published: about 99.2%
test accuracy.

The tutorial's own variables were unnamed (conv1/Variable, conv1/Variable_1);
here they are conv1/weights and conv1/biases, in the tutorial's scopes, so
that checkpoints read like Mechanics 101's.
"""

import tensorflow.compat.v1 as tf

from mnist_tf1.networks import ops
from mnist_tf1.networks import spec

NUM_CLASSES = 10
IMAGE_SIZE = 28

# How the training loop drives this network: see networks/spec.py.
SPEC = spec.Spec(
    defaults={
        'learning_rate': 1e-4,
        'max_steps': 20000,
        'batch_size': 50,
        'keep_prob': 0.5,
        # Evaluation batches of 2,000 hold about 400 MB of convolution
        # activations: a one-step run peaked at 1,239 MB. 500 keeps it at about
        # 830 MB and evaluates as fast (2 CPU cores; see docs/benchmark.md).
        'eval_batch_size': 500,
    },
    one_hot=True,
    train_feeds=('keep_prob',))


def weight_variable(shape):
    """A weight variable with a small amount of noise, for symmetry breaking."""
    return tf.Variable(tf.truncated_normal(shape, stddev=0.1), name='weights')


def bias_variable(shape):
    """A slightly positive bias, to avoid "dead" ReLU neurons."""
    return tf.Variable(tf.constant(0.1, shape=shape), name='biases')


def conv2d(x, W):
    """A 2-D convolution with full stride, output the size of the input."""
    return tf.nn.conv2d(x, W, strides=[1, 1, 1, 1], padding='SAME')


def max_pool_2x2(x):
    """Downsamples a feature map by 2X."""
    return tf.nn.max_pool(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1],
                          padding='SAME')


def inference(images):
    """Builds the graph for a deep net for classifying digits.

    Args:
      images: float32 [None, 784] images in [0, 1].

    Returns:
      Logits, float32 [None, 10]. The dropout keep probability is the
      placeholder 'dropout/keep_prob' (default 1.0, as for evaluation), also
      in the graph collection 'keep_prob'.
    """
    # Reshape to use within a convolutional neural net: the last dimension is
    # for "features", one here because the images are grayscale.
    with tf.name_scope('reshape'):
        x_image = tf.reshape(images, [-1, IMAGE_SIZE, IMAGE_SIZE, 1])

    # First convolutional layer: maps one grayscale image to 32 feature maps.
    with tf.name_scope('conv1'):
        W_conv1 = weight_variable([5, 5, 1, 32])
        b_conv1 = bias_variable([32])
        h_conv1 = tf.nn.relu(conv2d(x_image, W_conv1) + b_conv1)

    # Pooling layer: downsamples by 2X.
    with tf.name_scope('pool1'):
        h_pool1 = max_pool_2x2(h_conv1)

    # Second convolutional layer: maps 32 feature maps to 64.
    with tf.name_scope('conv2'):
        W_conv2 = weight_variable([5, 5, 32, 64])
        b_conv2 = bias_variable([64])
        h_conv2 = tf.nn.relu(conv2d(h_pool1, W_conv2) + b_conv2)

    # Second pooling layer.
    with tf.name_scope('pool2'):
        h_pool2 = max_pool_2x2(h_conv2)

    # Fully connected layer 1: after two rounds of downsampling the 28x28
    # image is down to 7x7x64 feature maps; map them to 1024 features.
    with tf.name_scope('fc1'):
        W_fc1 = weight_variable([7 * 7 * 64, 1024])
        b_fc1 = bias_variable([1024])
        h_pool2_flat = tf.reshape(h_pool2, [-1, 7 * 7 * 64])
        h_fc1 = tf.nn.relu(tf.matmul(h_pool2_flat, W_fc1) + b_fc1)

    # Dropout controls the complexity of the model, prevents co-adaptation of
    # features. Evaluation and prediction leave the keep probability at 1.0.
    with tf.name_scope('dropout'):
        keep_prob = ops.train_feed_placeholder('keep_prob', 1.0)
        h_fc1_drop = ops.dropout(h_fc1, keep_prob)

    # Map the 1024 features to 10 classes, one for each digit.
    with tf.name_scope('fc2'):
        W_fc2 = weight_variable([1024, NUM_CLASSES])
        b_fc2 = bias_variable([NUM_CLASSES])
        y_conv = tf.matmul(h_fc1_drop, W_fc2) + b_fc2
    return y_conv


def loss(logits, labels):
    """Mean softmax cross-entropy against one-hot labels, 'cross_entropy'."""
    with tf.name_scope('loss'):
        cross_entropy = tf.nn.softmax_cross_entropy_with_logits(
            labels=labels, logits=logits)
    return tf.reduce_mean(cross_entropy, name='cross_entropy')


def training(loss, learning_rate):
    """Adam on the loss, stepping the global step; a scalar loss summary."""
    ops.loss_summary(loss)
    with tf.name_scope('adam_optimizer'):
        global_step = tf.train.get_or_create_global_step()
        return tf.train.AdamOptimizer(learning_rate).minimize(
            loss, global_step=global_step)


def evaluation(logits, labels):
    """The number of examples whose arg-max logit is their one-hot label."""
    with tf.name_scope('accuracy'):
        correct_prediction = tf.equal(tf.argmax(logits, 1),
                                      tf.argmax(labels, 1))
        return tf.reduce_sum(tf.cast(correct_prediction, tf.int32))


def progress_printer(flag_values, eval_correct, steps_per_epoch):
    """mnist_deep.py's 'step %d, training accuracy %g' every 100 steps.

    The accuracy is on the step's own batch, with dropout off. (The tutorial
    measured the batch just before training on it; here it is just after.)
    """
    del steps_per_epoch  # Unused.
    batch_size = flag_values.batch_size

    def print_progress(sess, step, loss_value, feed_dict):
        del loss_value  # Unused.
        if step % 100 == 0:
            correct = sess.run(eval_correct,
                               feed_dict=ops.evaluation_feed(feed_dict))
            print('step %d, training accuracy %g' %
                  (step, correct / float(batch_size)))
    return print_progress

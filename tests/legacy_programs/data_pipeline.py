"""A tf.data input pipeline feeding a tf.layers network, in TensorFlow
1.x's graph style: the arrays go in through placeholders when the
iterator is initialized (not as constants in the graph), as bytes that the
pipeline scales; one reinitializable iterator serves the training and the
test set. Prints the test accuracy last.
"""
import argparse

import tensorflow as tf
from tensorflow.examples.tutorials.mnist import input_data

parser = argparse.ArgumentParser()
parser.add_argument('--data_dir', default='/tmp/mnist_data')
parser.add_argument('--max_steps', type=int, default=2000)
parser.add_argument('--batch_size', type=int, default=100)
FLAGS = parser.parse_args()

mnist = input_data.read_data_sets(FLAGS.data_dir, dtype=tf.uint8)

images_in = tf.placeholder(tf.uint8, [None, 784])
labels_in = tf.placeholder(tf.int64, [None])
source = tf.data.Dataset.from_tensor_slices((images_in, labels_in))


def scaled(images, labels):
    return tf.cast(images, tf.float32) / 255.0, labels


train_set = source.shuffle(10000, seed=1).repeat().batch(
    FLAGS.batch_size).map(scaled)
test_set = source.batch(1000).map(scaled)

iterator = tf.data.Iterator.from_structure(train_set.output_types,
                                           train_set.output_shapes)
images, labels = iterator.get_next()
train_init = iterator.make_initializer(train_set)
test_init = iterator.make_initializer(test_set)

hidden = tf.layers.dense(images, 256, activation=tf.nn.relu, name='hidden')
logits = tf.layers.dense(hidden, 10, name='softmax_linear')
loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, 1), labels),
                                tf.int32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    sess.run(train_init, {images_in: mnist.train.images,
                          labels_in: mnist.train.labels})
    for step in range(FLAGS.max_steps):
        _, value = sess.run([train_op, loss])
        if step % 100 == 0:
            print('Step %d: loss = %.2f' % (step, value))
    sess.run(test_init, {images_in: mnist.test.images,
                         labels_in: mnist.test.labels})
    right = 0
    while True:
        try:
            right += sess.run(correct)
        except tf.errors.OutOfRangeError:
            break
    print('Test accuracy: %.4f' % (right / mnist.test.num_examples))

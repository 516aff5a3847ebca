"""A small convolutional network written with tf.layers, as TensorFlow
1.4-1.15 programs wrote it (the Layers tutorial's style, with a Session).

Two conv/pool blocks, a dense layer with dropout, Adam; prints the test
accuracy last and saves the model, whose variables keep 1.x's names
(conv2d/kernel, dense/bias, ...).
"""
import argparse
import os
import sys

import tensorflow as tf
from tensorflow.examples.tutorials.mnist import input_data

FLAGS = None


def cnn(images, training):
    x = tf.reshape(images, [-1, 28, 28, 1])
    x = tf.layers.conv2d(x, 8, 5, padding='same', activation=tf.nn.relu)
    x = tf.layers.max_pooling2d(x, 2, 2)
    x = tf.layers.conv2d(x, 16, 5, padding='same', activation=tf.nn.relu)
    x = tf.layers.max_pooling2d(x, 2, 2)
    x = tf.layers.flatten(x)
    x = tf.layers.dense(x, 128, activation=tf.nn.relu)
    x = tf.layers.dropout(x, rate=0.4, training=training)
    return tf.layers.dense(x, 10)


def main(_):
    mnist = input_data.read_data_sets(FLAGS.data_dir)
    images = tf.placeholder(tf.float32, [None, 784])
    labels = tf.placeholder(tf.int64, [None])
    training = tf.placeholder_with_default(False, [])
    logits = cnn(images, training)
    loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    train_op = tf.train.AdamOptimizer(1e-3).minimize(
        loss, global_step=tf.train.get_or_create_global_step())
    correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, 1), labels),
                                    tf.int32))
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(FLAGS.max_steps):
            batch_x, batch_y = mnist.train.next_batch(50)
            _, value = sess.run([train_op, loss], {images: batch_x,
                                                   labels: batch_y,
                                                   training: True})
            if step % 100 == 0:
                print('step %d, loss %g' % (step, value))
        saver.save(sess, os.path.join(FLAGS.log_dir, 'model.ckpt'),
                   global_step=FLAGS.max_steps)
        right = 0
        for start in range(0, mnist.test.num_examples, 500):
            right += sess.run(correct, {
                images: mnist.test.images[start:start + 500],
                labels: mnist.test.labels[start:start + 500]})
        print('test accuracy %g' % (right / mnist.test.num_examples))


if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--data_dir', default='/tmp/mnist_data')
    parser.add_argument('--log_dir', default='/tmp/layers_cnn')
    parser.add_argument('--max_steps', type=int, default=2000)
    FLAGS, unparsed = parser.parse_known_args()
    tf.app.run(main=main, argv=[sys.argv[0]] + unparsed)

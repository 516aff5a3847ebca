"""A small network written with TF-Slim, as tf.contrib.slim programs of the
TensorFlow 1.x years were: arg_scope for the shared arguments, slim's
layers, slim.learning.create_train_op. Prints the test accuracy last.
"""
import argparse

import tensorflow as tf
import tensorflow.contrib.slim as slim
from tensorflow.examples.tutorials.mnist import input_data


def lenet(images, is_training):
    net = tf.reshape(images, [-1, 28, 28, 1])
    with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        activation_fn=tf.nn.relu,
                        weights_regularizer=slim.l2_regularizer(1e-4)):
        net = slim.conv2d(net, 16, [5, 5], scope='conv1')
        net = slim.max_pool2d(net, [2, 2], scope='pool1')
        net = slim.flatten(net)
        net = slim.fully_connected(net, 128, scope='fc1')
        net = slim.dropout(net, 0.75, is_training=is_training, scope='dropout1')
        return slim.fully_connected(net, 10, activation_fn=None, scope='fc2')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--data_dir', default='/tmp/mnist_data')
    parser.add_argument('--max_steps', type=int, default=1000)
    args = parser.parse_args()
    mnist = input_data.read_data_sets(args.data_dir, one_hot=True)

    images = tf.placeholder(tf.float32, [None, 784])
    labels = tf.placeholder(tf.float32, [None, 10])
    is_training = tf.placeholder(tf.bool, [])
    logits = lenet(images, is_training)
    tf.losses.softmax_cross_entropy(labels, logits)
    total_loss = tf.losses.get_total_loss()
    train_op = slim.learning.create_train_op(total_loss,
                                             tf.train.AdamOptimizer(1e-3))
    accuracy = tf.reduce_mean(tf.cast(
        tf.equal(tf.argmax(logits, 1), tf.argmax(labels, 1)), tf.float32))

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(args.max_steps):
            xs, ys = mnist.train.next_batch(50)
            loss = sess.run(train_op, {images: xs, labels: ys,
                                       is_training: True})
            if step % 100 == 0:
                print('step %d: total loss %.4f' % (step, loss))
        scores = [sess.run(accuracy, {images: mnist.test.images[i:i + 500],
                                      labels: mnist.test.labels[i:i + 500],
                                      is_training: False})
                  for i in range(0, mnist.test.num_examples, 500)]
        print('test accuracy %.4f' % (sum(scores) / len(scores)))


if __name__ == '__main__':
    main()

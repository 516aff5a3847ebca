"""Softmax regression on the MNIST that tf.contrib.learn's datasets gave:
load_dataset('mnist') reads (or downloads) it into ./MNIST-data, with
integer labels, as TensorFlow 1.x programs of the contrib.learn years did.
Prints the test accuracy last.
"""
import sys

import numpy as np
import tensorflow as tf
from tensorflow.contrib.learn.python.learn.datasets import mnist as mnist_data

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 1000

mnist = tf.contrib.learn.datasets.load_dataset('mnist')
test_labels = mnist_data.dense_to_one_hot(
    np.asarray(mnist.test.labels, dtype=np.int64), 10)

x = tf.placeholder(tf.float32, [None, 784])
y_ = tf.placeholder(tf.int32, [None])
W = tf.Variable(tf.zeros([784, 10]))
b = tf.Variable(tf.zeros([10]))
y = tf.matmul(x, W) + b
loss = tf.losses.sparse_softmax_cross_entropy(labels=y_, logits=y)
train_step = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
correct = tf.equal(tf.argmax(y, 1), tf.argmax(test_labels, 1))

sess = tf.InteractiveSession()
tf.global_variables_initializer().run()
for _ in range(steps):
    batch_xs, batch_ys = mnist.train.next_batch(100)
    sess.run(train_step, feed_dict={x: batch_xs, y_: batch_ys})
print(sess.run(tf.reduce_mean(tf.cast(correct, tf.float32)),
               feed_dict={x: mnist.test.images}))

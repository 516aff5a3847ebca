"""An LSTM that reads each MNIST image as 28 rows of 28 pixels, written with
tf.contrib.rnn as TensorFlow 1.x blog programs wrote it: static_rnn over the
28 time steps, the last output through a softmax layer of tf.Variables.
Prints the test accuracy last.
"""
import argparse

import tensorflow as tf
from tensorflow.contrib import rnn
from tensorflow.examples.tutorials.mnist import input_data

parser = argparse.ArgumentParser()
parser.add_argument('--data_dir', default='/tmp/mnist_data')
parser.add_argument('--max_steps', type=int, default=1000)
args = parser.parse_args()

n_steps, n_input, n_hidden, n_classes = 28, 28, 64, 10
mnist = input_data.read_data_sets(args.data_dir, one_hot=True)

x = tf.placeholder(tf.float32, [None, n_steps, n_input])
y = tf.placeholder(tf.float32, [None, n_classes])
weights = tf.Variable(tf.random_normal([n_hidden, n_classes]))
biases = tf.Variable(tf.random_normal([n_classes]))

rows = tf.unstack(x, n_steps, 1)
lstm_cell = rnn.BasicLSTMCell(n_hidden, forget_bias=1.0)
outputs, states = tf.contrib.rnn.static_rnn(lstm_cell, rows, dtype=tf.float32)
logits = tf.matmul(outputs[-1], weights) + biases

cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(
    logits=logits, labels=y))
optimizer = tf.train.AdamOptimizer(learning_rate=0.01).minimize(cost)
accuracy = tf.reduce_mean(tf.cast(
    tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1)), tf.float32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(1, args.max_steps + 1):
        batch_x, batch_y = mnist.train.next_batch(100)
        batch_x = batch_x.reshape((100, n_steps, n_input))
        sess.run(optimizer, feed_dict={x: batch_x, y: batch_y})
        if step % 100 == 0:
            loss, acc = sess.run([cost, accuracy],
                                 feed_dict={x: batch_x, y: batch_y})
            print('Iter %d, Minibatch Loss= %.6f, Training Accuracy= %.5f'
                  % (step, loss, acc))
    test_x = mnist.test.images.reshape((-1, n_steps, n_input))
    test_y = mnist.test.labels
    print('Testing Accuracy:', sum(
        sess.run(accuracy, feed_dict={x: test_x[i:i + 500],
                                      y: test_y[i:i + 500]})
        for i in range(0, len(test_x), 500)) / (len(test_x) // 500))

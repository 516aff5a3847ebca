"""A 2017 blog's two-layer MNIST network, using tf.contrib.

Written for TensorFlow 1.x and left that way: tf.contrib is gone from
TensorFlow 2, and the tests check that mnist-tf1-run runs its
xavier_initializer as the successor TensorFlow's upgrade script named, and
says so once.
"""
import tensorflow as tf
from tensorflow.examples.tutorials.mnist import input_data

learning_rate = 0.001
n_hidden = 256

X = tf.placeholder(tf.float32, [None, 784])
Y = tf.placeholder(tf.float32, [None, 10])

W1 = tf.get_variable("W1", shape=[784, n_hidden],
                     initializer=tf.contrib.layers.xavier_initializer())
b1 = tf.Variable(tf.zeros([n_hidden]))
L1 = tf.nn.relu(tf.matmul(X, W1) + b1)

W2 = tf.get_variable("W2", shape=[n_hidden, 10],
                     initializer=tf.contrib.layers.xavier_initializer())
b2 = tf.Variable(tf.zeros([10]))
hypothesis = tf.matmul(L1, W2) + b2

cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(
    logits=hypothesis, labels=Y))
optimizer = tf.train.AdamOptimizer(learning_rate=learning_rate).minimize(cost)

mnist = input_data.read_data_sets("MNIST_data/", one_hot=True)
sess = tf.Session()
sess.run(tf.global_variables_initializer())
for epoch in range(15):
    batch_xs, batch_ys = mnist.train.next_batch(100)
    c, _ = sess.run([cost, optimizer], feed_dict={X: batch_xs, Y: batch_ys})
    print('Epoch:', '%04d' % (epoch + 1), 'cost =', '{:.9f}'.format(c))

"""Learn TensorFlow Now, part 1 (2016): a single-layer softmax network.

Written before TensorFlow 1.0 and left that way: its positional call
softmax_cross_entropy_with_logits(logits, labels) would pass the two in the
wrong order on today's TensorFlow; the tests check that mnist-tf1-run
refuses it in one line instead.
"""
import tensorflow as tf
from tensorflow.examples.tutorials.mnist import input_data

mnist = input_data.read_data_sets('MNIST_data', one_hot=True)

input = tf.placeholder(tf.float32, shape=[100, 784], name='input')
labels = tf.placeholder(tf.float32, shape=[100, 10], name='labels')

layer1_weights = tf.Variable(tf.random_normal([784, 10]))
layer1_bias = tf.Variable(tf.zeros([10]))
logits = tf.matmul(input, layer1_weights) + layer1_bias

cross_entropy = tf.nn.softmax_cross_entropy_with_logits(logits, labels)
cost = tf.reduce_mean(cross_entropy)
optimizer = tf.train.GradientDescentOptimizer(0.01).minimize(cost)

with tf.Session() as session:
    tf.initialize_all_variables().run()
    for i in range(1000):
        batch_x, batch_y = mnist.train.next_batch(100)
        _, c = session.run([optimizer, cost],
                           feed_dict={input: batch_x, labels: batch_y})
        print('Cost: %f' % c)

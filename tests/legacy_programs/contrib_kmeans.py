"""k-means on MNIST with tf.contrib.factorization, as a TensorFlow 1.x
program wrote it. tf.contrib.factorization has no successor in TensorFlow
2: the tests check that mnist-tf1-run says so in one line.
"""
import tensorflow as tf
from tensorflow.examples.tutorials.mnist import input_data

X = tf.placeholder(tf.float32, shape=[None, 784])
kmeans = tf.contrib.factorization.KMeans(inputs=X, num_clusters=25,
                                         distance_metric='cosine',
                                         use_mini_batch=True)
training_graph = kmeans.training_graph()
mnist = input_data.read_data_sets('/tmp/data/', one_hot=True)

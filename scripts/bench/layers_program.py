"""Mechanics 101's network and loop as a TensorFlow 1.x program, written two
ways: with tf.Variable and tf.matmul, as the tutorial's mnist.py, or with
tf.layers.dense, as programs of the 1.4-1.15 years did. The same sizes
(784-128-32-10, ReLU), initialisation, gradient descent at 0.01, batches of
100 from input_data's next_batch fed with feed_dict.

layers_row.py runs it under mnist-tf1-run; it prints one JSON line: the
wall and CPU time per step of the loop after its first --warm_up steps, and
the test precision at the end.
"""
import argparse
import json
import math
import time

import tensorflow as tf
from tensorflow.examples.tutorials.mnist import input_data

def truncated_normal(fan_in):
    return tf.truncated_normal_initializer(stddev=1.0 / math.sqrt(fan_in))


def with_variables(images):
    """mnist.py's inference()."""
    net = images
    for name, fan_in, units in (('hidden1', 784, 128), ('hidden2', 128, 32),
                                ('softmax_linear', 32, 10)):
        with tf.name_scope(name):
            weights = tf.Variable(truncated_normal(fan_in)([fan_in, units]),
                                  name='weights')
            biases = tf.Variable(tf.zeros([units]), name='biases')
            net = tf.matmul(net, weights) + biases
            if units != 10:
                net = tf.nn.relu(net)
    return net


def with_layers(images):
    """The same network with tf.layers.dense."""
    net = tf.layers.dense(images, 128, tf.nn.relu, name='hidden1',
                          kernel_initializer=truncated_normal(784))
    net = tf.layers.dense(net, 32, tf.nn.relu, name='hidden2',
                          kernel_initializer=truncated_normal(128))
    return tf.layers.dense(net, 10, name='softmax_linear',
                           kernel_initializer=truncated_normal(32))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--network', choices=['variables', 'layers'],
                        required=True)
    parser.add_argument('--data_dir', required=True)
    parser.add_argument('--source_url', default=None)
    parser.add_argument('--steps', type=int, default=2000)
    parser.add_argument('--warm_up', type=int, default=100)
    args = parser.parse_args()
    mnist = input_data.read_data_sets(args.data_dir,
                                      source_url=args.source_url)
    tf.set_random_seed(1)
    images = tf.placeholder(tf.float32, [None, 784])
    labels = tf.placeholder(tf.int32, [None])
    inference = with_layers if args.network == 'layers' else with_variables
    logits = inference(images)
    loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    global_step = tf.Variable(0, name='global_step', trainable=False)
    train_op = tf.train.GradientDescentOptimizer(0.01).minimize(
        loss, global_step=global_step)
    correct = tf.reduce_sum(tf.cast(tf.nn.in_top_k(logits, labels, 1),
                                    tf.int32))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(args.steps):
            if step == args.warm_up:
                start, start_cpu = time.perf_counter(), time.process_time()
            batch_images, batch_labels = mnist.train.next_batch(100)
            sess.run([train_op, loss], {images: batch_images,
                                        labels: batch_labels})
        per_step = (time.perf_counter() - start) / (args.steps - args.warm_up)
        cpu_per_step = (time.process_time() - start_cpu) / (
            args.steps - args.warm_up)
        right = sess.run(correct, {images: mnist.test.images,
                                   labels: mnist.test.labels})
    print(json.dumps({'network': args.network,
                      'per_step_us': per_step * 1e6,
                      'cpu_per_step_us': cpu_per_step * 1e6,
                      'test': right / mnist.test.num_examples}))


if __name__ == '__main__':
    main()

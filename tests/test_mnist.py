"""The Mechanics 101 model functions on known inputs."""

import math

import numpy as np
import pytest

import tensorflow.compat.v1 as tf

from mnist_tf1 import mnist


@pytest.fixture
def graph():
    with tf.Graph().as_default() as g:
        yield g


def test_inference_shapes_and_tutorial_variable_names(graph):
    images = tf.placeholder(tf.float32, [None, mnist.IMAGE_PIXELS])
    logits = mnist.inference(images, 128, 32)
    assert logits.shape.as_list() == [None, mnist.NUM_CLASSES]
    shapes = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
    assert shapes == {
        'hidden1/weights': [784, 128], 'hidden1/biases': [128],
        'hidden2/weights': [128, 32], 'hidden2/biases': [32],
        'softmax_linear/weights': [32, 10], 'softmax_linear/biases': [10],
    }


def test_initial_weights_follow_the_tutorial(graph):
    tf.set_random_seed(0)
    images = tf.placeholder(tf.float32, [None, mnist.IMAGE_PIXELS])
    mnist.inference(images, 500, 40)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        values = {v.op.name: sess.run(v) for v in tf.global_variables()}
    w1 = values['hidden1/weights']
    stddev = 1.0 / math.sqrt(784)
    # Truncated normal: nothing beyond two standard deviations, and the
    # spread of a normal cut there (0.88 of its stddev).
    assert np.abs(w1).max() <= 2 * stddev + 1e-6
    assert w1.std() == pytest.approx(0.88 * stddev, rel=0.05)
    assert not values['hidden1/biases'].any()
    assert not values['softmax_linear/biases'].any()


def test_loss_of_known_logits(graph):
    logits = tf.constant([[0.0] * 10, [0.0] * 10])
    labels = tf.constant([3, 7])
    uniform = mnist.loss(logits, labels)
    confident = mnist.loss(tf.constant([[10.0] + [0.0] * 9]), tf.constant([0]))
    assert uniform.op.name == 'xentropy_mean'
    with tf.Session() as sess:
        assert sess.run(uniform) == pytest.approx(math.log(10), rel=1e-6)
        expected = -math.log(math.exp(10) / (math.exp(10) + 9))
        assert sess.run(confident) == pytest.approx(expected, rel=1e-3)


def test_evaluation_counts_correct_predictions(graph):
    logits = tf.constant(np.eye(10, dtype=np.float32)[[1, 2, 3, 4]])
    labels = tf.constant([1, 2, 0, 4])
    correct = mnist.evaluation(logits, labels)
    with tf.Session() as sess:
        assert sess.run(correct) == 3


def test_training_steps_global_step_and_lowers_loss(graph):
    rng = np.random.RandomState(0)
    images = tf.constant(rng.rand(20, mnist.IMAGE_PIXELS).astype(np.float32))
    labels = tf.constant(rng.randint(0, 10, 20).astype(np.int32))
    loss = mnist.loss(mnist.inference(images, 16, 8), labels)
    train_op = mnist.training(loss, 0.1)
    global_step = tf.train.get_global_step()
    assert global_step not in tf.trainable_variables()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = sess.run(loss)
        for _ in range(50):
            sess.run(train_op)
        assert sess.run(global_step) == 50
        assert sess.run(loss) < before

"""MNIST with tf.estimator.train_and_evaluate, as TensorFlow 1.x programs
wrote it for a cluster: every task runs this same program, and TF_CONFIG
says which task it is (chief, worker, ps or evaluator), as Kubeflow's TFJob
sets it. Without TF_CONFIG it trains and evaluates on this machine.
Written for TensorFlow 1.x and left that way; the tests run it through
mnist-tf1-run.
"""
import argparse
import sys

import numpy as np
import tensorflow as tf
from tensorflow.examples.tutorials.mnist import input_data

FLAGS = None


def model_fn(features, labels, mode, params):
  """Mechanics 101's network (two hidden layers) in a model_fn."""
  net = features['x']
  for i, units in enumerate(params['hidden_units']):
    with tf.variable_scope('hidden%d' % (i + 1)):
      weights = tf.get_variable(
          'weights', [net.shape[1].value, units],
          initializer=tf.truncated_normal_initializer(
              stddev=1.0 / np.sqrt(float(net.shape[1].value))))
      biases = tf.get_variable('biases', [units],
                               initializer=tf.zeros_initializer())
      net = tf.nn.relu(tf.matmul(net, weights) + biases)
  with tf.variable_scope('softmax_linear'):
    weights = tf.get_variable(
        'weights', [net.shape[1].value, 10],
        initializer=tf.truncated_normal_initializer(
            stddev=1.0 / np.sqrt(float(net.shape[1].value))))
    biases = tf.get_variable('biases', [10],
                             initializer=tf.zeros_initializer())
    logits = tf.matmul(net, weights) + biases
  classes = tf.argmax(logits, 1)
  if mode == tf.estimator.ModeKeys.PREDICT:
    return tf.estimator.EstimatorSpec(mode, predictions={'classes': classes})
  loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
  if mode == tf.estimator.ModeKeys.EVAL:
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops={
        'accuracy': tf.metrics.accuracy(labels=labels, predictions=classes)})
  tf.summary.scalar('loss', loss)
  optimizer = tf.train.GradientDescentOptimizer(params['learning_rate'])
  train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
  return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)


def main(_):
  tf.logging.set_verbosity(tf.logging.INFO)
  mnist = input_data.read_data_sets(FLAGS.data_dir)
  config = tf.estimator.RunConfig(
      save_checkpoints_steps=FLAGS.save_steps,
      session_creation_timeout_secs=FLAGS.timeout)
  estimator = tf.estimator.Estimator(
      model_fn=model_fn, model_dir=FLAGS.model_dir, config=config,
      params={'hidden_units': [128, 32], 'learning_rate': 0.1})
  train_input_fn = tf.estimator.inputs.numpy_input_fn(
      x={'x': mnist.train.images}, y=mnist.train.labels.astype(np.int32),
      batch_size=100, num_epochs=None, shuffle=True)
  eval_input_fn = tf.estimator.inputs.numpy_input_fn(
      x={'x': mnist.test.images}, y=mnist.test.labels.astype(np.int32),
      batch_size=1000, num_epochs=1, shuffle=False)
  train_spec = tf.estimator.TrainSpec(input_fn=train_input_fn,
                                      max_steps=FLAGS.max_steps)
  eval_spec = tf.estimator.EvalSpec(input_fn=eval_input_fn, steps=None,
                                    start_delay_secs=0, throttle_secs=1)
  metrics, _ = tf.estimator.train_and_evaluate(estimator, train_spec,
                                               eval_spec)
  print('Final evaluation: accuracy %.4f at step %d' % (
      metrics['accuracy'], metrics['global_step']))


if __name__ == '__main__':
  parser = argparse.ArgumentParser()
  parser.add_argument('--data_dir', type=str, default='/tmp/mnist_data')
  parser.add_argument('--model_dir', type=str, default='/tmp/mnist_cluster')
  parser.add_argument('--max_steps', type=int, default=2000)
  parser.add_argument('--save_steps', type=int, default=500)
  parser.add_argument('--timeout', type=int, default=7200)
  FLAGS, unparsed = parser.parse_known_args()
  tf.app.run(main=main, argv=[sys.argv[0]] + unparsed)

"""MNIST with a premade DNNClassifier (or LinearClassifier), as TensorFlow
1.x programs wrote it: numeric_column('x', shape=[784]), numpy_input_fn,
train, evaluate, predict, export_savedmodel. Written for TensorFlow 1.x and
left that way; the tests run it through mnist-tf1-run.
"""
import argparse
import sys

import numpy as np
import tensorflow as tf
from tensorflow.examples.tutorials.mnist import input_data

FLAGS = None


def main(_):
  tf.logging.set_verbosity(tf.logging.INFO)
  mnist = input_data.read_data_sets(FLAGS.data_dir)
  feature_columns = [tf.feature_column.numeric_column('x', shape=[784])]
  config = tf.estimator.RunConfig(save_checkpoints_steps=FLAGS.save_steps,
                                  tf_random_seed=1)
  if FLAGS.linear:
    classifier = tf.estimator.LinearClassifier(
        feature_columns=feature_columns, n_classes=10,
        model_dir=FLAGS.model_dir, config=config)
  else:
    classifier = tf.estimator.DNNClassifier(
        feature_columns=feature_columns, hidden_units=[256, 32],
        optimizer=tf.train.AdamOptimizer(1e-4), n_classes=10, dropout=0.1,
        model_dir=FLAGS.model_dir, config=config)

  train_input_fn = tf.estimator.inputs.numpy_input_fn(
      x={'x': mnist.train.images},
      y=mnist.train.labels.astype(np.int32),
      num_epochs=None, batch_size=50, shuffle=True)
  classifier.train(input_fn=train_input_fn, steps=FLAGS.steps)

  test_input_fn = tf.estimator.inputs.numpy_input_fn(
      x={'x': mnist.test.images},
      y=mnist.test.labels.astype(np.int32),
      num_epochs=1, shuffle=False)
  accuracy_score = classifier.evaluate(input_fn=test_input_fn)['accuracy']
  print('\nTest Accuracy: {0:f}%\n'.format(accuracy_score * 100))

  predict_input_fn = tf.estimator.inputs.numpy_input_fn(
      x={'x': mnist.test.images[:5]}, num_epochs=1, shuffle=False)
  predictions = list(classifier.predict(input_fn=predict_input_fn))
  predicted = [int(p['classes'][0]) for p in predictions]
  print('New Samples, Class Predictions:    {}'.format(predicted))
  print('Their labels:                      {}'.format(
      [int(label) for label in mnist.test.labels[:5]]))

  if FLAGS.export_dir:
    feature_spec = {'x': tf.FixedLenFeature([784], tf.float32)}
    serving_fn = tf.estimator.export.build_parsing_serving_input_receiver_fn(
        feature_spec)
    path = classifier.export_savedmodel(FLAGS.export_dir, serving_fn)
    print('Exported to', path.decode())


if __name__ == '__main__':
  parser = argparse.ArgumentParser()
  parser.add_argument('--data_dir', type=str, default='/tmp/mnist_data')
  parser.add_argument('--model_dir', type=str, default='/tmp/mnist_dnn')
  parser.add_argument('--export_dir', type=str, default='')
  parser.add_argument('--steps', type=int, default=2000)
  parser.add_argument('--save_steps', type=int, default=500)
  parser.add_argument('--linear', action='store_true')
  FLAGS, unparsed = parser.parse_known_args()
  tf.app.run(main=main, argv=[sys.argv[0]] + unparsed)

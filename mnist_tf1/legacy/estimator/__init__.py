"""tf.estimator for TensorFlow 1.x programs (TensorFlow 2.16 removed it).

`tf.estimator` and `tf.compat.v1.estimator` in your code (successors.py)
are this package: TensorFlow 1.15's Estimator, written on tf.compat.v1's
MonitoredTrainingSession and SessionRunHooks. docs/estimator.md says what
is here and what is not.

  estimator.py           Estimator: train, the graph of a mode, model_dir
  model_fn.py            ModeKeys, EstimatorSpec and its checks
  run_config.py          RunConfig, TF_CONFIG's task
  inputs.py              numpy_input_fn: batches fed from Python
  evaluation.py          Estimator.evaluate, results into model_dir/eval
  prediction.py          Estimator.predict
  export.py              tf.estimator.export: receivers, export outputs
  saved_model_export.py  Estimator.export_saved_model
  training.py            TrainSpec, EvalSpec, train_and_evaluate
  cluster_training.py    train_and_evaluate as a TF_CONFIG task
  premade.py             DNNClassifier, LinearClassifier
"""

from mnist_tf1.legacy.estimator import export
from mnist_tf1.legacy.estimator import inputs
from mnist_tf1.legacy.estimator.estimator import Estimator
from mnist_tf1.legacy.estimator.estimator import WarmStartSettings
from mnist_tf1.legacy.estimator.model_fn import EstimatorSpec
from mnist_tf1.legacy.estimator.model_fn import ModeKeys
from mnist_tf1.legacy.estimator.premade import DNNClassifier
from mnist_tf1.legacy.estimator.premade import LinearClassifier
from mnist_tf1.legacy.estimator.run_config import RunConfig
from mnist_tf1.legacy.estimator.training import EvalSpec
from mnist_tf1.legacy.estimator.training import TrainSpec
from mnist_tf1.legacy.estimator.training import train_and_evaluate

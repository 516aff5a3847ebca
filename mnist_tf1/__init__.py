"""The TensorFlow 1.x MNIST tutorials, running on today's TensorFlow.

Importing the package imports TensorFlow once, in graph mode
(`tf.disable_v2_behavior()`), and quietly: see tf_logging.py.
"""

from mnist_tf1 import tf_logging as _tf_logging

__version__ = '1.0.0'

_tf_logging.import_tensorflow()

"""The TensorFlow 1.x MNIST tutorials, running on today's TensorFlow.

Importing the package imports TensorFlow once, in graph mode
(`tf.disable_v2_behavior()`), and quietly: see tf_logging.py.
"""

from mnist_tf1.cli import tf_logging as _tf_logging

__version__ = '1.0.0'

try:
    _tf_logging.import_tensorflow()
except KeyboardInterrupt:
    # Ctrl-C in the seconds TensorFlow takes to import: one line and the
    # shell's status, as once the programs run (errors.run_cli).
    import sys
    sys.stderr.write('mnist-tf1: stopped by Ctrl-C (while importing '
                     'TensorFlow)\n')
    sys.exit(130)

"""The TensorFlow 1.x MNIST tutorials, running on today's TensorFlow.

Importing the package, or any of its library modules, changes nothing
global: quieting TensorFlow and switching it to graph mode is each command's
first step (cli/tf_logging.start_command), and `import mnist_tf1.legacy` is
the one line that gives your own TensorFlow 1.x code its old names.
"""

__version__ = '1.0.0'

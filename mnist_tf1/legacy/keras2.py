"""Keras 2 for your 1.x code: tf.layers, tf.nn.rnn_cell and tf.keras.

TensorFlow 1.x had them built in. TensorFlow 2.16 moved to Keras 3, which
has none of tf.layers or tf.nn.rnn_cell and needs eager execution; Keras 2
lives on as the `tf_keras` package, one release per TensorFlow minor. Here
`tf.layers`, `tf.nn.rnn_cell` and `tf.keras` (successors.py's entries) are
tf.compat.v1's, routed to tf_keras: TensorFlow reads TF_USE_LEGACY_KERAS when
each of its three lazy loaders is first used, so it is set only while this
module first uses them, and the rest of the process (`tf.compat.v2.keras`,
`import keras`) keeps Keras 3. TensorFlow 2.15 has Keras 2 of its own: there
a missing tf_keras is no matter.

Without a tf_keras of TensorFlow's minor, the first of these names your code
uses raises Keras2Missing: one line with the pip command that fixes it.
"""

import functools
import importlib
import importlib.metadata
import os

from mnist_tf1.platform import tf_versions
from mnist_tf1.legacy import removed_names

_SWITCH = 'TF_USE_LEGACY_KERAS'
# This module's names -> tf.compat.v1's, and the spelling your code used.
_LOADERS = {
    'layers': ('layers', 'tf.layers'),
    'rnn_cell': ('nn.rnn_cell', 'tf.nn.rnn_cell'),
    'keras': ('keras', 'tf.keras'),
}
# TensorFlow's own Keras was Keras 2 up to this release.
_LAST_OWN_KERAS2 = (2, 15)


class Keras2Missing(removed_names.Removed, AttributeError):
    """A Keras 2 name used without the tf_keras its TensorFlow needs."""


def pip_command(tf_version):
    """The command that installs the tf_keras for `tf_version`."""
    major, minor = tf_versions.release(tf_version)
    return "pip install 'tf_keras~=%d.%d.0'" % (major, minor)


def installed_tf_keras():
    """tf_keras's installed version, or None."""
    try:
        return importlib.metadata.version('tf_keras')
    except importlib.metadata.PackageNotFoundError:
        return None


def problem(spelled, tf_version, tf_keras_version):
    """The one line for `spelled` on this pair of versions, or None.

    Args:
      spelled: the name your code used, e.g. 'tf.layers'.
      tf_version: TensorFlow's version string.
      tf_keras_version: tf_keras's, or None when it is not installed.
    """
    wanted = tf_versions.release(tf_version)
    if tf_keras_version is not None and (
            tf_versions.release(tf_keras_version) == wanted):
        return None
    if tf_keras_version is None and wanted <= _LAST_OWN_KERAS2:
        return None  # TensorFlow's own Keras is Keras 2.
    found = ('tf_keras is not installed' if tf_keras_version is None else
             'tf_keras %s is installed' % tf_keras_version)
    return ('%s needs Keras 2, the tf_keras release of TensorFlow %d.%d '
            '(%s); install it: %s' % (spelled, wanted[0], wanted[1], found,
                                      pip_command(tf_version)))


@functools.lru_cache(maxsize=None)
def _loader(name):
    """tf.compat.v1's `layers`, `nn.rnn_cell` or `keras`, Keras 2 inside."""
    path, spelled = _LOADERS[name]
    v1 = importlib.import_module('tensorflow.compat.v1')
    tf_keras_version = installed_tf_keras()
    line = problem(spelled, v1.__version__, tf_keras_version)
    if line is not None:
        raise Keras2Missing(line)
    loader = v1
    for part in path.split('.'):
        loader = getattr(loader, part)
    if tf_keras_version is None:
        return loader  # TensorFlow 2.15's own Keras 2.
    before = os.environ.get(_SWITCH)
    os.environ[_SWITCH] = '1'
    try:
        dir(loader)  # Its first use: it picks tf_keras now, for good.
    finally:
        if before is None:
            del os.environ[_SWITCH]
        else:
            os.environ[_SWITCH] = before
    return loader


def __getattr__(name):
    if name in _LOADERS:
        return _loader(name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))

"""TensorFlow 1.x names that today's TensorFlow lacks, and what your code
gets for them instead.

`tf.<name>` in your code looks here first (tf1_module.py): a name in
PROVIDED is what the entry names, imported when first used, not
tf.compat.v1's (which lacks it, or has a different one). The rooms behind
the entries are modules of their own: `tf.estimator` is this project's
Estimator (legacy/estimator/). A name TensorFlow removed with nothing to
stand in for it stays in removed_names.py.
"""

import importlib

# Name under `tf.` -> 'module' (the module itself) or 'module:attribute'.
PROVIDED = {
    # TensorFlow 1.15's Estimator (estimator/); tf.test.is_built_with_cuda
    # answered as 1.x's CPU package would here (cuda_build.py).
    'estimator': 'mnist_tf1.legacy.estimator',
    'compat.v1.estimator': 'mnist_tf1.legacy.estimator',
    'test.is_built_with_cuda': 'mnist_tf1.legacy.cuda_build:is_built_with_cuda',
    'compat.v1.test.is_built_with_cuda': (
        'mnist_tf1.legacy.cuda_build:is_built_with_cuda'),
    # Keras 2 from tf_keras (keras2.py); tf.contrib's successors (contrib.py).
    'layers': 'mnist_tf1.legacy.keras2:layers',
    'nn.rnn_cell': 'mnist_tf1.legacy.keras2:rnn_cell',
    'keras': 'mnist_tf1.legacy.keras2:keras',
    'compat.v1.layers': 'mnist_tf1.legacy.keras2:layers',
    'compat.v1.nn.rnn_cell': 'mnist_tf1.legacy.keras2:rnn_cell',
    'compat.v1.keras': 'mnist_tf1.legacy.keras2:keras',
    'contrib': 'mnist_tf1.legacy.contrib:CONTRIB',
}


def lookup(dotted):
    """What `tf.<dotted>` is in the 1.x API, or None when it is not here.

    Args:
      dotted: the name as used, e.g. 'estimator' or 'compat.v1.estimator'.

    Returns:
      The module or object the entry names, imported now; None for a name
      with no entry.
    """
    where = PROVIDED.get(dotted)
    if where is None:
        return None
    module_name, _, attribute = where.partition(':')
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


def has_entries_under(dotted):
    """True when some entry is a name under `tf.<dotted>.`."""
    prefix = dotted + '.'
    return any(name.startswith(prefix) for name in PROVIDED)

"""The TensorFlow 1.x names today's TensorFlow no longer has, and their
replacements.

A program that uses one of them gets one line that names it and says what
to write instead (mnist-tf1-run prints it and stops), not TensorFlow 2's
"module has no attribute" somewhere below. tests/test_legacy.py checks every
entry against the installed TensorFlow: the name is really gone, and every
`tf.` name a replacement gives is really there.
"""

import linecache
import re

# Name under `tf.` -> (the TensorFlow release that removed it, what to do).
# A key ending in '.' stands for any name under it that is missing: its
# parent is still there but has lost those members.
REMOVED = {
    # Renamed for TensorFlow 1.0 (its release notes); programs from 2016.
    'mul': ('1.0', 'use tf.multiply'),
    'sub': ('1.0', 'use tf.subtract'),
    'neg': ('1.0', 'use tf.negative'),
    'pack': ('1.0', 'use tf.stack'),
    'unpack': ('1.0', 'use tf.unstack'),
    'select': ('1.0', 'use tf.where'),
    'batch_matmul': ('1.0', 'use tf.matmul (it multiplies batches too)'),
    'listdiff': ('1.0', 'use tf.setdiff1d'),
    'scalar_summary': ('1.0', 'use tf.summary.scalar'),
    'histogram_summary': ('1.0', 'use tf.summary.histogram'),
    'image_summary': ('1.0', 'use tf.summary.image'),
    'audio_summary': ('1.0', 'use tf.summary.audio'),
    'merge_summary': ('1.0', 'use tf.summary.merge'),
    'merge_all_summaries': ('1.0', 'use tf.summary.merge_all'),
    'train.SummaryWriter': ('1.0', 'use tf.summary.FileWriter'),
    'nn.rnn': ('1.0', 'use tf.nn.static_rnn'),
    # tf.contrib did not move to TensorFlow 2.0. The parts with a successor
    # run as it (contrib.py, contrib_renames.py); these are the rest.
    'contrib': ('2.0', 'it has no single replacement: see '
                'docs/legacy-code.md for its parts and their successors'),
    'contrib.layers': ('2.0', 'tf_slim.layers, which continues it, has no '
                       'such name either; write the layer out with '
                       'tf.Variable and tf.matmul or tf.nn.conv2d, as '
                       'mnist_deep.py does'),
    'contrib.learn': ('2.0', 'write the training loop with tf.Session, as '
                      "Mechanics 101's fully_connected_feed.py does"),
    'contrib.factorization': (
        '2.0', 'it has no successor in TensorFlow 2 (KMeans, GMM, WALS); '
        "write the algorithm with TensorFlow's ops or use scikit-learn's"),
    'contrib.tensor_forest': (
        '2.0', 'it has no successor in TensorFlow 2; TensorFlow Decision '
        'Forests (the tensorflow_decision_forests package) continues it'),
    'contrib.boosted_trees': (
        '2.0', 'it has no successor in TensorFlow 2; TensorFlow Decision '
        'Forests (the tensorflow_decision_forests package) continues it'),
    'contrib.eager': (
        '2.0', 'eager execution is TensorFlow 2 itself: run an eager '
        'program with python, not in the graph mode of mnist-tf1-run'),
    'contrib.tensorboard.plugins.projector': (
        '2.0', 'use tensorboard.plugins.projector (TensorBoard\'s own; its '
        'visualize_embeddings takes the log dir instead of the writer)'),
}

# Functions TensorFlow 1.0 made take their tensors by name only (a leading
# `_sentinel` argument refused positional calls). Today's have no sentinel:
# a pre-1.0 call f(logits, labels) silently swaps the two and fails much
# later with "No gradients provided". Refused again here.
BY_NAME_ONLY = frozenset([
    'nn.softmax_cross_entropy_with_logits',
    'nn.sparse_softmax_cross_entropy_with_logits',
    'nn.sigmoid_cross_entropy_with_logits',
])


class Removed(Exception):
    """A TensorFlow 1.x name used that TensorFlow no longer has.

    The message is one line: the name and what to write instead.
    """


class RemovedAttribute(Removed, AttributeError):
    """`tf.<removed name>`: an AttributeError, as TensorFlow's own would be."""


class RemovedModule(Removed, ModuleNotFoundError):
    """`import tensorflow.contrib...`: a ModuleNotFoundError, as before.

    Its `name` stays unset on purpose: the import system passes over a
    ModuleNotFoundError that names the module it was after, and this one
    must reach the program.
    """


class RefusedCall(Removed, ValueError):
    """A positional call to a BY_NAME_ONLY function: a ValueError, as
    TensorFlow 1.x raised."""


def lookup(dotted):
    """The REMOVED entry for a missing name under `tf.`, or None.

    Args:
      dotted: the name as used, e.g. 'contrib.layers.xavier_initializer'.

    Returns:
      (since, advice) of the longest key that covers it, or None.
    """
    parts = dotted.split('.')
    for end in range(len(parts), 0, -1):
        key = '.'.join(parts[:end])
        if key in REMOVED:
            return REMOVED[key]
        if end < len(parts) and key + '.' in REMOVED:
            return REMOVED[key + '.']
    return None


def has_entries_under(dotted):
    """True when some entry is a name under `tf.<dotted>.`."""
    prefix = dotted + '.'
    return any(name.startswith(prefix) for name in REMOVED) or any(
        name.startswith(prefix) for name in BY_NAME_ONLY)


def message(spelled, entry):
    """One line: 'tf.merge_all_summaries was removed in TensorFlow 1.0; ...'."""
    since, advice = entry
    return '%s was removed in TensorFlow %s; %s' % (spelled, since, advice)


def spelled_out(dotted, filename, lineno):
    """The whole dotted name a source line uses, from where it says `dotted`.

    `tf.contrib.layers.xavier_initializer()` fails at `contrib`; the line
    tells which part of tf.contrib was meant. Falls back on `dotted`.
    """
    line = linecache.getline(filename, lineno)
    match = re.search(r'\b\w+\.(%s(?:\.\w+)*)' % re.escape(dotted), line)
    return match.group(1) if match else dotted

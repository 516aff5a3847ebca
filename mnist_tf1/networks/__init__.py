"""The networks `mnist-tf1-train --model` can train, by name.

Each network is a module with the Mechanics 101 functions `inference`,
`loss`, `training` and `evaluation`, and a `SPEC` (spec.py) saying how the
one training loop drives it; optionally also the network's own progress
lines from its tutorial:
  progress_printer(flag_values, eval_correct, steps_per_epoch): returns
    print_progress(sess, step, loss_value, feed_dict), which the training
    loop calls after every step (or None: nothing to print with these flags).

A network's inference graph is built anywhere as
    network = networks.get(name)
    logits = network.inference(images,
                               *[FLAGS[h].value for h in network.SPEC.hparams])
with `images` float32 [None, 784] in [0, 1].
"""

import importlib

import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors

# --model name -> the module that builds it, in the order of the tutorials.
# Mechanics 101 keeps the tutorial's own file name, mnist_tf1/mnist.py.
NETWORKS = {
    'mechanics101': 'mnist_tf1.mnist',
    'softmax': 'mnist_tf1.networks.softmax',
    'dropout_mlp': 'mnist_tf1.networks.dropout_mlp',
    'three_layer': 'mnist_tf1.networks.three_layer',
    'deep_cnn': 'mnist_tf1.networks.deep_cnn',
}


def get(name):
    """Returns the module implementing network `name`."""
    return importlib.import_module(NETWORKS[name])


def _name_of(network):
    return next(name for name in NETWORKS if get(name) is network)


def check_flags(flag_values, network):
    """Refuses flags the user set that mean nothing to this network.

    A flag another network reads (--hidden2 for softmax, --keep_prob for
    Mechanics 101) would otherwise be silently ignored.

    Raises:
      UserError: naming the first such flag and what the network reads.
    """
    others = set()
    for name in NETWORKS:
        others |= get(name).SPEC.own_flags()
    used = network.SPEC.own_flags()
    for flag in sorted(others - used):
        if flag in flag_values and flag_values[flag].present:
            model = _name_of(network)
            reads = ('only ' + ', '.join('--' + f for f in sorted(used))
                     if used else 'none')
            raise errors.UserError(
                '--%s means nothing to --model=%s; drop it (of the flags that '
                'only some networks read, %s reads %s)' %
                (flag, model, model, reads))


def apply_defaults(flag_values, network):
    """Sets the network's tutorial settings on the flags the user left alone.

    First refuses the flags that mean nothing to the network (see
    check_flags). Afterwards the flags hold the values actually used, so
    whatever prints or records them tells the truth. Flags the program does
    not define are skipped.

    Args:
      flag_values: absl FlagValues (FLAGS), already parsed.
      network: a module from get().
    """
    check_flags(flag_values, network)
    for name, value in network.SPEC.defaults.items():
        if name in flag_values and not flag_values[name].present:
            flag_values[name].value = value


def train_feed(network, flag_values, graph=None):
    """{placeholder: value} that training steps feed besides the data.

    Call after inference() has built the network into `graph` (default: the
    default graph).
    """
    graph = graph or tf.get_default_graph()
    return {placeholder: flag_values[name].value
            for name in network.SPEC.train_feeds
            for placeholder in graph.get_collection(name)}


def _print_nothing(sess, step, loss_value, feed_dict):
    del sess, step, loss_value, feed_dict  # Unused.


def progress_printer(network, flag_values, eval_correct, steps_per_epoch):
    """The network's own per-step lines from its tutorial, if it has any.

    Args:
      network: a module from get().
      flag_values: absl FlagValues, with the network's defaults applied.
      eval_correct: the Tensor counting correct predictions, from evaluation().
      steps_per_epoch: training batches in one epoch.

    Returns:
      print_progress(sess, step, loss_value, feed_dict), to call after each
      training step; it prints nothing for networks without such lines.
    """
    printer = None
    if hasattr(network, 'progress_printer'):
        printer = network.progress_printer(flag_values, eval_correct,
                                           steps_per_epoch)
    return printer or _print_nothing

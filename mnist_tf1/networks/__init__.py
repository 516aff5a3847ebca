"""The networks `mnist-tf1-train --model` can train, by name.

Each network is a module with the Mechanics 101 functions `inference`,
`loss`, `training` and `evaluation`, plus these constants:
  HPARAMS: names of the flags passed to inference() after the images.
  LOSS_PARAMS: names of the flags passed to loss() after logits and labels.
  TRAIN_FEEDS: names of the flags whose values training steps feed, each to
    the placeholders inference() put in the graph collection of the same name.
    Each such placeholder is a `tf.placeholder_with_default` whose default is
    the evaluation value (a dropout keep probability of 1.0), so that a graph
    built for evaluation, prediction or export needs no extra feed; inference()
    makes it with train_feed_placeholder().
  OPTIONS: other flags the network reads (its own printed lines).
  DEFAULTS: the tutorial's settings, applied to flags the user did not set.
  ONE_HOT: whether the network's labels are one-hot vectors.
and, optionally, the network's own progress lines from its tutorial:
  progress_printer(flag_values, eval_correct, steps_per_epoch): returns
    print_progress(sess, step, loss_value, feed_dict), which the training
    loop calls after every step (or None: nothing to print with these flags).

A network's inference graph is built anywhere as
    network = models.get(name)
    logits = network.inference(images,
                               *[FLAGS[h].value for h in network.HPARAMS])
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


def own_flags(network):
    """The names of the flags only some networks read, that this one reads."""
    return (set(network.HPARAMS) | set(network.LOSS_PARAMS) |
            set(network.TRAIN_FEEDS) | set(network.OPTIONS))


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
        others |= own_flags(get(name))
    used = own_flags(network)
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
    for name, value in network.DEFAULTS.items():
        if name in flag_values and not flag_values[name].present:
            flag_values[name].value = value


def loss_summary(loss):
    """Adds the scalar summary of a network's loss, tagged with its op name.

    Mechanics 101's is tagged 'xentropy_mean', as the original tutorial's
    was. tf.summary.scalar would tag it 'xentropy_mean_1', because the loss op
    already owns the name, so the summary op is made directly.
    """
    tf.add_to_collection(
        tf.GraphKeys.SUMMARIES,
        tf.raw_ops.ScalarSummary(tags=loss.op.name, values=loss,
                                 name='loss_summary'))


def train_feed_placeholder(name, default):
    """The placeholder_with_default training steps feed for the flag `name`
    (see TRAIN_FEEDS), for inference() to read.

    Made in the current name scope and put in the graph collection `name` on
    the first call in a graph; later calls return that one, so a network
    built twice in one graph (the in-graph training loop of --steps_per_run
    builds it again inside a tf.while_loop) still has one value to feed.

    Args:
      name: the flag's name, e.g. 'keep_prob'.
      default: the evaluation value (1.0 for a keep probability).
    """
    existing = tf.get_collection(name)
    if existing:
        return existing[0]
    placeholder = tf.placeholder_with_default(default, [], name=name)
    tf.add_to_collection(name, placeholder)
    return placeholder


def train_feed(network, flag_values, graph=None):
    """{placeholder: value} that training steps feed besides the data.

    Call after inference() has built the network into `graph` (default: the
    default graph).
    """
    graph = graph or tf.get_default_graph()
    return {placeholder: flag_values[name].value
            for name in network.TRAIN_FEEDS
            for placeholder in graph.get_collection(name)}


def evaluation_feed(feed_dict):
    """A training step's feed_dict as evaluation feeds it.

    Drops the training-only values (see TRAIN_FEEDS): those placeholders then
    take their defaults, the evaluation values.
    """
    return {tensor: value for tensor, value in feed_dict.items()
            if tensor.op.type != 'PlaceholderWithDefault'}


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

"""Graph pieces and feeds several tutorial networks share."""

import contextlib
import random

import tensorflow.compat.v1 as tf

# The graph collections of step-keyed dropout (see dropout()).
_DROPOUT_SEED = 'dropout_seed'  # [the run's base seed, a Python int]
_DROPOUT_STEP = 'dropout_step'  # [the step the masks are drawn for, int64]
_DROPOUT_LAYERS = 'dropout_layers'  # the dropout layers of this build


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


def gradient_descent(loss, learning_rate):
    """Vanilla gradient descent on the loss, stepping the global step, with
    the loss's scalar summary: the blog tutorials' training step."""
    loss_summary(loss)
    global_step = tf.train.get_or_create_global_step()
    return tf.train.GradientDescentOptimizer(learning_rate).minimize(
        loss, global_step=global_step)


def count_correct_one_hot(logits, labels):
    """The number of examples whose highest logit is their one-hot label."""
    correct_prediction = tf.equal(tf.argmax(logits, 1), tf.argmax(labels, 1))
    return tf.reduce_sum(tf.cast(correct_prediction, tf.int32))


def evaluation_feed(feed_dict):
    """A training step's feed_dict as evaluation feeds it.

    Drops the training-only values (see Spec.train_feeds): those
    placeholders then take their defaults, the evaluation values.
    """
    return {tensor: value for tensor, value in feed_dict.items()
            if tensor.op.type != 'PlaceholderWithDefault'}


def train_feed_placeholder(name, default):
    """The placeholder_with_default training steps feed for the flag `name`
    (see Spec.train_feeds), for inference() to read.

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


def dropout(x, keep_prob):
    """tf.nn.dropout(x, rate=1 - keep_prob), its mask drawn for the step.

    tf.nn.dropout draws from a random op whose stream moves on at every run of
    it, evaluations' too, so a seed gave masks that depended on what else the
    run did. This mask depends only on the run's seed (the graph's, or one
    drawn once per graph), the layer and the training step fed to
    dropout_step(): the in-graph loop of --steps_per_run, which builds the
    network again, and a resumed run draw the masks the tutorial's loop
    would have, so a seed gives the same losses either way.

    Args:
      x: the layer's activations.
      keep_prob: the probability of keeping each unit (a scalar tensor).

    Returns:
      x with each unit zeroed with probability 1 - keep_prob, the others
      scaled by 1 / keep_prob.
    """
    graph = tf.get_default_graph()
    if not graph.get_collection(_DROPOUT_SEED):
        base = graph.seed
        if base is None:
            base = random.SystemRandom().randrange(2**31)
        graph.add_to_collection(_DROPOUT_SEED, base)
    layers = graph.get_collection_ref(_DROPOUT_LAYERS)
    base = graph.get_collection(_DROPOUT_SEED)[0] + len(layers)
    seed = tf.stack([tf.constant(base, tf.int64), dropout_step()])
    dropped = tf.nn.experimental.stateless_dropout(x, rate=1.0 - keep_prob,
                                                  seed=seed)
    layers.append(dropped)
    return dropped


def dropout_step():
    """The step dropout() draws its masks for: a placeholder_with_default
    (0), made on the first call in a graph, that training steps feed
    (with_dropout_step()), or the loop's own step inside
    dropout_for_step()."""
    return train_feed_placeholder(_DROPOUT_STEP, tf.constant(0, tf.int64))


def with_dropout_step(feed_dict, step):
    """feed_dict, and the training step for dropout() if the graph has any."""
    placeholders = tf.get_collection(_DROPOUT_STEP)
    if not placeholders:
        return feed_dict
    feed_dict = dict(feed_dict)
    feed_dict[placeholders[0]] = step
    return feed_dict


@contextlib.contextmanager
def dropout_for_step(step):
    """Inside, dropout() draws its masks for the int64 tensor `step` and
    counts its layers from the first again: the network built a second time,
    in a loop whose steps are tensors."""
    graph = tf.get_default_graph()
    with collections_kept(graph, (_DROPOUT_STEP, _DROPOUT_LAYERS)):
        graph.get_collection_ref(_DROPOUT_STEP)[:] = [step]
        graph.get_collection_ref(_DROPOUT_LAYERS)[:] = []
        yield


@contextlib.contextmanager
def collections_kept(graph, keys=None):
    """Puts the graph's collections `keys` (default: all of them) back as
    they were when the block ends; collections made inside stay."""
    if keys is None:
        keys = graph.get_all_collection_keys()
    saved = {key: list(graph.get_collection(key)) for key in keys}
    try:
        yield
    finally:
        for key, values in saved.items():
            graph.get_collection_ref(key)[:] = values

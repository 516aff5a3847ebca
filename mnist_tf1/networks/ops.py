"""Graph pieces and feeds several tutorial networks share."""

import tensorflow.compat.v1 as tf


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

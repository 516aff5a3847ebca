"""What the training program needs to know of a network, in one place.

Each network module holds the Mechanics 101 functions (`inference`, `loss`,
`training`, `evaluation`) and one `SPEC`, which says how the one training
loop drives it: its tutorial's settings, the flags its functions take, what
its training steps feed, and the form of its labels.
"""

import collections


class Spec(collections.namedtuple('Spec', [
        'defaults', 'one_hot', 'hparams', 'loss_params', 'train_feeds',
        'options'])):
    """How the training program drives one network.

    Attributes:
      defaults: the tutorial's settings, {flag name: value}, applied to the
        flags the user did not set.
      one_hot: whether labels are one-hot vectors (float32 [batch, 10])
        rather than class ids (int32 [batch]).
      hparams: names of the flags passed to inference() after the images, in
        order: the architecture, read back from a run's flags.txt.
      loss_params: names of the flags passed to loss() after logits and
        labels.
      train_feeds: names of the flags whose values training steps feed, each
        to the placeholders inference() put in the graph collection of the
        same name. Each such placeholder is a `tf.placeholder_with_default`
        whose default is the evaluation value (a dropout keep probability of
        1.0), so that a graph built for evaluation, prediction or export
        needs no extra feed; inference() makes it with
        ops.train_feed_placeholder().
      options: other flags the network reads (its own printed lines).
    """
    __slots__ = ()

    def __new__(cls, defaults, one_hot=False, hparams=(), loss_params=(),
                train_feeds=(), options=()):
        return super(Spec, cls).__new__(
            cls, dict(defaults), bool(one_hot), tuple(hparams),
            tuple(loss_params), tuple(train_feeds), tuple(options))

    def own_flags(self):
        """The names of the flags only some networks read, that this one
        reads."""
        return (set(self.hparams) | set(self.loss_params) |
                set(self.train_feeds) | set(self.options))

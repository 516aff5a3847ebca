"""Per-step measurements for TensorBoard: training throughput and traces
(time and memory per op, shown on TensorBoard's graph page)."""

import tensorflow.compat.v1 as tf

from mnist_tf1.summaries import graph_summaries
from mnist_tf1.summaries import tags


class Throughput(object):
    """Training examples per second between summary steps.

    Counts the time of the training steps themselves (what the loop prints
    as "sec"), not evaluations or checkpoints.
    """

    def __init__(self, batch_size):
        self._batch_size = batch_size
        self._steps = 0
        self._seconds = 0.0

    def add(self, duration):
        self._steps += 1
        self._seconds += duration

    def summary(self):
        """The `examples_per_sec` Summary since the last call; restarts."""
        rate = self._steps * self._batch_size / max(self._seconds, 1e-9)
        self._steps, self._seconds = 0, 0.0
        return graph_summaries.scalar_summary(tags.EXAMPLES_PER_SEC_TAG, rate)


def is_traced(step, trace_steps):
    """With --trace_steps=N the last step of every N is traced (99, 199, ...
    for 100, as the tutorial did); 0 traces nothing."""
    return trace_steps > 0 and step % trace_steps == trace_steps - 1


def trace_options(step, trace_steps):
    """(RunOptions, RunMetadata) for a full trace of this step, or
    (None, None) (see is_traced)."""
    if not is_traced(step, trace_steps):
        return None, None
    return (tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
            tf.RunMetadata())


def trace_tag(step):
    return 'step%d' % step

"""Several training steps per Session.run (--steps_per_run=K), on the batches
the tutorial's loop would have fed.

Every step of the tutorial's loop pays Python, the copy of its feed and a
session call. With K > 1 the training set is held in the graph once, as a
variable (uint8, 43 MB: TF 1.x's fully_connected_preloaded_var.py held it so
too), and one Session.run runs up to K steps in a tf.while_loop. Each step
gathers its batch there and scales it to float32 as next_batch() does. Which
examples make each batch is still decided in numpy, by the DataSet itself
(next_batch_indices(), the same shuffles and epoch ends as next_batch()),
and fed as indices, [K, batch_size] int32 a call: the batches are the
tutorial's, in the same order, so a seed gives the same losses with any K.

The loop's body builds the network's inference(), loss() and training()
once more, on the gathered batch, so that they run inside the loop. Built a
second time, they would make a second set of variables: _reusing() hands the
body the variables the first build made instead (the model, the global step
and the optimizer's slots), so there is one model, trained, saved and
evaluated as with K = 1. Whatever else the second build adds to the graph's
collections (a summary of its loss, its train op) is taken out again: the
summaries, evaluations and checkpoints are those of the first build.

A run of steps starts at a multiple of K (or where a resumed run stands) and
ends at the next multiple of K or at --max_steps, so with a K that divides
--summary_steps, --save_checkpoint_steps and 100 every summary, printed
Step line, checkpoint and evaluation falls where it falls with K = 1.
"""

import collections
import collections.abc
import contextlib
import math

import numpy as np

import tensorflow.compat.v1 as tf

from mnist_tf1 import input_data
from mnist_tf1.cli import errors
from mnist_tf1.networks import ops
from mnist_tf1.summaries import profiling

# The loop's ops, in TensorBoard's graph under this name.
SCOPE = 'steps_per_run'

# Every printed Step line (every 100 steps) must start a run of steps.
STEP_LINE_EVERY = 100


def check(steps_per_run, on_cluster, summary_steps, save_checkpoint_steps):
    """Refuses a K this run cannot keep: on a cluster (whose workers take
    their steps from the shared global step, one at a time), or one that
    would move a summary, Step line or checkpoint.

    Raises:
      UserError: saying which.
    """
    if steps_per_run > 1 and on_cluster:
        raise errors.UserError(
            '--steps_per_run=%d trains on one machine only, not as a task of '
            'a cluster (--job_name/TF_CONFIG); leave it out there' %
            steps_per_run)
    rhythms = (summary_steps, save_checkpoint_steps, STEP_LINE_EVERY)
    if any(every % steps_per_run for every in rhythms):
        raise errors.UserError(
            '--steps_per_run=%d must divide --summary_steps (%d), '
            '--save_checkpoint_steps (%d) and %d (the Step lines), so that '
            'they fall on the same steps as with 1; use a divisor of all '
            'three, e.g. %d' % ((steps_per_run,) + rhythms +
                                (math.gcd(*rhythms),)))


def runs(first_step, max_steps, steps_per_run):
    """The runs of steps from first_step to max_steps, each ending at a
    multiple of steps_per_run or at max_steps.

    Returns:
      An iterator of range objects.
    """
    step = first_step
    while step < max_steps:
        end = min((step // steps_per_run + 1) * steps_per_run, max_steps)
        yield range(step, end)
        step = end


def training_runs(steps, in_graph, max_steps, steps_per_run):
    """What each Session.run of training takes: a step (the tutorial's loop;
    on a cluster, the steps this worker takes), or with an InGraphSteps the
    steps up to the next multiple of steps_per_run (a range)."""
    if in_graph is None:
        return steps
    return runs(steps.global_step, max_steps, steps_per_run)


@contextlib.contextmanager
def _reusing(variables, global_step):
    """Hands out `variables`, in order, to the variables created inside.

    A network built a second time creates its variables in the order of the
    first build. The global step is apart: training() may create it (as the
    tutorial's mnist.py did) or find it (tf.train.get_or_create_global_step).

    Raises:
      RuntimeError: the second build asked for variables that do not match
        (a network creating variables depending on how often it is built).
    """
    remaining = collections.deque(variables)

    def reuse(unused_next_creator, **kwargs):
        name = kwargs.get('name')
        if name == 'global_step':
            return global_step
        if not remaining:
            raise RuntimeError('the in-graph loop built a variable (%s) the '
                               'first build did not' % name)
        variable = remaining.popleft()
        shape = kwargs.get('shape')
        initial_value = kwargs.get('initial_value')
        if shape is None and isinstance(initial_value, tf.Tensor):
            shape = initial_value.shape
        if shape is not None and not variable.shape.is_compatible_with(shape):
            raise RuntimeError('the in-graph loop built %s %s where the first '
                               'build had %s %s' %
                               (name, shape, variable.op.name, variable.shape))
        return variable

    with tf.variable_creator_scope(reuse):
        yield
    if remaining:
        raise RuntimeError('the in-graph loop left %s unused' %
                           ', '.join(v.op.name for v in remaining))


def _aligned(array, alignment=64):
    """`array`, or a copy of it whose data starts on an `alignment`-byte
    boundary.

    TensorFlow uses a fed array that is so aligned (Eigen's alignment) in
    place; one that is not (the training images start 48 bytes past such a
    boundary) it copies first, and a run's peak memory was 35 MB higher for
    it (Mechanics 101 with --steps_per_run=10: 827 against 792 MB).
    """
    if array.ctypes.data % alignment == 0:
        return array
    buffer = np.empty(array.nbytes + alignment, dtype=np.uint8)
    start = -buffer.ctypes.data % alignment
    copy = buffer[start:start + array.nbytes].view(array.dtype)
    copy = copy.reshape(array.shape)
    copy[...] = array
    return copy


class InGraphSteps(object):
    """The training set in the graph, and a while loop of training steps.

    Build it after the training graph (whose variables it trains), load()
    it into the session, then run() runs of steps.
    """

    def __init__(self, network, graph, model_args, data_set):
        """Adds the training set's variables and the loop to the default graph.

        Args:
          network: a module from networks.get(), whose training graph is
            already built in the default graph.
          graph: that graph's placeholders and summary op, as the training
            program's TrainingGraph holds them.
          model_args: (inference_args, loss_args, learning_rate): what
            inference() took after the images, loss() after the logits and
            labels, training() after the loss.
          data_set: the training DataSet; the batches are drawn from it.
        """
        self._graph = graph
        self._data_set = data_set
        images, labels = data_set.stored_examples()
        labels_dtype = graph.labels_placeholder.dtype.as_numpy_dtype
        self._stored = (images, labels.astype(labels_dtype))
        global_step = tf.train.get_global_step()
        model_variables = [v for v in tf.global_variables()
                           if v is not global_step]
        tf_graph = tf.get_default_graph()
        with tf.name_scope(SCOPE), ops.collections_kept(tf_graph):
            self._load_feed = [
                tf.placeholder(tf.as_dtype(a.dtype), a.shape, name=name)
                for a, name in zip(self._stored, ('images', 'labels'))]
            # Outside every collection: never initialized with the model
            # (load() does it) and never in a checkpoint.
            self._set = [
                tf.Variable(value, trainable=False, collections=[], name=name)
                for value, name in zip(self._load_feed,
                                       ('train_images', 'train_labels'))]
            self._batches = tf.placeholder(tf.int32, [None, None],
                                           name='batches')
            self._first_step = tf.placeholder(tf.int64, [], name='first_step')
            self._losses = self._loop(network, model_variables, global_step,
                                      *model_args)

    def _loop(self, network, model_variables, global_step, inference_args,
              loss_args, learning_rate):
        """The while loop: one training step per batch index row; returns
        the steps' losses."""
        train_images, train_labels = self._set
        scaled = self._data_set.scales_pixels

        def step(i, losses):
            """One training step of the tutorial, on batch i."""
            batch = self._batches[i]
            # As next_batch() converts: uint8 to float32, times PIXEL_SCALE
            # (unless the DataSet's images are float32 already, or it hands
            # out raw pixels).
            images = tf.cast(tf.gather(train_images, batch), tf.float32)
            if scaled and train_images.dtype.base_dtype == tf.uint8:
                images *= input_data.PIXEL_SCALE
            labels = tf.gather(train_labels, batch)
            # Dropout masks drawn for the step, as the tutorial's loop
            # draws them (ops.dropout()).
            step_number = self._first_step + tf.cast(i, tf.int64)
            with _reusing(model_variables, global_step), \
                    ops.dropout_for_step(step_number):
                logits = network.inference(images, *inference_args)
                loss = network.loss(logits, labels, *loss_args)
                train_op = network.training(loss, learning_rate)
            # The next step starts once this one's update is done.
            with tf.control_dependencies([train_op]):
                return i + 1, losses.write(i, loss)

        count = tf.shape(self._batches)[0]
        _, losses = tf.while_loop(
            lambda i, unused_losses: i < count, step,
            [tf.constant(0), tf.TensorArray(tf.float32, size=count)])
        return losses.stack(name='losses')

    def load(self, sess):
        """Puts the training set into the graph (once per session)."""
        sess.run([v.initializer for v in self._set], feed_dict=dict(
            zip(self._load_feed, [_aligned(a) for a in self._stored])))

    def run(self, sess, steps, batch_size, train_feed, summary_steps,
            trace_steps):
        """Runs `steps` training steps in one Session.run.

        On a summary step (the run's first, as the rhythm is checked) the
        summaries are computed first, on that step's batch, fed, before the
        run trains on it. A run holding a traced step is traced whole.

        Args:
          sess: the session, after load().
          steps: the steps to run, a range from runs().
          batch_size: examples per batch.
          train_feed: what training steps feed besides the data
            (networks.train_feed()).
          summary_steps: the summaries are computed every this many steps.
          trace_steps: as profiling.trace_options() takes it.

        Returns:
          [(step, loss_value, feed_dict, summary_str or None, run_metadata or
          None)] for each step, as the tutorial's loop has them; the
          feed_dict (the step's batch, as the tutorial's loop fed it) is made
          when read.
        """
        batches = np.stack([self._data_set.next_batch_indices(batch_size)
                            for _ in steps]).astype(np.int32)
        graph = self._graph
        feeds = [BatchFeed(self._data_set, batch, graph.images_placeholder,
                           graph.labels_placeholder, train_feed, step)
                 for batch, step in zip(batches, steps)]
        summaries = [None] * len(steps)
        if steps[0] % summary_steps == 0:
            summaries[0] = sess.run(graph.summary, feed_dict=dict(feeds[0]))
        options, run_metadata, traces = _trace(steps, trace_steps)
        feed_dict = dict(train_feed)
        feed_dict[self._batches] = batches
        feed_dict[self._first_step] = steps[0]
        losses = sess.run(self._losses, feed_dict=feed_dict, options=options,
                          run_metadata=run_metadata)
        return list(zip(steps, losses, feeds, summaries, traces))


def _trace(steps, trace_steps):
    """(RunOptions, RunMetadata, [RunMetadata or None for each step]): a run
    of steps holding a traced step is traced whole, under that step."""
    traces = [None] * len(steps)
    for i, step in enumerate(steps):
        if profiling.is_traced(step, trace_steps):
            options, traces[i] = profiling.trace_options(step, trace_steps)
            return options, traces[i], traces
    return None, None, traces


class BatchFeed(collections.abc.Mapping):
    """A step's feed_dict as the tutorial's loop fed it (its batch, and the
    training values), made only if something reads it: the summaries on their
    steps, a network's own progress lines."""

    def __init__(self, data_set, batch, images_pl, labels_pl, train_feed,
                 step):
        self._make = lambda: _feed(data_set, batch, images_pl, labels_pl,
                                   train_feed, step)
        self._feed = None

    def _dict(self):
        if self._feed is None:
            self._feed = self._make()
        return self._feed

    def __getitem__(self, key):
        return self._dict()[key]

    def __iter__(self):
        return iter(self._dict())

    def __len__(self):
        return len(self._dict())


def _feed(data_set, batch, images_pl, labels_pl, train_feed, step):
    images, labels = data_set.examples_at(batch)
    feed_dict = {images_pl: images, labels_pl: labels}
    feed_dict.update(train_feed)
    return ops.with_dropout_step(feed_dict, step)

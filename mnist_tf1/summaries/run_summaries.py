"""What TensorBoard shows for a training run, for any network.

The summaries of TensorFlow's `mnist_with_summaries.py`, found generically in
the graph that `network.inference(images, ...)` built rather than written
into each network, plus what that tutorial did not have. In `<log_dir>`
(beside the loss the network's training() summarizes, every --summary_steps):

  - every trainable variable (weights, biases, conv kernels): a histogram
    and its mean / stddev / max / min, tagged `<variable>/summaries/...`
    as the tutorial's variable_summaries() did;
  - every layer: histograms of its pre-activations and activations (an
    activation op's input and output; the logits are the last layer's
    pre-activations), tagged `<layer>/pre_activations`, `<layer>/activations`;
  - `input_reshape/input/image/*`: a few of the training digits;
  - `learning_rate` and `examples_per_sec`;
  - run metadata (time and memory per op) every --trace_steps;
  - the HParams experiment and session (hparams.py);
  - the embedding projector of the last hidden layer, at the end (projector.py).

In `<log_dir>/train`, `<log_dir>/validation` and `<log_dir>/test`, at the
global step of each evaluation: `precision_at_1`, so TensorBoard overlays
the three curves; in `test` also the misclassified digits (`misclassified`)
and the confusion matrix (`confusion_matrix`), see confusion.py.
"""

import collections
import os

import numpy as np

import tensorflow.compat.v1 as tf

from mnist_tf1.summaries import confusion
from mnist_tf1.summaries import hparams
from mnist_tf1.summaries import pictures
from mnist_tf1.summaries import projector

# The evaluated sets, each with its own writer (and run) under the log dir.
SPLITS = ('train', 'validation', 'test')
PRECISION_TAG = 'precision_at_1'
MISCLASSIFIED_TAG = 'misclassified'
CONFUSION_TAG = 'confusion_matrix'
LEARNING_RATE_TAG = 'learning_rate'
EXAMPLES_PER_SEC_TAG = 'examples_per_sec'
# Training digits shown per summary step.
INPUT_IMAGES = 3

# Buckets per histogram, as in TensorBoard's own summary API.
HISTOGRAM_BUCKETS = 30
_EDGE_FRACTIONS = np.linspace(0.0, 1.0, HISTOGRAM_BUCKETS + 1).astype(
    np.float32)
_HISTOGRAM_METADATA = tf.SummaryMetadata(
    plugin_data=tf.SummaryMetadata.PluginData(plugin_name='histograms')
).SerializeToString()

# Op types that are a layer's nonlinearity: their input is the layer's
# pre-activations, their output its activations.
ACTIVATION_OPS = frozenset([
    'Relu', 'Relu6', 'Elu', 'Selu', 'LeakyRelu', 'Softplus', 'Softsign',
    'Sigmoid', 'Tanh', 'Softmax',
])
# Where the walk up from the logits stops: the inputs and the parameters.
_LEAF_OPS = frozenset([
    'Placeholder', 'PlaceholderWithDefault', 'VariableV2', 'VarHandleOp',
    'Const',
])

# Tensors the evaluation and the projector fetch (see add_summaries).
Inspection = collections.namedtuple(
    'Inspection', ['predictions', 'last_hidden', 'loss_tag'])


# Finding the layers of any network.

def upstream_ops(tensor):
    """The ops `tensor` is computed from, nearest first (breadth-first),
    stopping at placeholders, variables and constants."""
    seen = {tensor.op.name}
    queue = collections.deque([tensor.op])
    order = []
    while queue:
        op = queue.popleft()
        order.append(op)
        if op.type in _LEAF_OPS:
            continue
        for t in op.inputs:
            if t.op.name not in seen:
                seen.add(t.op.name)
                queue.append(t.op)
    return order


def _scope(op):
    return op.name.rsplit('/', 1)[0] if '/' in op.name else ''


def layer_outputs(logits):
    """Every layer between the inputs and `logits`, in the order built.

    Returns:
      [(layer_name, pre_activations, activations)]: one entry per activation
      op (name: its name scope, or its op name where a scope holds several),
      then the logits as the last layer's pre-activations (activations None)
      unless the logits are themselves an activation's output.
    """
    graph = logits.graph
    upstream = {op.name for op in upstream_ops(logits)}
    activations = [op for op in graph.get_operations()
                   if op.name in upstream and op.type in ACTIVATION_OPS]
    scopes = collections.Counter(_scope(op) for op in activations)
    layers = []
    for op in activations:
        scope = _scope(op)
        name = scope if scope and scopes[scope] == 1 else op.name
        layers.append((name, op.inputs[0], op.outputs[0]))
    if logits.op.type not in ACTIVATION_OPS:
        name = _scope(logits.op)
        if not name or name in [n for n, _, _ in layers]:
            name = logits.op.name
        layers.append((name, logits, None))
    return layers


def _activation_behind(tensor):
    """The activation op output that `tensor` is computed from through
    same-shaped (element-wise) ops only, such as dropout's; else None."""
    shape = tensor.shape.as_list() if tensor.shape.ndims is not None else None
    seen = {tensor.op.name}
    queue = collections.deque([tensor.op])
    while queue:
        op = queue.popleft()
        if op.type in ACTIVATION_OPS:
            return op.outputs[0]
        if op.type in _LEAF_OPS:
            continue
        for t in op.inputs:
            same = (t.shape.ndims is not None and
                    t.shape.as_list() == shape)
            if same and t.op.name not in seen:
                seen.add(t.op.name)
                queue.append(t.op)
    return None


def last_hidden_layer(logits):
    """The input of the matmul nearest the logits (the final layer's), or
    None where there is none. For a network without hidden layers that is
    the images themselves.

    Where that input is an activation passed through dropout, the
    activation itself is returned: the same values at evaluation (dropout
    keeps every unit then), under the layer's name.
    """
    for op in upstream_ops(logits):
        if op.type in ('MatMul', 'BatchMatMulV2'):
            hidden = op.inputs[0]
            activation = _activation_behind(hidden)
            return hidden if activation is None else activation
    return None


# Graph summaries, merged by the loop's tf.summary.merge_all().

def _add(summary_op):
    tf.add_to_collection(tf.GraphKeys.SUMMARIES, summary_op)
    return summary_op


def _scalar(tag, value, name):
    return _add(tf.raw_ops.ScalarSummary(tags=tag, values=value, name=name))


def _histogram(tag, values, name, min_value=None, max_value=None):
    """A histogram summary of `values` in HISTOGRAM_BUCKETS equal buckets.

    TensorFlow's HistogramSummary op sorts every value into ~1,500 buckets,
    which for the 100,352 weights of hidden1 costs 15-20 times a training
    step; TensorBoard only shows about 30 buckets anyway. This writes the
    histogram the way TensorBoard's own summary API does ([left edge, right
    edge, count] rows under the 'histograms' plugin), counted by one
    HistogramFixedWidth op, in a small fraction of the time.
    """
    with tf.name_scope(name):
        if min_value is None:
            min_value = tf.reduce_min(values)
        if max_value is None:
            max_value = tf.reduce_max(values)
        # All values equal (biases start at zero): one unit-wide range
        # around them, as TensorBoard's own summary does.
        pad = 0.5 * tf.cast(tf.equal(min_value, max_value), values.dtype)
        low, high = min_value - pad, max_value + pad
        counts = tf.histogram_fixed_width(values, tf.stack([low, high]),
                                          nbins=HISTOGRAM_BUCKETS)
        # Bucket i spans low + (high - low) * [i, i + 1] / HISTOGRAM_BUCKETS.
        width = high - low
        buckets = tf.stack([low + width * _EDGE_FRACTIONS[:-1],
                            low + width * _EDGE_FRACTIONS[1:],
                            tf.cast(counts, values.dtype)], axis=1)
        return _add(tf.raw_ops.TensorSummaryV2(
            tag=tag, tensor=buckets,
            serialized_summary_metadata=_HISTOGRAM_METADATA, name='summary'))


def variable_summaries(var, tag):
    """Attach a lot of summaries to a Tensor (for TensorBoard visualization):
    mean, stddev, max, min and a histogram, as mnist_with_summaries.py did.

    Args:
      var: the tensor (a variable, usually).
      tag: tag prefix, e.g. 'hidden1/weights'; the tags are
        '<tag>/summaries/mean', ... and '<tag>/summaries/histogram'.
    """
    prefix = tag + '/summaries/'
    # An absolute name scope (trailing '/') keeps the ops beside the variable.
    with tf.name_scope(prefix):
        mean = tf.reduce_mean(var, name='mean')
        _scalar(prefix + 'mean', mean, 'mean_summary')
        stddev = tf.sqrt(tf.reduce_mean(tf.square(var - mean)), name='stddev')
        _scalar(prefix + 'stddev', stddev, 'stddev_summary')
        max_value = tf.reduce_max(var, name='max')
        _scalar(prefix + 'max', max_value, 'max_summary')
        min_value = tf.reduce_min(var, name='min')
        _scalar(prefix + 'min', min_value, 'min_summary')
        _histogram(prefix + 'histogram', var, 'histogram', min_value,
                   max_value)


def learning_rate_tensor(graph):
    """The learning rate the optimizer built into the graph (the tensor its
    apply step reads, e.g. 'GradientDescent/learning_rate'), or None."""
    for op in graph.get_operations():
        if (op.name.rsplit('/', 1)[-1] == 'learning_rate' and
                len(op.outputs) == 1 and op.outputs[0].dtype.is_floating and
                op.outputs[0].shape.ndims == 0):
            return op.outputs[0]
    return None


def scalar_tag(tensor):
    """The tag of a scalar summary in the SUMMARIES collection that reads
    `tensor`, or None."""
    for summary in tf.get_collection(tf.GraphKeys.SUMMARIES):
        op = summary.op
        if (op.type == 'ScalarSummary' and op.inputs[1].name == tensor.name
                and op.inputs[0].op.type == 'Const'):
            tag = tf.make_ndarray(op.inputs[0].op.get_attr('value')).item()
            return tag.decode() if isinstance(tag, bytes) else tag
    return None


def add_summaries(images, logits, loss, learning_rate):
    """Adds the summaries of the docstring above to the graph, for any network.

    Call after network.training() and before tf.summary.merge_all().

    Args:
      images: the images placeholder [batch, 784].
      logits: what network.inference() returned.
      loss: what network.loss() returned.
      learning_rate: the --learning_rate value, summarized when the graph
        holds no learning-rate tensor of its own.

    Returns:
      An Inspection: `predictions` (class ids) and `last_hidden` (the input
      of the final layer, or None) for evaluation images and the projector,
      and `loss_tag`, the tag of the loss scalar.
    """
    graph = logits.graph
    for var in tf.trainable_variables():
        variable_summaries(var, var.op.name)
    for name, pre_activations, activations in layer_outputs(logits):
        with tf.name_scope(name + '/summaries/'):
            _histogram(name + '/pre_activations', pre_activations,
                       'pre_activations')
            if activations is not None:
                _histogram(name + '/activations', activations, 'activations')
    # The loss, where the network's training() did not summarize it already.
    if scalar_tag(loss) is None:
        _scalar(loss.op.name, loss, 'loss_summary')
    with tf.name_scope('input_reshape'):
        image_shaped_input = tf.reshape(images, [-1, 28, 28, 1])
        tf.summary.image('input', image_shaped_input, INPUT_IMAGES)
    rate = learning_rate_tensor(graph)
    if rate is None:
        rate = tf.constant(learning_rate, tf.float32, name='learning_rate')
    _scalar(LEARNING_RATE_TAG, rate, 'learning_rate_summary')
    predictions = tf.argmax(logits, 1, name='predictions')
    return Inspection(predictions, last_hidden_layer(logits),
                      scalar_tag(loss))


# Summaries written from Python.

def scalar_summary(tag, value):
    return tf.Summary(value=[tf.Summary.Value(tag=tag,
                                              simple_value=float(value))])


def image_summary(tag, pixels, description=''):
    """A Summary holding one PNG image of uint8 pixels [h, w] or [h, w, 3].

    Written in the image plugin's own tensor form ([width, height, png])
    rather than as a legacy Summary.Image, so that TensorBoard shows the
    description under the image with either of its data loaders.
    """
    png = pictures.encode_png(pixels)
    metadata = tf.SummaryMetadata(
        summary_description=description,
        plugin_data=tf.SummaryMetadata.PluginData(plugin_name='images'))
    tensor = tf.make_tensor_proto(
        [str(pixels.shape[1]).encode(), str(pixels.shape[0]).encode(), png],
        dtype=tf.string)
    return tf.Summary(value=[tf.Summary.Value(tag=tag, metadata=metadata,
                                              tensor=tensor)])


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
        return scalar_summary(EXAMPLES_PER_SEC_TAG, rate)


def trace_options(step, trace_steps):
    """(RunOptions, RunMetadata) for a full trace of this step, or
    (None, None). With --trace_steps=N the last step of every N is traced
    (99, 199, ... for 100, as the tutorial did); 0 traces nothing."""
    if trace_steps <= 0 or step % trace_steps != trace_steps - 1:
        return None, None
    return (tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
            tf.RunMetadata())


def trace_tag(step):
    return 'step%d' % step


def predict(sess, tensors, images_placeholder, data_set, batch_size,
            limit=None):
    """Runs `tensors` over a set's images in file order, in batches.

    Returns:
      ([one array per tensor], images, labels), each over the first `limit`
      examples (all when None).
    """
    outputs, images, labels = [[] for _ in tensors], [], []
    count = 0
    for images_feed, labels_feed in data_set.batches(batch_size):
        if limit is not None:
            images_feed = images_feed[:limit - count]
            labels_feed = labels_feed[:limit - count]
        for out, value in zip(outputs, sess.run(
                tensors, feed_dict={images_placeholder: images_feed})):
            out.append(value)
        images.append(images_feed)
        labels.append(labels_feed)
        count += len(labels_feed)
        if limit is not None and count >= limit:
            break
    return ([np.concatenate(out) for out in outputs], np.concatenate(images),
            np.concatenate(labels))


class RunSummaries(object):
    """The writers beside the training writer, and what goes in them.

    Writes the HParams experiment and session start when made, the
    evaluations (add_evaluation) while training, and the projector and the
    HParams session end at the end (close).
    """

    def __init__(self, log_dir, summary_writer, inspection, images_placeholder,
                 eval_batch_size, flag_values):
        """Opens one writer per evaluated set and starts the HParams session.

        Args:
          log_dir: the run's log dir.
          summary_writer: the training FileWriter at log_dir.
          inspection: what add_summaries() returned.
          images_placeholder: the images placeholder.
          eval_batch_size: batch size for the extra evaluation passes.
          flag_values: the parsed absl FLAGS, for the HParams.
        """
        self._log_dir = log_dir
        self._summary_writer = summary_writer
        self._inspection = inspection
        self._images = images_placeholder
        self._batch_size = eval_batch_size
        self.writers = {split: tf.summary.FileWriter(os.path.join(log_dir,
                                                                  split))
                        for split in SPLITS}
        flags = hparams.project_flags(flag_values)
        metrics = [(split, PRECISION_TAG) for split in SPLITS]
        metrics.append(('', inspection.loss_tag))
        summary_writer.add_summary(hparams.experiment_summary(flags, metrics))
        summary_writer.add_summary(hparams.session_start_summary(flags))
        summary_writer.flush()

    def add_evaluation(self, sess, global_step, precisions, test_set):
        """Writes one evaluation: the precisions, and for the test set the
        misclassified digits and the confusion matrix.

        Args:
          sess: the training session.
          global_step: the global step the evaluation was made at.
          precisions: {split: precision @ 1} for some of SPLITS.
          test_set: the test DataSet.
        """
        for split, precision in precisions.items():
            self.writers[split].add_summary(
                scalar_summary(PRECISION_TAG, precision), global_step)
        predictions, labels, wrong_images = [], [], []
        for images_feed, labels_feed in test_set.batches(self._batch_size):
            batch_predictions = sess.run(
                self._inspection.predictions,
                feed_dict={self._images: images_feed})
            # Keep the pixels of the digits drawn only: the first
            # misclassified ones of each batch, up to the limit, are the
            # first ones of the set.
            wrong = confusion.misclassified(
                labels_feed, batch_predictions,
                confusion.MAX_MISCLASSIFIED - len(wrong_images))
            wrong_images.extend(images_feed[wrong])
            predictions.append(batch_predictions)
            labels.append(labels_feed)
        predictions = np.concatenate(predictions)
        labels = np.concatenate(labels)
        test_writer = self.writers['test']
        wrong = confusion.misclassified(labels, predictions)
        if len(wrong):
            test_writer.add_summary(image_summary(
                MISCLASSIFIED_TAG,
                confusion.misclassified_image(np.array(wrong_images),
                                              labels[wrong],
                                              predictions[wrong]),
                'The first %d misclassified test digits, each over P '
                '(prediction, red) and T (truth, green).' % len(wrong)),
                global_step)
        test_writer.add_summary(image_summary(
            CONFUSION_TAG,
            confusion.confusion_image(
                confusion.confusion_matrix(labels, predictions)),
            'Test set: rows are the true digit (T), columns the predicted '
            'digit (P).'), global_step)
        for writer in self.writers.values():
            writer.flush()

    def close(self, sess, test_set, finished=True):
        """Writes the projector and the HParams session end, when training
        `finished` (not stopped by a signal, to be resumed); closes the
        evaluation writers (the loop closes its own)."""
        if finished and self._inspection.last_hidden is not None:
            (predictions, embeddings), images, labels = predict(
                sess, [self._inspection.predictions,
                       self._inspection.last_hidden],
                self._images, test_set, self._batch_size,
                limit=projector.SAMPLE_SIZE)
            projector.write(self._log_dir,
                            self._inspection.last_hidden.op.name, embeddings,
                            images, labels, predictions)
        if finished:
            self._summary_writer.add_summary(hparams.session_end_summary())
            self._summary_writer.flush()
        for writer in self.writers.values():
            writer.close()

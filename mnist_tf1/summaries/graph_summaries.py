"""Summary ops for any network's graph, found generically, and the
summaries written from Python (scalars, PNG images).

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

The evaluations' summaries, in their own runs, are run_summaries.py's.
"""

import collections

import numpy as np

import tensorflow.compat.v1 as tf

from mnist_tf1.summaries import pictures
from mnist_tf1.summaries import tags

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
    _scalar(tags.LEARNING_RATE_TAG, rate, 'learning_rate_summary')
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

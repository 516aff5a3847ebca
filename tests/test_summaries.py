"""The summaries found generically in any network's graph, the projector
files and the HParams flags, checked in-process against numpy."""

import os

import numpy as np
import pytest

import tensorflow.compat.v1 as tf
from google.protobuf import text_format
from tensorboard.plugins.hparams import plugin_data_pb2
from tensorboard.plugins.projector import projector_config_pb2

from mnist_tf1 import fully_connected_feed
from mnist_tf1 import mnist
from mnist_tf1 import networks
from mnist_tf1.summaries import graph_summaries
from mnist_tf1.summaries import hparams
from mnist_tf1.summaries import profiling
from mnist_tf1.summaries import projector


def mechanics101():
    """The Mechanics 101 graph as the loop builds it; returns its tensors."""
    images, labels = fully_connected_feed.placeholder_inputs(None)
    logits = mnist.inference(images, 128, 32)
    loss = mnist.loss(logits, labels)
    train_op = mnist.training(loss, 0.01)
    return images, labels, logits, loss, train_op


def small_cnn(images):
    """A conv net in the deep-CNN tutorial's shape, built without help:
    conv + bias + ReLU, max-pool, fc + ReLU, dropout, logits."""
    with tf.name_scope('conv1'):
        x = tf.reshape(images, [-1, 28, 28, 1])
        w = tf.Variable(tf.truncated_normal([5, 5, 1, 4], stddev=0.1),
                        name='weights')
        b = tf.Variable(tf.constant(0.1, shape=[4]), name='biases')
        h = tf.nn.relu(tf.nn.conv2d(x, w, [1, 1, 1, 1], 'SAME') + b)
    with tf.name_scope('pool1'):
        h = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], 'SAME')
    with tf.name_scope('fc1'):
        w = tf.Variable(tf.truncated_normal([14 * 14 * 4, 16], stddev=0.1),
                        name='weights')
        b = tf.Variable(tf.constant(0.1, shape=[16]), name='biases')
        h = tf.nn.relu(tf.matmul(tf.reshape(h, [-1, 14 * 14 * 4]), w) + b)
    with tf.name_scope('dropout'):
        keep_prob = tf.placeholder_with_default(1.0, [], name='keep_prob')
        dropped = tf.nn.dropout(h, rate=1 - keep_prob)
    with tf.name_scope('fc2'):
        w = tf.Variable(tf.truncated_normal([16, 10], stddev=0.1),
                        name='weights')
        b = tf.Variable(tf.constant(0.1, shape=[10]), name='biases')
        logits = tf.matmul(dropped, w) + b
    return logits, dropped


def test_layers_of_mechanics101_are_found_by_scope_and_op_type():
    with tf.Graph().as_default():
        images, _, logits, _, _ = mechanics101()
        layers = [(name, pre.name, act.name if act is not None else None)
                  for name, pre, act in graph_summaries.layer_outputs(logits)]
        assert layers == [
            ('hidden1', 'hidden1/add:0', 'hidden1/Relu:0'),
            ('hidden2', 'hidden2/add:0', 'hidden2/Relu:0'),
            ('softmax_linear', logits.name, None),
        ]
        assert graph_summaries.last_hidden_layer(logits).name == 'hidden2/Relu:0'


def test_layers_of_a_conv_net_are_found_too():
    with tf.Graph().as_default():
        images, labels = fully_connected_feed.placeholder_inputs(None)
        logits, dropped = small_cnn(images)
        names = [name for name, _, _ in graph_summaries.layer_outputs(logits)]
        assert names == ['conv1', 'fc1', 'fc2']
        # The last hidden layer is what the final matmul reads, seen through
        # dropout (the identity at evaluation): fc1's activations.
        assert graph_summaries.last_hidden_layer(logits).name == 'fc1/Relu:0'
        assert dropped.name != 'fc1/Relu:0'

        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits), name='cross_entropy')
        tf.train.AdamOptimizer(1e-4).minimize(loss)
        inspection = graph_summaries.add_summaries(images, logits, loss, 1e-4)
        # No loss summary in this network's training: one is added.
        assert inspection.loss_tag == 'cross_entropy'
        tags = set()
        for summary in tf.get_collection(tf.GraphKeys.SUMMARIES):
            if summary.op.type == 'ImageSummary':
                continue
            tags.add(tf.make_ndarray(
                summary.op.inputs[0].op.get_attr('value')).item().decode())
        for var in ('conv1/weights', 'conv1/biases', 'fc1/weights',
                    'fc2/biases'):
            for stat in ('mean', 'stddev', 'max', 'min', 'histogram'):
                assert '%s/summaries/%s' % (var, stat) in tags
        for tag in ('conv1/pre_activations', 'conv1/activations',
                    'fc1/activations', 'fc2/pre_activations',
                    'learning_rate', 'cross_entropy'):
            assert tag in tags
        # Adam's learning rate is the one summarized.
        assert graph_summaries.learning_rate_tensor(
            tf.get_default_graph()).name == 'Adam/learning_rate:0'


def test_a_network_without_hidden_layers_projects_its_inputs():
    with tf.Graph().as_default():
        images, _ = fully_connected_feed.placeholder_inputs(None)
        w = tf.Variable(tf.zeros([784, 10]), name='weights')
        logits = tf.matmul(images, w)
        assert graph_summaries.layer_outputs(logits) == [('MatMul', logits, None)]
        assert graph_summaries.last_hidden_layer(logits) is images


# What the summaries find in each network of --model, built as the loop
# builds it: its layers, and the layer the projector shows (and its width).
NETWORK_LAYERS = {
    'mechanics101': (['hidden1', 'hidden2', 'softmax_linear'],
                     'hidden2/Relu', 32),
    'softmax': (['logits'], 'images', 784),
    'dropout_mlp': (['model/fc1/softmax_activation',
                     'model/fc2/relu_activation', 'model/fc3/logits'],
                    'model/fc2/relu_activation/Relu', 100),
    'three_layer': (['Relu', 'logits'], 'Relu', 300),
    'deep_cnn': (['conv1', 'conv2', 'fc1', 'fc2'], 'fc1/Relu', 1024),
}


@pytest.mark.parametrize('name', sorted(networks.NETWORKS))
def test_every_network_gets_its_summaries(name):
    assert set(NETWORK_LAYERS) == set(networks.NETWORKS)
    layers, last_hidden, width = NETWORK_LAYERS[name]
    network = networks.get(name)
    flags = fully_connected_feed.FLAGS

    def setting(flag):
        return network.SPEC.defaults.get(flag, flags[flag].default)

    with tf.Graph().as_default(), tf.Session() as sess:
        images, labels = fully_connected_feed.placeholder_inputs(
            None, network.SPEC.one_hot)
        logits = network.inference(images,
                                   *[setting(h) for h in network.SPEC.hparams])
        loss = network.loss(logits, labels,
                            *[setting(h) for h in network.SPEC.loss_params])
        train_op = network.training(loss, setting('learning_rate'))
        inspection = graph_summaries.add_summaries(images, logits, loss,
                                             setting('learning_rate'))
        merged = tf.summary.merge_all()
        assert [n for n, _, _ in graph_summaries.layer_outputs(logits)] == layers
        assert inspection.last_hidden.op.name == last_hidden

        sess.run(tf.global_variables_initializer())
        rng = np.random.RandomState(0)
        label_ids = rng.randint(0, 10, 4)
        feed = {images: rng.rand(4, 784).astype(np.float32),
                labels: np.eye(10)[label_ids] if network.SPEC.one_hot
                else label_ids}
        _, values = sess.run([train_op, merged], feed)
        values = parse(values)
        for var in tf.trainable_variables():
            histogram = values[var.op.name + '/summaries/histogram']
            assert histogram[:, 2].sum() == np.prod(var.shape.as_list())
        for layer in layers:
            assert layer + '/pre_activations' in values
        assert values[inspection.loss_tag] > 0
        assert values['learning_rate'] == pytest.approx(
            setting('learning_rate'))
        hidden, predictions = sess.run(
            [inspection.last_hidden, inspection.predictions], feed)
        assert hidden.shape == (4, width)
        assert predictions.shape == (4,)


def parse(summary_bytes):
    """{tag: simple value or tensor ndarray} from a serialized Summary."""
    out = {}
    for value in tf.Summary.FromString(summary_bytes).value:
        kind = value.WhichOneof('value')
        if kind == 'simple_value':
            out[value.tag] = value.simple_value
        elif kind == 'tensor':
            out[value.tag] = tf.make_ndarray(value.tensor)
        else:
            out[value.tag] = kind
    return out


def test_summaries_hold_the_right_numbers():
    with tf.Graph().as_default(), tf.Session() as sess:
        images, labels, logits, loss, train_op = mechanics101()
        inspection = graph_summaries.add_summaries(images, logits, loss, 0.01)
        assert inspection.loss_tag == 'xentropy_mean'
        merged = tf.summary.merge_all()
        sess.run(tf.global_variables_initializer())
        rng = np.random.RandomState(0)
        feed = {images: rng.rand(5, 784).astype(np.float32),
                labels: rng.randint(0, 10, 5)}
        values = parse(sess.run(merged, feed))
        weights = sess.run(tf.trainable_variables()[0])  # hidden1/weights

        prefix = 'hidden1/weights/summaries/'
        assert values[prefix + 'mean'] == pytest.approx(weights.mean(),
                                                        abs=1e-6)
        assert values[prefix + 'stddev'] == pytest.approx(weights.std(),
                                                          rel=1e-4)
        assert values[prefix + 'max'] == pytest.approx(weights.max())
        assert values[prefix + 'min'] == pytest.approx(weights.min())
        buckets = values[prefix + 'histogram']
        assert buckets.shape == (graph_summaries.HISTOGRAM_BUCKETS, 3)
        assert buckets[:, 2].sum() == weights.size
        assert buckets[0, 0] == pytest.approx(weights.min())
        assert buckets[-1, 1] == pytest.approx(weights.max(), rel=1e-5)
        np.testing.assert_allclose(buckets[1:, 0], buckets[:-1, 1])
        counts, _ = np.histogram(weights, bins=graph_summaries.HISTOGRAM_BUCKETS,
                                 range=(weights.min(), weights.max()))
        # Float rounding may move a value at a bucket edge by one bucket.
        assert np.abs(buckets[:, 2] - counts).sum() <= 4

        # Zero biases: all 128 in the middle of a unit range around 0.
        biases = values['hidden1/biases/summaries/histogram']
        assert biases[0, 0] == -0.5 and biases[-1, 1] == 0.5
        assert biases[:, 2].sum() == 128 and biases[:, 2].max() == 128

        activations = values['hidden1/activations']
        assert activations[:, 2].sum() == 5 * 128
        assert activations[0, 0] >= 0.0  # after a ReLU
        assert values['softmax_linear/pre_activations'][:, 2].sum() == 50
        assert values['learning_rate'] == pytest.approx(0.01)
        assert values['xentropy_mean'] == pytest.approx(
            sess.run(loss, feed))
        assert values['input_reshape/input/image/0'] == 'image'
        assert 'input_reshape/input/image/2' in values
        np.testing.assert_array_equal(
            sess.run(inspection.predictions, feed),
            sess.run(logits, feed).argmax(axis=1))


def test_throughput_counts_examples_per_second_of_training_steps():
    throughput = profiling.Throughput(batch_size=100)
    throughput.add(0.25)
    throughput.add(0.75)
    value, = tf.Summary.FromString(
        throughput.summary().SerializeToString()).value
    assert value.tag == 'examples_per_sec'
    assert value.simple_value == pytest.approx(200.0)
    throughput.add(0.5)  # restarted after each summary
    assert throughput.summary().value[0].simple_value == pytest.approx(200.0)


def test_trace_options_follow_the_tutorials_rhythm():
    assert profiling.trace_options(99, 0) == (None, None)
    traced = [step for step in range(400)
              if profiling.trace_options(step, 100)[0] is not None]
    assert traced == [99, 199, 299, 399]
    options, metadata = profiling.trace_options(99, 100)
    assert options.trace_level == tf.RunOptions.FULL_TRACE
    assert isinstance(metadata, tf.RunMetadata)


def test_hparams_are_the_flags_that_describe_a_run():
    names = [flag.name for flag in
             hparams.project_flags(fully_connected_feed.FLAGS)]
    assert names == sorted(names)
    for name in ('model', 'learning_rate', 'max_steps', 'hidden1',
                 'hidden2', 'batch_size', 'seed', 'keep_prob'):
        assert name in names
    for name in ('log_dir', 'input_data_dir', 'data_source_url',
                 'tf_verbose', 'summary_steps', 'trace_steps', 'fake_data',
                 'fresh', 'max_to_keep'):
        assert name not in names
    # absl's and TensorFlow's own flags are not ours.
    assert 'verbosity' not in names and 'logtostderr' not in names
    flags = hparams.project_flags(fully_connected_feed.FLAGS)
    values = hparams.values(flags)
    assert values['learning_rate'] == 0.01 and values['model'] == \
        'mechanics101'
    assert 'seed' not in values  # unset
    # Unset flags are no columns of the experiment either.
    experiment = tf.Summary.FromString(hparams.experiment_summary(
        flags, [('test', 'precision_at_1')]).SerializeToString())
    columns = [info.name for info in plugin_data_pb2.HParamsPluginData
               .FromString(experiment.value[0].metadata.plugin_data.content)
               .experiment.hparam_infos]
    assert 'learning_rate' in columns and 'hidden1' in columns
    assert 'seed' not in columns and 'keep_prob' not in columns


def test_projector_files_are_what_the_projector_reads(tmp_path):
    rng = np.random.RandomState(1)
    embeddings = rng.rand(5, 3).astype(np.float32)
    images = np.zeros((5, 784), dtype=np.float32)
    images[:, 0] = 1.0
    projector.write(str(tmp_path), 'hidden2/Relu', embeddings, images,
                    [3, 1, 4, 1, 5], [3, 7, 4, 1, 0])
    config = projector_config_pb2.ProjectorConfig()
    text_format.Parse((tmp_path / 'projector_config.pbtxt').read_text(),
                      config)
    embedding, = config.embeddings
    assert embedding.tensor_name == 'hidden2/Relu'
    assert list(embedding.tensor_shape) == [5, 3]
    assert list(embedding.sprite.single_image_dim) == [28, 28]
    for path in (embedding.tensor_path, embedding.metadata_path,
                 embedding.sprite.image_path):
        assert (tmp_path / path).is_file()
        assert not os.path.isabs(path)
    tsv = np.loadtxt(str(tmp_path / embedding.tensor_path), delimiter='\t')
    np.testing.assert_allclose(tsv, embeddings, rtol=1e-5)
    assert (tmp_path / embedding.metadata_path).read_text().splitlines() == [
        'label\tprediction', '3\t3', '1\t7', '4\t4', '1\t1', '5\t0']
    with tf.Graph().as_default(), tf.Session() as sess:
        sprite = sess.run(tf.image.decode_png(
            (tmp_path / embedding.sprite.image_path).read_bytes()))
    # Five digits in a 3 x 3 grid of 28-pixel cells, black ink on white.
    assert sprite.shape == (84, 84, 1)
    assert sprite[0, 0, 0] == 0 and sprite[0, 28, 0] == 0
    assert sprite[1, 1, 0] == 255
    assert sprite[56, 56, 0] == 255  # empty cell
    assert not [p for p in os.listdir(tmp_path / 'projector')
                if p.startswith('.tmp')]

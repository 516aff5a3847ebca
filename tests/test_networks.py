"""Every tutorial network behind `mnist-tf1-train --model=NAME`.

Graphs against the tutorials' shapes and scopes (in-process); real training
runs through the real program on the real MNIST: the cheap full reproductions
(mechanics101, softmax, three_layer) with their bars, short runs of the two
long ones (dropout_mlp, deep_cnn); each run's checkpoint restored into a
freshly built inference graph; the per-network flags and presets.
"""

import copy
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import tensorflow.compat.v1 as tf

from mnist_tf1 import fully_connected_feed
from mnist_tf1 import input_data
from mnist_tf1 import networks
from mnist_tf1.cli import errors
from mnist_tf1.networks import ops
from mnist_tf1.networks import spec

STEP_LINE = re.compile(
    r'^Step (\d+): loss = (\d+\.\d\d) \((\d+\.\d\d\d) sec\)$')
TEST_EVAL = re.compile(r'Test Data Eval:\n  Num examples: (\d+)  '
                       r'Num correct: (\d+)  Precision @ 1: (\d\.\d{4})')

# The flag values each network's inference() takes, with its presets.
HPARAM_VALUES = {
    'mechanics101': (128, 32),
    'softmax': (),
    'dropout_mlp': (500, 100),
    'three_layer': (300,),
    'deep_cnn': (),
}


def train(*flags, timeout=900):
    """Runs the training program in its own process, as a user would."""
    return subprocess.run(
        [sys.executable, '-m', 'mnist_tf1.fully_connected_feed'] + list(flags),
        capture_output=True, text=True, timeout=timeout)


def build(name, loss_params=None):
    """Builds network `name` as the training loop does, in the default graph.

    Returns:
      (images, labels, logits, loss, train_op, eval_correct)
    """
    network = networks.get(name)
    images, labels = fully_connected_feed.placeholder_inputs(
        None, network.SPEC.one_hot)
    logits = network.inference(images, *HPARAM_VALUES[name])
    if loss_params is None:
        loss_params = [False] * len(network.SPEC.loss_params)
    loss = network.loss(logits, labels, *loss_params)
    train_op = network.training(loss, 0.01)
    return images, labels, logits, loss, train_op, network.evaluation(
        logits, labels)


# ---------------------------------------------------------------------------
# Graphs: the tutorials' shapes and names.

VARIABLES = {
    'mechanics101': {
        'hidden1/weights': [784, 128], 'hidden1/biases': [128],
        'hidden2/weights': [128, 32], 'hidden2/biases': [32],
        'softmax_linear/weights': [32, 10], 'softmax_linear/biases': [10]},
    'softmax': {'layer1_weights': [784, 10], 'layer1_biases': [10]},
    'dropout_mlp': {
        'model/fc1/weights': [784, 500], 'model/fc1/biases': [500],
        'model/fc2/weights': [500, 100], 'model/fc2/biases': [100],
        'model/fc3/weights': [100, 10], 'model/fc3/biases': [10]},
    'three_layer': {'W1': [784, 300], 'b1': [300], 'W2': [300, 10],
                    'b2': [10]},
    'deep_cnn': {
        'conv1/weights': [5, 5, 1, 32], 'conv1/biases': [32],
        'conv2/weights': [5, 5, 32, 64], 'conv2/biases': [64],
        'fc1/weights': [3136, 1024], 'fc1/biases': [1024],
        'fc2/weights': [1024, 10], 'fc2/biases': [10]},
}

# Ops named as in the tutorial (the scopes and their key ops), with shapes.
OPS = {
    'mechanics101': {'xentropy_mean': []},
    'softmax': {'logits': [None, 10], 'cost': []},
    'dropout_mlp': {
        'input/keep_prob': [],
        'model/fc1/softmax_activation/Softmax': [None, 500],
        'model/fc2/relu_activation/Relu': [None, 100],
        'model/fc3/logits/logits': [None, 10],
        'train/loss/mean': [],
        'evaluation/accuracy': []},
    'three_layer': {'logits': [None, 10], 'cross_entropy': []},
    'deep_cnn': {
        'reshape/Reshape': [None, 28, 28, 1],
        'conv1/Relu': [None, 28, 28, 32],
        'pool1/MaxPool': [None, 14, 14, 32],
        'conv2/Relu': [None, 14, 14, 64],
        'pool2/MaxPool': [None, 7, 7, 64],
        'fc1/Relu': [None, 1024],
        'dropout/keep_prob': [],
        'cross_entropy': []},
}

OPTIMIZER = {
    'mechanics101': 'GradientDescent', 'softmax': 'GradientDescent',
    'dropout_mlp': 'train/Adam', 'three_layer': 'GradientDescent',
    'deep_cnn': 'adam_optimizer/Adam',
}


@pytest.mark.parametrize('name', sorted(networks.NETWORKS))
def test_graph_has_the_tutorial_shapes_and_names(name):
    with tf.Graph().as_default() as graph:
        images, labels, logits, loss, train_op, correct = build(name)
        assert logits.shape.as_list() == [None, 10]
        assert loss.shape.as_list() == []
        assert correct.dtype == tf.int32
        assert {v.op.name: v.shape.as_list()
                for v in tf.trainable_variables()} == VARIABLES[name]
        for op_name, shape in OPS[name].items():
            assert graph.get_tensor_by_name(op_name + ':0').shape.as_list() \
                == shape, op_name
        assert train_op.name == OPTIMIZER[name]
        # The loop's evaluation needs a summary to merge and a global step.
        assert tf.summary.merge_all() is not None
        assert tf.train.get_global_step().op.name == 'global_step'
        assert labels.dtype == (tf.float32 if networks.get(name).SPEC.one_hot
                                else tf.int32)


class _Flag(object):
    """Stands in for an absl flag: what networks.train_feed() reads."""

    def __init__(self, value):
        self.value = value


@pytest.mark.parametrize('name', ['dropout_mlp', 'deep_cnn'])
def test_dropout_is_off_unless_training_feeds_keep_prob(name):
    with tf.Graph().as_default():
        images, _, logits, _, _, _ = build(name)
        feed = networks.train_feed(networks.get(name), {'keep_prob': _Flag(0.2)})
        [keep_prob] = feed
        assert keep_prob.op.type == 'PlaceholderWithDefault'
        batch = np.random.RandomState(0).rand(8, 784).astype(np.float32)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            # No feed: the default 1.0, every unit kept, the same answer twice.
            first = sess.run(logits, {images: batch})
            np.testing.assert_array_equal(
                first, sess.run(logits, {images: batch}))
            np.testing.assert_array_equal(
                first, sess.run(logits, {images: batch, keep_prob: 1.0}))
            dropped = sess.run(logits, {images: batch, keep_prob: 0.2})
            assert not np.allclose(first, dropped)
        # The loop's evaluation feed drops it again.
        assert ops.evaluation_feed({images: batch, keep_prob: 0.2}) == {
            images: batch}


def test_three_layer_losses_match_their_formulas():
    from mnist_tf1.networks import three_layer
    logits = np.array([[2.0, -1.0, 0.5] + [0.0] * 7,
                       [30.0, -30.0] + [0.0] * 8], dtype=np.float32)
    labels = np.eye(10, dtype=np.float32)[[0, 1]]
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    clipped = np.clip(p, 1e-10, 0.9999999)
    published = -np.mean(np.sum(labels * np.log(clipped) +
                                (1 - labels) * np.log(1 - clipped), axis=1))
    stable = -np.mean(np.sum(labels * np.log(np.maximum(p, 1e-300)), axis=1))
    with tf.Graph().as_default(), tf.Session() as sess:
        got_clipped = sess.run(three_layer.loss(
            tf.constant(logits), tf.constant(labels), True))
        got_stable = sess.run(three_layer.loss(
            tf.constant(logits), tf.constant(labels), False))
    assert got_clipped == pytest.approx(published, rel=1e-4)
    # The clip caps the second example's -log(p) at -log(1e-10) = 23.0; the
    # stable form sees the true 60.
    assert got_stable == pytest.approx(stable, rel=1e-4)
    assert got_stable > got_clipped


# ---------------------------------------------------------------------------
# Presets, and flags that mean nothing to a network.

def _flag_values(*argv):
    """A parsed copy of the training program's own flags."""
    flag_values = copy.deepcopy(fully_connected_feed.FLAGS)
    flag_values.unparse_flags()
    flag_values(['prog'] + list(argv))
    return flag_values


@pytest.mark.parametrize('name', sorted(networks.NETWORKS))
def test_presets_apply_to_the_flags_left_alone(name):
    flag_values = _flag_values('--model=%s' % name)
    network = networks.get(name)
    networks.apply_defaults(flag_values, network)
    for flag, value in network.SPEC.defaults.items():
        assert flag_values[flag].value == value, flag
    # Every flag the network reads has a value it can use.
    for flag in network.SPEC.own_flags():
        assert flag_values[flag].value is not None, flag


def test_a_flag_the_user_sets_wins_over_the_preset():
    flag_values = _flag_values('--model=three_layer', '--learning_rate=0.1',
                               '--hidden1=64', '--clipped_loss')
    networks.apply_defaults(flag_values, networks.get('three_layer'))
    assert flag_values.learning_rate == 0.1
    assert flag_values.hidden1 == 64
    assert flag_values.clipped_loss is True
    assert flag_values.max_steps == 5500  # The preset, not the flag default.
    # What is recorded is what is used.
    recorded = flag_values.flags_into_string()
    assert '--learning_rate=0.1\n' in recorded
    assert '--max_steps=5500\n' in recorded


@pytest.mark.parametrize('name,flag,bare', [
    ('softmax', '--hidden2=32', 'hidden2'),
    ('softmax', '--hidden1=10', 'hidden1'),
    ('mechanics101', '--keep_prob=0.5', 'keep_prob'),
    ('mechanics101', '--print_cost', 'print_cost'),
    ('three_layer', '--hidden2=10', 'hidden2'),
    ('three_layer', '--noprint_cost', 'print_cost'),
    ('dropout_mlp', '--clipped_loss', 'clipped_loss'),
    ('deep_cnn', '--hidden1=10', 'hidden1'),
])
def test_flags_meaningless_to_the_network_are_refused(name, flag, bare):
    flag_values = _flag_values('--model=%s' % name, flag)
    with pytest.raises(errors.UserError) as raised:
        networks.apply_defaults(flag_values, networks.get(name))
    assert str(raised.value).startswith(
        '--%s means nothing to --model=%s; drop it' % (bare, name))


@pytest.mark.slow
def test_the_program_refuses_a_meaningless_flag_in_one_line(tmp_path):
    result = train('--model=softmax', '--hidden2=32', '--fake_data',
                   '--log_dir=%s' % (tmp_path / 'logs'))
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert '--hidden2 means nothing to --model=softmax' in lines[0]
    assert not (tmp_path / 'logs').exists()


# ---------------------------------------------------------------------------
# Real training through the real program.

# name -> (flags beyond the presets, steps, floor for test precision).
# Mechanics 101, softmax and three_layer run their full tutorial settings;
# dropout_mlp and deep_cnn (20,000 steps each) a short run.
RUNS = {
    'mechanics101': ([], 2000, 0.89),
    'softmax': ([], 1000, 0.30),
    'three_layer': ([], 5500, 0.975),
    'dropout_mlp': (['--max_steps=1001'], 1001, 0.85),
    'deep_cnn': (['--max_steps=200'], 200, 0.80),
}


@pytest.fixture(scope='module')
def runs(tmp_path_factory, mnist_data_dir):
    """One training run per network; name -> (CompletedProcess, log_dir).

    Each network trains when a test first asks for it, so that a selection
    of these tests (scripts/test_oldest.sh: deep_cnn's) trains only its own.
    """
    class Runs(dict):
        def __missing__(self, name):
            log_dir = str(tmp_path_factory.mktemp(name))
            self[name] = (train('--model=%s' % name, '--log_dir=%s' % log_dir,
                                '--input_data_dir=%s' % mnist_data_dir,
                                *RUNS[name][0]),
                          log_dir)
            return self[name]
    return Runs()


def _test_precision(stdout):
    return [(int(n), int(c), float(p)) for n, c, p in TEST_EVAL.findall(stdout)]


@pytest.mark.parametrize('name', list(RUNS))
def test_training_lowers_the_loss_and_beats_the_floor(runs, name):
    result, log_dir = runs[name]
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ''
    _, steps, floor = RUNS[name]
    assert result.stdout.startswith('Training %s on ' % name)
    losses = [float(m.group(2)) for m in
              map(STEP_LINE.match, result.stdout.splitlines()) if m]
    assert len(losses) == (steps + 99) // 100
    # Each Step line is one training batch's loss (dropout_mlp's with 80% of
    # its units dropped), so compare the later lines' mean, not one line.
    assert np.mean(losses[1:][-3:]) < 0.7 * losses[0]
    assert tf.train.latest_checkpoint(log_dir).endswith(
        'model.ckpt-%d' % steps)
    # The Mechanics 101 evaluations, every 1,000 steps and at the end.
    evals = _test_precision(result.stdout)
    assert len(evals) == (steps - 1) // 1000 + 1
    num_examples, _, precision = evals[-1]
    assert num_examples == 10000
    assert precision >= floor


def test_softmax_prints_the_cost_every_step(runs):
    result, _ = runs['softmax']
    costs = [float(line.split()[1]) for line in result.stdout.splitlines()
             if line.startswith('Cost:')]
    assert len(costs) == 1000
    assert all(re.match(r'^Cost: \d+\.\d+$', line)
               for line in result.stdout.splitlines()
               if line.startswith('Cost:'))
    # As published (about 12.7 falling to about 3.3): from around ten to a
    # third of it.
    assert np.mean(costs[:10]) > 6
    assert np.mean(costs[-10:]) < np.mean(costs[:10]) / 2


def test_dropout_mlp_prints_mid_train_accuracy(runs):
    result, _ = runs['dropout_mlp']
    lines = [line for line in result.stdout.splitlines()
             if line.startswith('mid train accuracy:')]
    assert [int(line.rsplit(' ', 1)[1]) for line in lines] == [0, 1000]
    match = re.match(r'^mid train accuracy: (0\.\d+|1\.0) at step: 1000$',
                     lines[1])
    assert match and float(match.group(1)) >= 0.8


def test_three_layer_prints_the_average_cost_per_epoch(runs):
    result, _ = runs['three_layer']
    lines = [line for line in result.stdout.splitlines()
             if line.startswith('Epoch:')]
    assert [line.split()[1] for line in lines] == [str(e) for e in range(1, 11)]
    assert all(re.match(r'^Epoch: \d+ cost = \d+\.\d{3}$', line)
               for line in lines)
    costs = [float(line.rsplit(' ', 1)[1]) for line in lines]
    assert costs[-1] < costs[0] / 3


def test_deep_cnn_prints_training_accuracy(runs):
    result, _ = runs['deep_cnn']
    lines = [line for line in result.stdout.splitlines()
             if line.startswith('step ')]
    assert [line.split(',')[0] for line in lines] == ['step 0', 'step 100']
    assert re.match(r'^step 100, training accuracy (0\.\d+|1)$', lines[1])


@pytest.mark.parametrize('name', list(RUNS))
def test_checkpoint_restores_into_a_fresh_inference_graph(runs, name,
                                                          mnist_data_dir):
    """The trained weights alone, restored into nothing but inference(),
    predict the test set exactly as the training run's evaluation did."""
    result, log_dir = runs[name]
    assert result.returncode == 0, result.stderr
    _, printed_correct, _ = _test_precision(result.stdout)[-1]
    network = networks.get(name)
    test_set = input_data.read_data_sets(
        mnist_data_dir, one_hot=network.SPEC.one_hot).test
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [None, 784])
        logits = network.inference(images, *HPARAM_VALUES[name])
        prediction = tf.argmax(logits, 1)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            saver.restore(sess, tf.train.latest_checkpoint(log_dir))
            correct = 0
            for batch_images, batch_labels in test_set.batches(2000):
                predicted = sess.run(prediction, {images: batch_images})
                if network.SPEC.one_hot:
                    batch_labels = batch_labels.argmax(1)
                correct += int((predicted == batch_labels).sum())
    assert correct == printed_correct


@pytest.mark.slow
def test_print_cost_can_be_turned_off(tmp_path):
    result = train('--model=softmax', '--noprint_cost', '--fake_data',
                   '--max_steps=10', '--log_dir=%s' % tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'Cost:' not in result.stdout
    assert 'Step 0: loss = ' in result.stdout


def test_every_network_is_a_model_choice():
    choices = fully_connected_feed.FLAGS['model'].parser.enum_values
    assert sorted(choices) == sorted(
        ['mechanics101', 'softmax', 'dropout_mlp', 'three_layer', 'deep_cnn'])
    for name in networks.NETWORKS:
        network = networks.get(name)
        for attr in ('inference', 'loss', 'training', 'evaluation'):
            assert hasattr(network, attr), (name, attr)
        assert isinstance(network.SPEC, spec.Spec), name
        assert math.isfinite(network.SPEC.defaults['learning_rate'])
        assert os.path.basename(network.__file__) == (
            'mnist.py' if name == 'mechanics101' else name + '.py')

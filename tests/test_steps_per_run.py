"""--steps_per_run=K: several training steps per Session.run, the same batches.

The fast tests build the in-graph loop in-process, on small synthetic sets,
against the tutorial's one step per Session.run; the slow ones run the
program, on the real MNIST or fake data, and compare what it printed and
wrote with K = 1 and K = 10.
"""

import collections
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

import mnist_tf1  # noqa: F401  (imports TensorFlow in graph mode, quietly)
import tensorflow.compat.v1 as tf

from mnist_tf1 import input_data
from mnist_tf1 import networks
from mnist_tf1.cli import errors
from mnist_tf1.networks import ops
from mnist_tf1.summaries import event_files
from mnist_tf1.training import in_graph_steps
from mnist_tf1.training.feeding import placeholder_inputs
from checkpoint_files import checkpoint_steps
from checkpoint_files import global_step

TRAIN = [sys.executable, '-m', 'mnist_tf1.fully_connected_feed']
STEP_LINE = re.compile(r'^Step (\d+): loss = (\d+\.\d\d) \(\d+\.\d\d\d sec\)$')


# In-process: the loop against the tutorial's steps.

def synthetic_set(examples, one_hot, seed, dtype=np.float32):
    """A DataSet of random digits (uint8) and labels, shuffled by `seed`."""
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, size=(examples, 28, 28, 1), dtype=np.uint8)
    labels = rng.randint(0, 10, size=examples).astype(np.uint8)
    if one_hot:
        labels = input_data.dense_to_one_hot(labels, 10)
    return input_data.DataSet(images, labels, one_hot=one_hot, seed=seed,
                              dtype=dtype)


# What InGraphSteps reads of the program's TrainingGraph, and the ops the
# tutorial's step runs.
TrainingGraph = collections.namedtuple('TrainingGraph', [
    'images_placeholder', 'labels_placeholder', 'loss', 'train_op',
    'summary'])


def build(model, hparams, learning_rate):
    """The training graph as the program builds it (summaries left out)."""
    network = networks.get(model)
    tf.set_random_seed(1)
    images, labels = placeholder_inputs(None, network.SPEC.one_hot)
    logits = network.inference(images, *hparams)
    loss = network.loss(logits, labels)
    train_op = network.training(loss, learning_rate)
    return TrainingGraph(images, labels, loss, train_op, tf.no_op())


def train_losses(model, hparams, learning_rate, train_values, steps,
                 steps_per_run, batch_size=70, examples=300,
                 dtype=np.float32):
    """Each step's loss, training from the same seed either way."""
    network = networks.get(model)
    data_set = synthetic_set(examples, network.SPEC.one_hot, seed=3,
                             dtype=dtype)
    with tf.Graph().as_default():
        graph = build(model, hparams, learning_rate)
        train_feed = {p: train_values[name]
                      for name in network.SPEC.train_feeds
                      for p in tf.get_collection(name)}
        in_graph = None
        if steps_per_run > 1:
            in_graph = in_graph_steps.InGraphSteps(
                network, graph, (hparams, [], learning_rate), data_set)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            losses = []
            if in_graph is None:
                for step in range(steps):
                    images, labels = data_set.next_batch(batch_size)
                    feed = {graph.images_placeholder: images,
                            graph.labels_placeholder: labels}
                    feed.update(train_feed)
                    feed = ops.with_dropout_step(feed, step)
                    losses.append(sess.run([graph.train_op, graph.loss],
                                           feed)[1])
                return np.array(losses)
            in_graph.load(sess)
            for run in in_graph_steps.runs(0, steps, steps_per_run):
                results = in_graph.run(sess, run, batch_size, train_feed,
                                       summary_steps=10**6, trace_steps=0)
                assert [step for step, _, _, _, _ in results] == list(run)
                losses.extend(loss for _, loss, _, _, _ in results)
            return np.array(losses)


def test_runs_end_at_multiples_of_k_and_at_max_steps():
    assert [list(r) for r in in_graph_steps.runs(0, 25, 10)] == [
        list(range(0, 10)), list(range(10, 20)), list(range(20, 25))]
    # A run resumed between multiples catches up with them first.
    assert [(r[0], r[-1]) for r in in_graph_steps.runs(95, 250, 100)] == [
        (95, 99), (100, 199), (200, 249)]
    assert list(in_graph_steps.runs(7, 7, 10)) == []


def test_k_steps_in_the_graph_give_the_tutorials_losses():
    # 13 steps of 70 from 300 examples: batches cross epoch ends, and the
    # last run (K = 5) is shorter.
    one = train_losses('mechanics101', (16, 8), 0.1, {}, 13, 1)
    for k in (5, 13):
        np.testing.assert_allclose(
            train_losses('mechanics101', (16, 8), 0.1, {}, 13, k), one,
            rtol=1e-6)
    # And they trained: the loss moved.
    assert one[0] != one[-1]


def test_a_uint8_data_set_trains_on_its_raw_pixels_inside_the_loop_too():
    # DataSet(dtype=uint8) hands out 0-255, not [0, 1]: so does the loop.
    one = train_losses('softmax', (), 1e-5, {}, 6, 1, dtype=np.uint8)
    np.testing.assert_allclose(
        train_losses('softmax', (), 1e-5, {}, 6, 3, dtype=np.uint8), one,
        rtol=1e-6)
    scaled = train_losses('softmax', (), 1e-5, {}, 6, 1)
    assert not np.allclose(one, scaled)


def test_dropout_reads_the_fed_keep_prob_inside_the_loop():
    # A keep probability of 1 keeps every unit: the same losses (one-hot
    # labels, Adam's slots: the loop reuses them too); 0.2 drops units in
    # the loop's steps.
    one = train_losses('dropout_mlp', (20, 10), 0.001, {'keep_prob': 1.0},
                       6, 1)
    np.testing.assert_allclose(
        train_losses('dropout_mlp', (20, 10), 0.001, {'keep_prob': 1.0}, 6,
                     3), one, rtol=1e-6)
    dropped = train_losses('dropout_mlp', (20, 10), 0.001,
                           {'keep_prob': 0.2}, 6, 3)
    assert not np.allclose(dropped, one, rtol=1e-3)


@pytest.mark.parametrize('model,hparams,keep_prob', [
    ('dropout_mlp', (20, 10), 0.2), ('deep_cnn', (), 0.5)])
def test_dropout_draws_the_masks_of_k1_inside_the_loop(model, hparams,
                                                       keep_prob):
    # The masks are drawn for the step (ops.dropout), not from a random
    # op's stream: the loop's steps drop the units K = 1 drops.
    one = train_losses(model, hparams, 0.001, {'keep_prob': keep_prob}, 6, 1,
                       batch_size=8, examples=40)
    np.testing.assert_allclose(
        train_losses(model, hparams, 0.001, {'keep_prob': keep_prob}, 6, 3,
                     batch_size=8, examples=40), one, rtol=1e-6)


def test_the_loop_adds_no_variable_summary_or_feed_to_the_graph():
    network = networks.get('deep_cnn')
    with tf.Graph().as_default():
        graph = build('deep_cnn', (), 1e-4)
        variables = tf.global_variables()
        keys = {key: list(tf.get_collection(key))
                for key in tf.get_default_graph().get_all_collection_keys()}
        in_graph_steps.InGraphSteps(network, graph, ((), [], 1e-4),
                                    synthetic_set(100, True, seed=1))
        assert tf.global_variables() == variables
        for key, values in keys.items():
            assert tf.get_collection(key) == values, key


def test_batch_indices_are_next_batchs_batches():
    # Each DataSet seeds numpy's generator, which its shuffles draw from (as
    # the original's did): one walks its batches, then the other its indices.
    walked = synthetic_set(300, False, seed=5)
    batches = [walked.next_batch(70) for _ in range(10)]  # Two epoch ends.
    after = walked.next_batch(5)
    indexed = synthetic_set(300, False, seed=5)
    images, labels = indexed.stored_examples()
    for want_images, want_labels in batches:
        batch = indexed.next_batch_indices(70)
        np.testing.assert_array_equal(
            images[batch].astype(np.float32) * input_data.PIXEL_SCALE,
            want_images)
        np.testing.assert_array_equal(labels[batch], want_labels)
    assert indexed.epochs_completed == walked.epochs_completed == 2
    # The stored arrays stay as they were; next_batch goes on from there.
    assert indexed.stored_examples()[0] is images
    for got, want in zip(indexed.next_batch(5), after):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize('k,summary,checkpoint,words', [
    (30, 100, 1000, 'e.g. 100'),
    (10, 25, 1000, '--summary_steps (25)'),
    (20, 100, 250, '--save_checkpoint_steps (250)'),
    (8, 200, 1000, 'the Step lines'),
])
def test_a_k_that_breaks_the_rhythm_is_refused(k, summary, checkpoint, words):
    with pytest.raises(errors.UserError) as e:
        in_graph_steps.check(k, False, summary, checkpoint)
    assert words in str(e.value)
    assert '\n' not in str(e.value)
    in_graph_steps.check(1, False, 7, 13)  # K = 1 keeps any rhythm.


def test_a_cluster_refuses_k_above_one():
    with pytest.raises(errors.UserError, match='one machine only'):
        in_graph_steps.check(10, True, 100, 1000)
    in_graph_steps.check(1, True, 100, 1000)


# The program, as a user runs it.

def train(*flags, timeout=600):
    """Runs the training program to its end."""
    return subprocess.run(TRAIN + list(flags), capture_output=True, text=True,
                          timeout=timeout)


def without_times(stdout):
    """The printed lines, each Step line's time left out."""
    return [re.sub(r' \(\d+\.\d\d\d sec\)$', '', line)
            for line in stdout.splitlines()]


def summaries(log_dir):
    """{(folder, tag): [(step, value of a scalar or None)]} over every event
    file of a run (the folder relative to log_dir: '.', 'test', ...)."""
    found = collections.defaultdict(list)
    for path, _ in event_files.event_files(str(log_dir)):
        folder = os.path.relpath(os.path.dirname(path), str(log_dir))
        for event in event_files.read_events(path)[0]:
            for value in event.summary.value:
                scalar = (value.simple_value
                          if value.WhichOneof('value') == 'simple_value'
                          else None)
                found[(folder, value.tag)].append((event.step, scalar))
    return found


@pytest.fixture(scope='module')
def k1_and_k10(mnist_data_dir, tmp_path_factory):
    """The same seeded real-MNIST run with K = 1 and K = 10: 600 steps,
    summaries every 50, checkpoints and evaluations at 250, 500 and 600."""
    base = tmp_path_factory.mktemp('steps_per_run')
    runs = {}
    for k in (1, 10):
        log_dir = base / ('k%d' % k)
        result = train('--seed=1', '--max_steps=600', '--summary_steps=50',
                       '--save_checkpoint_steps=250', '--steps_per_run=%d' % k,
                       '--input_data_dir=%s' % mnist_data_dir,
                       '--log_dir=%s' % log_dir)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ''
        runs[k] = result.stdout, log_dir
    return runs


@pytest.mark.slow
def test_k10_prints_the_lines_and_losses_of_k1(k1_and_k10):
    one, ten = k1_and_k10[1][0], k1_and_k10[10][0]
    assert without_times(ten) == without_times(one)
    steps = [int(m.group(1)) for m in map(STEP_LINE.match, ten.splitlines())
             if m]
    assert steps == list(range(0, 600, 100))
    assert ten.count('Test Data Eval:') == 3


@pytest.mark.slow
def test_k10_saves_the_checkpoints_and_summaries_of_k1(k1_and_k10):
    (_, one), (_, ten) = k1_and_k10[1], k1_and_k10[10]
    assert checkpoint_steps(ten) == checkpoint_steps(one) == [250, 500, 600]
    assert global_step(ten / 'model.ckpt-600') == 600
    one_summaries, ten_summaries = summaries(one), summaries(ten)
    # The same tags in the same folders at the same steps...
    assert {key: [step for step, _ in values]
            for key, values in ten_summaries.items()} == \
        {key: [step for step, _ in values]
         for key, values in one_summaries.items()}
    assert [step for step, _ in ten_summaries[('.', 'xentropy_mean')]] == \
        list(range(0, 600, 50))
    # ...the same losses and precisions.
    for key in [('.', 'xentropy_mean'), ('test', 'precision_at_1')]:
        assert ten_summaries[key] == one_summaries[key], key


@pytest.mark.slow
def test_ctrl_c_with_k10_saves_at_a_step_boundary_and_resumes(tmp_path):
    log_dir = tmp_path / 'run'
    common = ['--fake_data', '--steps_per_run=10', '--log_dir=%s' % log_dir]
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    proc = subprocess.Popen(TRAIN + common + ['--max_steps=1000000'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        for line in proc.stdout:
            if line.startswith('Step 300: '):
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert err == ''
    m = re.search(r'^Stopped by SIGINT at step (\d+); saved (.*)\.$', out,
                  re.M)
    assert m, out
    step = int(m.group(1))
    # The end of a run of ten steps: the model as it was after them.
    assert step > 300 and step % 10 == 0
    assert checkpoint_steps(log_dir) == [step]
    assert global_step(m.group(2)) == step

    later = train('--max_steps=%d' % (step + 25), *common)
    assert later.returncode == 0, later.stderr
    assert 'Restored %s (step %d).' % (m.group(2), step) in later.stdout
    # Two runs of ten, then one of five to --max_steps.
    assert checkpoint_steps(log_dir) == [step, step + 25]
    assert global_step(log_dir / ('model.ckpt-%d' % (step + 25))) == step + 25


@pytest.mark.slow
def test_a_run_resumed_between_multiples_of_k_keeps_the_rhythm(tmp_path):
    log_dir = tmp_path / 'run'
    common = ['--fake_data', '--log_dir=%s' % log_dir]
    first = train('--max_steps=95', *common)
    assert first.returncode == 0, first.stderr
    resumed = train('--max_steps=250', '--steps_per_run=10',
                    '--summary_steps=50', '--save_checkpoint_steps=100',
                    '--trace_steps=100', *common)
    assert resumed.returncode == 0, resumed.stderr
    steps = [int(m.group(1)) for m in
             map(STEP_LINE.match, resumed.stdout.splitlines()) if m]
    assert steps == [100, 200]
    assert checkpoint_steps(log_dir) == [95, 100, 200, 250]
    assert [step for step, _ in summaries(log_dir)[('.', 'xentropy_mean')]] \
        == [0, 100, 150, 200]
    # The runs holding steps 99 and 199 (95-99, 190-199) traced, under them.
    traced = [event.tagged_run_metadata.tag
              for path, depth in event_files.event_files(str(log_dir))
              if depth == 0 for event in event_files.read_events(path)[0]
              if event.HasField('tagged_run_metadata')]
    assert traced == ['step99', 'step199']


@pytest.mark.slow
def test_a_refused_k_is_one_line_before_any_work(tmp_path):
    log_dir = tmp_path / 'run'
    log_dir.mkdir()
    (log_dir / 'earlier').write_text('an earlier run')
    result = train('--fake_data', '--steps_per_run=30', '--fresh',
                   '--log_dir=%s' % log_dir)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, result.stderr
    assert '--steps_per_run=30 must divide' in lines[0]
    assert result.stdout == ''
    # Nothing moved aside, nothing written.
    assert os.listdir(tmp_path) == ['run']
    assert os.listdir(log_dir) == ['earlier']

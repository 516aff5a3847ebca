"""tf.contrib in your TensorFlow 1.x code: its parts with a successor run as
it (mnist_tf1/legacy/contrib.py), the others end in one line.

The fast tests resolve every entry of the tables against the installed
TensorFlow (CI runs them on the oldest and the newest of the range); the
slow ones run programs written in tf.contrib's styles on the real MNIST.
"""

import importlib
import subprocess
import sys
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from mnist_tf1 import input_data
from mnist_tf1.legacy import contrib
from mnist_tf1.legacy import contrib_renames
from mnist_tf1.legacy import import_hook
from mnist_tf1.legacy import removed_names
from mnist_tf1.legacy import tf1_module

import_hook.uninstall()  # Only where a test asks for them (`hooks`).

# pylint: disable=g-bad-import-order,wrong-import-position,unused-import
from test_legacy import PROGRAMS
from test_legacy import hooks  # A fixture: the import hooks, for one test.
from test_legacy import last_number
from test_legacy import run_program
# pylint: enable=g-bad-import-order,wrong-import-position,unused-import

TABLES = sorted(set(contrib_renames.RENAMES) | set(contrib_renames.FUNCTIONS)
                | set(contrib_renames.MODULES))


@pytest.mark.parametrize('name', TABLES)
def test_every_entry_resolves_on_this_tensorflow(name):
    value, runs_as = contrib.successor(name)
    assert value is not None
    assert getattr(tf1_module.get().contrib, name.split('.')[0]) is not None
    if name in contrib_renames.RENAMES:
        target = contrib_renames.RENAMES[name]
        assert runs_as == 'tf.' + target
        real = tf
        for part in target.split('.'):
            real = getattr(real, part)
        if name not in contrib_renames.KEYWORDS:
            assert value is real, name  # The successor itself.


def test_no_successor_is_one_already_gone():
    # The upgrade script's successors that some TensorFlow of the range
    # lacks stay out of the tables (they end in the one line instead).
    for gone in ('data.assert_element_shape', 'data.StatsAggregator',
                 'data.latency_stats'):
        assert contrib.successor(gone) is None
        with pytest.raises(removed_names.RemovedAttribute):
            contrib.resolve(gone)


def test_the_parts_are_modules_that_say_each_substitution_once(capfd):
    contrib.say_once.cache_clear()
    tf1 = tf1_module.get()
    assert isinstance(tf1.contrib, contrib.ContribModule)
    fresh = contrib.ContribModule()  # As tf.contrib is before its first use.
    assert fresh.rnn.static_rnn is tf.nn.static_rnn
    assert fresh.rnn.static_rnn is tf.nn.static_rnn
    assert fresh.framework.sort is tf.sort
    assert fresh.learn.datasets.mnist is input_data
    assert fresh.learn.python.learn.datasets.mnist is input_data
    import tf_slim  # pylint: disable=g-import-not-at-top
    assert fresh.slim is tf_slim
    assert fresh.layers.flatten is tf_slim.layers.flatten
    assert fresh.layers.conv2d is tf_slim.layers.conv2d
    err = capfd.readouterr().err
    assert err.splitlines() == [
        'warning: tf.contrib.rnn.static_rnn runs as tf.compat.v1.nn.static_rnn',
        'warning: tf.contrib.framework.sort runs as tf.sort',
        'warning: tf.contrib.learn.datasets.mnist runs as mnist_tf1.input_data',
        'warning: tf.contrib.learn.python.learn.datasets.mnist runs as '
        'mnist_tf1.input_data',
        'warning: tf.contrib.slim runs as tf_slim',
        'warning: tf.contrib.layers.flatten runs as tf_slim.layers.flatten',
        'warning: tf.contrib.layers.conv2d runs as tf_slim.layers.conv2d',
    ], err


def test_without_tf_slim_its_names_end_in_one_line(monkeypatch, hooks):
    monkeypatch.setitem(sys.modules, 'tf_slim', None)  # As not installed.
    monkeypatch.setitem(sys.modules, 'tf_slim.layers', None)
    fresh = contrib.ContribModule()
    with pytest.raises(AttributeError) as e:
        fresh.slim  # pylint: disable=pointless-statement
    assert str(e.value) == ("tf.contrib.slim runs as tf_slim, which is not "
                            "installed; install it: pip install "
                            "'tf_slim>=1.1,<2'")
    with pytest.raises(contrib.SuccessorMissing) as e:
        fresh.layers.conv2d  # pylint: disable=pointless-statement
    assert str(e.value).startswith('tf.contrib.layers.conv2d runs as '
                                   'tf_slim.layers, which is not installed')
    monkeypatch.setattr(contrib, 'CONTRIB', fresh)
    monkeypatch.delitem(sys.modules, 'tensorflow.contrib.slim', raising=False)
    with pytest.raises(ImportError) as e:
        exec('import tensorflow.contrib.slim as slim',  # pylint: disable=exec-used
             {'__name__': '__main__'})
    assert str(e.value).startswith('tf.contrib.slim runs as tf_slim, which')


def test_names_without_successor_keep_their_one_line():
    tf1 = tf1_module.get()
    with pytest.raises(AttributeError) as e:
        tf1.contrib.tensor_forest.python.tensor_forest  # pylint: disable=pointless-statement
    assert str(e.value).startswith(
        'tf.contrib.tensor_forest.python.tensor_forest was removed in '
        'TensorFlow 2.0; it has no successor in TensorFlow 2; TensorFlow '
        'Decision Forests')
    with pytest.raises(removed_names.RemovedAttribute) as e:
        tf1.contrib.layers.no_such_layer  # pylint: disable=pointless-statement
    assert 'tf_slim.layers, which continues it, has no such name' in str(
        e.value)


@pytest.mark.parametrize('statement,expected', [
    ('import tensorflow.contrib.slim as slim\nvalue = slim', 'tf_slim'),
    ('from tensorflow.contrib import rnn\nvalue = rnn.BasicLSTMCell',
     'BasicLSTMCell'),
    ('from tensorflow.contrib.layers import flatten\nvalue = flatten',
     'flatten'),
    ('from tensorflow.contrib.learn.python.learn.datasets import mnist\n'
     'value = mnist', 'mnist_tf1.input_data'),
    ('import tensorflow.contrib.learn.python.learn.datasets.mnist as m\n'
     'value = m', 'mnist_tf1.input_data'),
])
def test_import_statements_get_the_successors(hooks, statement, expected):
    scope = {'__name__': '__main__'}
    exec(statement, scope)  # pylint: disable=exec-used
    assert expected in repr(scope['value'])
    if expected == 'mnist_tf1.input_data':  # It keeps its own spec.
        assert scope['value'].__spec__.name == expected


def test_importlib_gets_them_too(hooks):
    assert importlib.import_module(
        'tensorflow.contrib.learn.datasets.mnist') is input_data
    assert importlib.import_module('tensorflow.contrib.layers').flatten


def test_initializers_and_regularizers_compute_what_1x_computed():
    tf1 = tf1_module.get()
    with tf.Graph().as_default():
        xavier = tf.get_variable(
            'xavier', [400, 600],
            initializer=tf1.contrib.layers.xavier_initializer(seed=1))
        he = tf.get_variable(
            'he', [400, 600],
            initializer=tf1.contrib.layers.variance_scaling_initializer(
                seed=1))
        weights = tf.constant([[1.0, -2.0], [3.0, 0.0]])
        l1 = tf1.contrib.layers.l1_regularizer(0.5)(weights)
        l2 = tf1.contrib.layers.l2_regularizer(0.5)(weights)
        assert tf1.contrib.layers.l2_regularizer(0.0)(weights) is None
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            xavier, he, l1, l2 = sess.run([xavier, he, l1, l2])
    # Uniform in +-sqrt(6 / (fan_in + fan_out)); He: truncated normal of
    # standard deviation about sqrt(2 / fan_in).
    limit = np.sqrt(6.0 / 1000)
    assert np.abs(xavier).max() <= limit and np.abs(xavier).max() > 0.99 * limit
    assert np.std(he) == pytest.approx(np.sqrt(2.0 / 400), rel=0.05)
    assert l1 == pytest.approx(0.5 * 6.0)
    assert l2 == pytest.approx(0.5 * 14.0 / 2)


def test_contrib_summary_writes_with_the_global_step(tmp_path):
    tf1 = tf1_module.get()
    summary = tf1.contrib.summary
    with tf.Graph().as_default():
        step = tf.train.get_or_create_global_step()
        writer = summary.create_file_writer(str(tmp_path))
        with writer.as_default(), summary.always_record_summaries():
            summary.scalar('loss', tf.constant(0.25))
        with tf.Session() as sess, writer.as_default():
            summary.initialize(graph=tf.get_default_graph(), session=sess)
            sess.run(step.initializer)
            sess.run(summary.all_summary_ops())
            sess.run(writer.flush())
    from tensorboard.backend.event_processing import event_accumulator  # pylint: disable=g-import-not-at-top
    events = event_accumulator.EventAccumulator(str(tmp_path))
    events.Reload()
    assert [(e.step, float(tf.make_ndarray(e.tensor_proto)))
            for e in events.Tensors('loss')] == [(0, 0.25)]


def test_load_dataset_is_input_datas_mnist_and_only_that(monkeypatch):
    tf1 = tf1_module.get()
    load_dataset = tf1.contrib.learn.datasets.load_dataset
    monkeypatch.setattr(input_data, 'load_mnist',
                        lambda: ('read', 'MNIST-data'))
    assert load_dataset('mnist') == ('read', 'MNIST-data')
    with pytest.raises(ValueError) as e:
        load_dataset('iris')
    assert isinstance(e.value, removed_names.Removed)
    assert "only 'mnist' is here" in str(e.value)


# --- Whole programs through mnist-tf1-run, on the real MNIST ----------------


@pytest.mark.slow
def test_lstm_over_image_rows_with_contrib_rnn(mnist_data_dir, tmp_path):
    status, out, err = run_program(
        [PROGRAMS / 'rnn_rows.py', '--data_dir=%s' % mnist_data_dir,
         '--max_steps=300'], tmp_path)
    assert status == 0, err
    assert last_number(out) >= 0.90, out  # 0.947-0.960 seen.
    assert err.splitlines() == [
        'warning: tf.contrib.rnn.BasicLSTMCell runs as '
        'tf.compat.v1.nn.rnn_cell.BasicLSTMCell',
        'warning: tf.contrib.rnn.static_rnn runs as tf.compat.v1.nn.static_rnn',
    ], err


@pytest.mark.slow
def test_slim_network(mnist_data_dir, tmp_path):
    status, out, err = run_program(
        [PROGRAMS / 'slim_net.py', '--data_dir=%s' % mnist_data_dir,
         '--max_steps=300'], tmp_path)
    assert status == 0, err
    assert last_number(out) >= 0.93, out  # 0.956 seen.
    assert err.splitlines() == ['warning: tf.contrib.slim runs as tf_slim'], err


@pytest.mark.slow
def test_contrib_learn_datasets_program(tmp_path):
    # load_dataset('mnist') reads ./MNIST-data, downloading it first (here
    # from the local copy the tests point the download at).
    status, out, err = run_program(
        [PROGRAMS / 'learn_datasets.py', '500'], tmp_path)
    assert status == 0, err
    assert 'Extracting MNIST-data/train-images-idx3-ubyte.gz' in out
    assert last_number(out) >= 0.90, out  # 0.913 seen.
    assert sorted(err.splitlines()) == [
        'warning: tf.contrib.learn.datasets.load_dataset runs as '
        "mnist_tf1.input_data.load_mnist for 'mnist'",
        'warning: tf.contrib.learn.python.learn.datasets.mnist runs as '
        'mnist_tf1.input_data',
    ], err


@pytest.mark.slow
def test_a_2017_contrib_program_runs_saying_its_substitution_once(
        mnist_data_dir, tmp_path):
    (tmp_path / 'MNIST_data').symlink_to(mnist_data_dir)
    status, out, err = run_program([PROGRAMS / 'contrib_layers.py'], tmp_path)
    assert status == 0, err
    assert out.count('cost =') == 15
    # Two uses of xavier_initializer, one line.
    assert err == ('warning: tf.contrib.layers.xavier_initializer runs as '
                   "tf.variance_scaling_initializer(scale=1.0, "
                   "mode='fan_avg')\n"), err


@pytest.mark.slow
def test_the_commands_import_no_legacy_code():
    # The commands never import the legacy package (nor Keras 2, tf_slim).
    result = subprocess.run(
        [sys.executable, '-c',
         'import sys\n'
         'import mnist_tf1.fully_connected_feed, mnist_tf1.evaluate\n'
         'import mnist_tf1.predict, mnist_tf1.export\n'
         'print(sorted(m for m in sys.modules if m.startswith(('
         '"mnist_tf1.legacy", "tf_keras", "tf_slim"))))'],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == '[]'

"""Keras 2 in your TensorFlow 1.x code: tf.layers, tf.nn.rnn_cell and
tf.keras as 1.x had them (mnist_tf1/legacy/keras2.py), through the tf_keras
of TensorFlow's minor; without it, one line with the pip command.
"""

import subprocess
import sys

import pytest
import tensorflow.compat.v1 as tf

from mnist_tf1.legacy import import_hook
from mnist_tf1.legacy import keras2
from mnist_tf1.legacy import removed_names
from mnist_tf1.legacy import tf1_module
from mnist_tf1.platform import tf_versions

import_hook.uninstall()  # Only where a test asks for them.

# pylint: disable=g-bad-import-order,wrong-import-position
from test_legacy import PROGRAMS
from test_legacy import last_number
from test_legacy import run_program
# pylint: enable=g-bad-import-order,wrong-import-position

NEWEST = '%d.%d.0' % tf_versions.NEWEST


@pytest.mark.parametrize('tf_version,tf_keras,line', [
    (NEWEST, NEWEST, None),
    ('2.16.2', '2.16.0', None),
    ('2.15.1', None, None),  # TensorFlow's own Keras is Keras 2.
    ('2.15.1', '2.15.1', None),
    ('2.16.2', None, "tf.layers needs Keras 2, the tf_keras release of "
     "TensorFlow 2.16 (tf_keras is not installed); install it: pip install "
     "'tf_keras~=2.16.0'"),
    ('2.21.0', '2.19.0', "tf.layers needs Keras 2, the tf_keras release of "
     "TensorFlow 2.21 (tf_keras 2.19.0 is installed); install it: pip "
     "install 'tf_keras~=2.21.0'"),
])
def test_the_line_for_a_missing_or_other_tf_keras(tf_version, tf_keras, line):
    assert keras2.problem('tf.layers', tf_version, tf_keras) == line


def test_the_installed_pair_needs_no_line():
    assert keras2.problem('tf.layers', tf.__version__,
                          keras2.installed_tf_keras()) is None


def test_layers_build_with_the_names_1x_gave():
    tf1 = tf1_module.get()
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [None, 28, 28, 1])
        net = tf1.layers.conv2d(images, 4, 5, activation=tf.nn.relu)
        net = tf1.layers.max_pooling2d(net, 2, 2)
        net = tf1.layers.dense(tf1.layers.flatten(net), 10)
        net = tf1.layers.dense(net, 10, name='logits')
        cell = tf1.nn.rnn_cell.BasicLSTMCell(8)
        rows = tf.unstack(tf.reshape(images, [-1, 28, 28]), 28, 1)
        tf.nn.static_rnn(cell, rows, dtype=tf.float32)
        names = sorted(v.op.name for v in tf.global_variables())
    assert names == ['conv2d/bias', 'conv2d/kernel', 'dense/bias',
                     'dense/kernel', 'logits/bias', 'logits/kernel',
                     'rnn/basic_lstm_cell/bias', 'rnn/basic_lstm_cell/kernel']


def test_keras2_is_for_the_1x_api_only():
    tf1 = tf1_module.get()
    layer = tf1.keras.layers.Dense
    expected = 'tf_keras.' if keras2.installed_tf_keras() else 'keras.'
    assert layer.__module__.startswith(expected), layer.__module__
    assert tf1.compat.v1.layers is tf1.layers
    assert tf1.compat.v1.keras is tf1.keras
    # TensorFlow 2's own keeps its Keras (Keras 3 from 2.16 on).
    import tensorflow.compat.v2 as tf2  # pylint: disable=g-import-not-at-top
    assert not tf2.keras.layers.Dense.__module__.startswith('tf_keras.')


def test_without_tf_keras_the_first_keras2_name_ends_in_one_line(
        monkeypatch):
    monkeypatch.setattr(keras2, 'installed_tf_keras', lambda: None)
    keras2._loader.cache_clear()  # pylint: disable=protected-access
    try:
        fresh = tf1_module.Tf1Module(tf)  # As `tf` before its first use.
        if tf_versions.release(tf.__version__) <= (2, 15):
            assert fresh.layers.dense  # TensorFlow's own Keras 2.
            return
        for name, spelled in (('layers', 'tf.layers'),
                              ('keras', 'tf.keras')):
            with pytest.raises(AttributeError) as e:
                getattr(fresh, name)
            assert isinstance(e.value, removed_names.Removed)
            assert str(e.value) == keras2.problem(spelled, tf.__version__,
                                                  None)
        with pytest.raises(keras2.Keras2Missing) as e:
            fresh.nn.rnn_cell.BasicLSTMCell  # pylint: disable=pointless-statement
        assert str(e.value).startswith('tf.nn.rnn_cell needs Keras 2')
        assert str(e.value).endswith(keras2.pip_command(tf.__version__))
    finally:
        keras2._loader.cache_clear()  # pylint: disable=protected-access


# --- Whole programs through mnist-tf1-run, on the real MNIST ----------------


@pytest.mark.slow
def test_layers_cnn_trains_and_saves_1x_names(mnist_data_dir, tmp_path):
    status, out, err = run_program(
        [PROGRAMS / 'layers_cnn.py', '--data_dir=%s' % mnist_data_dir,
         '--max_steps=300', '--log_dir=%s' % tmp_path], tmp_path)
    assert status == 0, err
    assert err == '', err  # Keras 2's deprecation notices stay out.
    assert last_number(out) >= 0.93, out  # 0.956-0.961 seen.
    saved = dict(tf.train.list_variables(str(tmp_path / 'model.ckpt-300')))
    assert saved['conv2d/kernel'] == [5, 5, 1, 8]
    assert saved['conv2d_1/bias'] == [16]
    assert saved['dense/kernel'] == [7 * 7 * 16, 128]
    assert saved['dense_1/bias'] == [10]


@pytest.mark.slow
def test_tf_data_pipeline_feeding_tf_layers(mnist_data_dir, tmp_path):
    status, out, err = run_program(
        [PROGRAMS / 'data_pipeline.py', '--data_dir=%s' % mnist_data_dir,
         '--max_steps=500'], tmp_path)
    assert status == 0, err
    assert err == '', err
    assert out.count('Step ') == 5
    assert last_number(out) >= 0.93, out  # 0.950-0.952 seen.


@pytest.mark.slow
def test_a_missing_tf_keras_ends_the_program_in_one_line(tmp_path):
    # The program as it would run without tf_keras (on TensorFlow 2.16 on).
    (tmp_path / 'uses_layers.py').write_text(
        'import tensorflow as tf\n'
        'x = tf.placeholder(tf.float32, [None, 4])\n'
        'y = tf.layers.dense(x, 2)\n')
    runner = ('import sys\n'
              'from mnist_tf1 import run_program\n'
              'from mnist_tf1.legacy import keras2\n'
              'keras2.installed_tf_keras = lambda: None\n'
              'sys.exit(run_program.main(sys.argv))\n')
    result = subprocess.run(
        [sys.executable, '-c', runner, 'uses_layers.py'], cwd=str(tmp_path),
        capture_output=True, text=True, timeout=600)
    if tf_versions.release(tf.__version__) <= (2, 15):
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 1
    assert result.stderr == (
        'mnist-tf1-run: error: uses_layers.py:3: %s\n' % keras2.problem(
            'tf.layers', tf.__version__, None)), result.stderr

"""tf.estimator for TensorFlow 1.x programs (mnist_tf1/legacy/estimator/):
the fast tier, in this process on tiny data. The real programs on the real
MNIST are in test_estimator_programs.py.
"""

import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from mnist_tf1.legacy import cuda_build
from mnist_tf1.legacy import estimator as tf_estimator
from mnist_tf1.legacy import tf1_module
from mnist_tf1.legacy.estimator import inputs
from mnist_tf1.legacy.estimator import model_fn as model_fn_lib

ModeKeys = tf_estimator.ModeKeys
EstimatorError = model_fn_lib.EstimatorError


# --- EstimatorSpec ----------------------------------------------------------


@pytest.fixture
def graph():
    with tf.Graph().as_default() as g:
        yield g


def test_a_train_spec_needs_loss_and_train_op(graph):
    loss = tf.constant(1.0)
    train_op = tf.no_op()
    spec = tf_estimator.EstimatorSpec(ModeKeys.TRAIN, loss=loss,
                                      train_op=train_op)
    assert spec.loss is loss and spec.train_op is train_op
    assert spec.scaffold is not None and spec.training_hooks == ()
    for kwargs, missing in (({'loss': loss}, 'no train_op'),
                            ({'train_op': train_op}, 'no loss'),
                            ({}, 'no loss or train_op')):
        with pytest.raises(ValueError) as e:
            tf_estimator.EstimatorSpec(ModeKeys.TRAIN, **kwargs)
        assert isinstance(e.value, EstimatorError)
        assert 'EstimatorSpec for TRAIN has %s;' % missing in str(e.value)
        assert '\n' not in str(e.value)


def test_eval_and_predict_specs_need_their_parts(graph):
    with pytest.raises(EstimatorError, match='for EVAL has no loss'):
        tf_estimator.EstimatorSpec(ModeKeys.EVAL)
    with pytest.raises(EstimatorError, match='for PREDICT has no predictions'):
        tf_estimator.EstimatorSpec(ModeKeys.PREDICT)
    with pytest.raises(EstimatorError, match='not a tf.estimator.ModeKeys'):
        tf_estimator.EstimatorSpec('training', loss=tf.constant(1.0))
    with pytest.raises(EstimatorError, match=r"eval_metric_ops\['accuracy'\]"):
        tf_estimator.EstimatorSpec(ModeKeys.EVAL, loss=tf.constant(1.0),
                                   eval_metric_ops={'accuracy': 0.5})
    with pytest.raises(EstimatorError, match='SessionRunHook objects, not'):
        tf_estimator.EstimatorSpec(ModeKeys.PREDICT, predictions={},
                                   prediction_hooks=[print])


def test_a_loss_of_one_element_is_taken_as_a_scalar(graph):
    spec = tf_estimator.EstimatorSpec(ModeKeys.EVAL, loss=tf.ones([1, 1]))
    assert spec.loss.shape.ndims == 0
    with pytest.raises(EstimatorError, match=r'loss must be a scalar'):
        tf_estimator.EstimatorSpec(ModeKeys.EVAL, loss=tf.ones([3]))


# --- numpy_input_fn -------------------------------------------------------


def batches(input_fn, limit=100):
    """The batches input_fn feeds, until its input ends (or `limit`)."""
    with tf.Graph().as_default() as g:
        result = input_fn()
        hook = inputs.FeedHook(inputs.feeders(g))
        out = []
        with tf.Session() as sess:
            for _ in range(limit):
                try:
                    feed = hook.before_run(None).feed_dict
                except tf.errors.OutOfRangeError:
                    return out
                out.append(sess.run(result, feed))
    return out


def test_numpy_input_fn_batches_epochs_in_order():
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    y = np.arange(10, dtype=np.int32) * 10
    got = batches(tf_estimator.inputs.numpy_input_fn(
        {'x': x}, y, batch_size=4, num_epochs=2, shuffle=False))
    # 20 rows in batches of 4; a batch spans two epochs, as 1.15's queue's.
    assert [len(labels) for _, labels in got] == [4, 4, 4, 4, 4]
    rows = np.concatenate([features['x'][:, 0] for features, _ in got])
    assert rows.tolist() == list(range(10)) * 2
    labels = np.concatenate([labels for _, labels in got])
    assert labels.tolist() == [10 * r for r in rows]
    last = batches(tf_estimator.inputs.numpy_input_fn(
        x, batch_size=4, num_epochs=1, shuffle=False))
    assert [len(b) for b in last] == [4, 4, 2]  # The last batch is short.


def test_numpy_input_fn_shuffles_each_epoch_and_may_go_forever():
    x = np.arange(50, dtype=np.int64)
    got = batches(tf_estimator.inputs.numpy_input_fn(
        {'x': x}, batch_size=10, num_epochs=2, shuffle=True))
    first, second = [np.concatenate([b['x'] for b in got[i:i + 5]])
                     for i in (0, 5)]
    assert sorted(first) == sorted(second) == list(range(50))
    assert first.tolist() != list(range(50))
    assert first.tolist() != second.tolist()
    endless = batches(tf_estimator.inputs.numpy_input_fn(
        {'x': x}, batch_size=20, num_epochs=None, shuffle=True), limit=30)
    assert len(endless) == 30


def test_numpy_input_fn_keeps_the_arrays_out_of_the_graph():
    images = np.random.rand(20000, 784).astype(np.float32)  # 63 MB.
    with tf.Graph().as_default() as g:
        tf_estimator.inputs.numpy_input_fn(
            {'x': images}, np.zeros(20000, np.int32), shuffle=True)()
        assert g.as_graph_def().ByteSize() < 10000


def test_numpy_input_fn_refuses_what_1_15_refused():
    x = np.zeros((5, 2))
    with pytest.raises(ValueError, match='shuffle must be given as True or '
                       'False'):
        tf_estimator.inputs.numpy_input_fn(x)
    with pytest.raises(EstimatorError, match='as many rows each; got x: 5, '
                       'y: 4'):
        tf_estimator.inputs.numpy_input_fn(x, np.zeros(4), shuffle=False)
    with pytest.raises(EstimatorError, match="x and y both have 'a'"):
        tf_estimator.inputs.numpy_input_fn({'a': x}, {'a': x}, shuffle=False)


# --- The Estimator, on tiny data ----------------------------------------------


def linear_model_fn(features, labels, mode):
    weights = tf.get_variable('w', [2, 2])
    logits = tf.matmul(features['x'], weights)
    if mode == ModeKeys.PREDICT:
        return tf_estimator.EstimatorSpec(mode, predictions={
            'classes': tf.argmax(logits, 1)})
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    # A rate at which 20 steps separate the two classes from any start.
    train_op = tf.train.GradientDescentOptimizer(1.0).minimize(
        loss, global_step=tf.train.get_global_step())
    return tf_estimator.EstimatorSpec(mode, loss=loss, train_op=train_op,
                                      eval_metric_ops={
                                          'accuracy': tf.metrics.accuracy(
                                              labels, tf.argmax(logits, 1))})


def tiny_input(num_epochs=None, shuffle=True):
    x = np.array([[1, 0], [0, 1]] * 50, np.float32)
    return tf_estimator.inputs.numpy_input_fn(
        {'x': x}, np.array([0, 1] * 50, np.int32), batch_size=10,
        num_epochs=num_epochs, shuffle=shuffle)


def test_train_resumes_counts_steps_from_there_and_stops_at_max_steps(
        tmp_path):
    config = tf_estimator.RunConfig(log_step_count_steps=None)
    estimator = tf_estimator.Estimator(linear_model_fn, str(tmp_path),
                                       config=config)
    estimator.train(tiny_input(), steps=5)
    assert estimator.get_variable_value('global_step') == 5
    estimator.train(tiny_input(), steps=5)  # 5 more, from the checkpoint.
    assert os.path.basename(estimator.latest_checkpoint()) == 'model.ckpt-10'
    estimator.train(tiny_input(), max_steps=10)  # Reached: trains nothing.
    assert estimator.get_variable_value('global_step') == 10
    assert 'w' in estimator.get_variable_names()
    # An input that ends ends the training, as 1.15's queue did.
    estimator.train(tiny_input(num_epochs=1))
    assert estimator.get_variable_value('global_step') == 20
    results = estimator.evaluate(tiny_input(num_epochs=1, shuffle=False))
    assert results['global_step'] == 20 and results['accuracy'] == 1.0
    assert os.listdir(str(tmp_path / 'eval'))
    predictions = list(estimator.predict(tiny_input(1, False)))
    assert [int(p['classes']) for p in predictions[:4]] == [0, 1, 0, 1]


def test_a_model_fn_returning_something_else_gets_one_line(tmp_path):
    estimator = tf_estimator.Estimator(
        lambda features, labels, mode: {'loss': 1.0}, str(tmp_path))
    with pytest.raises(EstimatorError) as e:
        estimator.train(tiny_input(), steps=1)
    assert str(e.value).startswith('model_fn <lambda> returned dict, not a '
                                   'tf.estimator.EstimatorSpec;')


def test_a_model_dir_that_is_a_file_or_cannot_be_made_gets_one_line(
        tmp_path):
    a_file = tmp_path / 'file'
    a_file.write_text('')
    with pytest.raises(EstimatorError, match='model_dir .*file is a file, '
                       'not a folder'):
        tf_estimator.Estimator(linear_model_fn, str(a_file))
    with pytest.raises(EstimatorError, match='cannot make model_dir .*sub '
                       r'\(Not a directory\)'):
        tf_estimator.Estimator(linear_model_fn, str(a_file / 'sub'))


def test_a_premade_classifier_says_which_feature_does_not_fit(tmp_path):
    columns = [tf.feature_column.numeric_column('x', shape=[784])]
    classifier = tf_estimator.DNNClassifier([10], columns, str(tmp_path),
                                            n_classes=10)
    x = np.zeros((10, 100), np.float32)
    with pytest.raises(EstimatorError) as e:
        classifier.train(tf_estimator.inputs.numpy_input_fn(
            {'x': x}, np.zeros(10, np.int32), shuffle=True), steps=1)
    assert str(e.value) == ("DNNClassifier: feature 'x' has shape [100] per "
                            "example, its numeric_column says [784]; give the "
                            "column that shape")
    with pytest.raises(EstimatorError, match="gives no feature 'x'"):
        classifier.train(tf_estimator.inputs.numpy_input_fn(
            {'image': x}, np.zeros(10, np.int32), shuffle=True), steps=1)
    with pytest.raises(EstimatorError, match="optimizer 'Adadelta' is not"):
        tf_estimator.LinearClassifier(
            [tf.feature_column.numeric_column('x', shape=[2])],
            str(tmp_path / 'linear'), optimizer='Adadelta').train(
                tiny_input(), steps=1)


def test_run_config_reads_the_task_from_tf_config(monkeypatch):
    monkeypatch.setenv('TF_CONFIG', '{"cluster": {"chief": ["h:1"], '
                       '"worker": ["h:2", "h:3"], "ps": ["h:4"]}, '
                       '"task": {"type": "worker", "index": 1}}')
    config = tf_estimator.RunConfig(save_checkpoints_steps=100)
    assert (config.task_type, config.task_id, config.is_chief) == (
        'worker', 1, False)
    assert (config.num_worker_replicas, config.num_ps_replicas) == (3, 1)
    assert config.save_checkpoints_secs is None
    assert tf_estimator.RunConfig().save_checkpoints_secs == 600
    monkeypatch.delenv('TF_CONFIG')
    assert not tf_estimator.RunConfig().is_cluster_task


# --- In your code ---------------------------------------------------------


def test_your_tf_estimator_is_this_one_and_cuda_answers_as_1x_cpu(capsys):
    tf1 = tf1_module.get()
    assert tf1.estimator.Estimator is tf_estimator.Estimator
    assert tf1.compat.v1.estimator.inputs.numpy_input_fn is (
        inputs.numpy_input_fn)
    assert tf1.estimator.export.ServingInputReceiver
    if tf.config.list_physical_devices('GPU'):
        pytest.fail('this test expects a machine without a GPU')
    cuda_build._say_once.cache_clear()
    assert tf1.test.is_built_with_cuda() is False
    assert tf1.test.is_built_with_cuda() is False
    err = capsys.readouterr().err
    if tf.test.is_built_with_cuda():
        assert err.count('warning: tf.test.is_built_with_cuda() says '
                         'False') == 1

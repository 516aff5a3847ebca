"""Your TensorFlow 1.x code as written: mnist-tf1-run, `import
mnist_tf1.legacy`, and the runs such code leaves behind.

The programs under tests/legacy_programs/ are written as the tutorials and
blogs wrote them for TensorFlow 1.x, and run unchanged.
"""

import builtins
import importlib
import json
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from mnist_tf1.legacy import import_hook
from mnist_tf1.legacy import removed_names
from mnist_tf1.legacy import tf1_module
from mnist_tf1.platform import tf_versions
from mnist_tf1.run_dir import checkpoints

# Importing the package put the hooks in place (that is its one line); here
# they are in place only for the tests that ask for them (`hooks`), so that
# the rest of the suite runs without.
import_hook.uninstall()

PROGRAMS = pathlib.Path(__file__).resolve().parent / 'legacy_programs'


def run_program(args, cwd, timeout=600):
    """mnist-tf1-run ARGS in cwd: (status, stdout, stderr)."""
    result = subprocess.run(
        [sys.executable, '-m', 'mnist_tf1.run_program'] + [str(a) for a in args],
        cwd=str(cwd), capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout, result.stderr


def run_command(module, args, timeout=600):
    """python -m mnist_tf1.<module> ARGS: stdout; fails the test on error."""
    result = subprocess.run(
        [sys.executable, '-m', 'mnist_tf1.' + module] + [str(a) for a in args],
        capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr
    return result.stdout


def last_number(stdout):
    """The number a program printed last (its accuracy)."""
    return float(re.findall(r'([\d.]+)\s*$', stdout.strip())[0])


def precisions(stdout, split):
    """The `Precision @ 1` figures printed after '<split> Data Eval:'."""
    return [float(m) for m in re.findall(
        r'%s Data Eval:\n  Num examples: \d+  Num correct: \d+  '
        r'Precision @ 1: ([\d.]+)' % split, stdout)]


def global_step(prefix):
    """(value, dtype) of the global_step in a checkpoint."""
    reader = tf.train.load_checkpoint(str(prefix))
    return (int(reader.get_tensor('global_step')),
            reader.get_variable_to_dtype_map()['global_step'])


# --- The table of removed names, against the installed TensorFlow -----------


def resolve(dotted):
    """tf.compat.v1.<dotted>, or None where the chain breaks."""
    value = tf
    for part in dotted.split('.'):
        try:
            value = getattr(value, part)
        except AttributeError:
            return None
    return value


@pytest.mark.parametrize('name', sorted(removed_names.REMOVED))
def test_every_removed_name_is_gone_and_its_replacement_is_there(name):
    removed_in, advice = removed_names.REMOVED[name]
    if name.endswith('.'):
        assert resolve(name[:-1]) is not None  # Only its members are gone.
    elif (tf_versions.release(tf.__version__) >=
          tf_versions.release(removed_in)):
        assert resolve(name) is None, 'tf.%s is still there' % name
    else:
        # Older releases of the tested range still have it (tf.estimator in
        # 2.15): a program that uses it runs there, and the table is not
        # consulted.
        assert resolve(name) is not None, 'tf.%s is gone before %s' % (
            name, removed_in)
    for replacement in re.findall(r'\btf\.([\w.]+)', advice):
        assert resolve(replacement.rstrip('.')) is not None, replacement


@pytest.mark.parametrize('name', sorted(removed_names.BY_NAME_ONLY))
def test_functions_taking_names_only_exist_and_take_labels_and_logits(name):
    import inspect  # pylint: disable=g-import-not-at-top
    parameters = inspect.signature(resolve(name)).parameters
    assert list(parameters)[:2] == ['labels', 'logits']


def test_lookup_takes_the_most_precise_entry():
    assert removed_names.lookup('contrib.factorization.KMeans') == (
        removed_names.REMOVED['contrib.factorization'])
    assert removed_names.lookup('contrib.layers.no_such_layer') == (
        removed_names.REMOVED['contrib.layers'])
    assert removed_names.lookup('contrib.keras.layers') == (
        removed_names.REMOVED['contrib'])
    assert removed_names.lookup('nn.rnn') == removed_names.REMOVED['nn.rnn']
    assert removed_names.lookup('placeholder') is None


# --- The 1.x module your code gets -------------------------------------------


def test_tf1_module_is_compat_v1_in_graph_mode():
    tf1 = tf1_module.get()
    assert tf1.placeholder is tf.placeholder
    assert tf1.app.flags is tf.app.flags and tf1.app.run is tf.app.run
    assert tf1.train.Saver is tf.train.Saver
    assert tf1.train is tf1.train  # One submodule object, not one per use.
    assert tf1.__name__ == 'tensorflow'
    assert not tf1.executing_eagerly()
    assert 'placeholder' in dir(tf1)


def test_removed_names_raise_one_line_naming_the_replacement():
    tf1 = tf1_module.get()
    with pytest.raises(AttributeError) as e:
        tf1.merge_all_summaries()
    assert str(e.value) == ('tf.merge_all_summaries was removed in '
                            'TensorFlow 1.0; use tf.summary.merge_all')
    with pytest.raises(removed_names.RemovedAttribute) as e:
        tf1.train.SummaryWriter('/tmp/never')
    assert 'tf.summary.FileWriter' in str(e.value)
    # The line says which part of tf.contrib was meant.
    with pytest.raises(removed_names.RemovedAttribute) as e:
        tf1.contrib.factorization.KMeans()
    assert str(e.value).startswith('tf.contrib.factorization.KMeans was '
                                   'removed in TensorFlow 2.0; it has no '
                                   'successor in TensorFlow 2')
    with pytest.raises(AttributeError) as e:
        tf1.no_such_name  # pylint: disable=pointless-statement
    assert not isinstance(e.value, removed_names.Removed)


def test_cross_entropy_refuses_the_pre_1_0_argument_order():
    tf1 = tf1_module.get()
    with tf.Graph().as_default():
        logits = tf.constant([[2.0, 0.0]])
        labels = tf.constant([[1.0, 0.0]])
        with pytest.raises(ValueError) as e:
            tf1.nn.softmax_cross_entropy_with_logits(logits, labels)
        assert 'labels=..., logits=...' in str(e.value)
        loss = tf1.nn.softmax_cross_entropy_with_logits(labels=labels,
                                                        logits=logits)
        with tf.Session() as sess:
            assert sess.run(loss)[0] == pytest.approx(0.126928, rel=1e-4)


# --- The import hooks, in this process -------------------------------------


@pytest.fixture
def hooks():
    original = builtins.__import__
    import_hook.install()
    try:
        yield
    finally:
        import_hook.uninstall()
        assert builtins.__import__ is original


def test_your_import_tensorflow_is_the_1x_api_and_tensorflows_own_is_not(
        hooks):
    import tensorflow  # pylint: disable=g-import-not-at-top
    assert tensorflow is tf1_module.get()
    assert type(sys.modules['tensorflow']).__name__ == 'module'
    assert sys.modules['tensorflow'] is not tensorflow
    from tensorflow import placeholder  # pylint: disable=g-import-not-at-top
    assert placeholder is tf.placeholder
    import tensorflow.compat.v2 as tf2  # pylint: disable=g-import-not-at-top
    assert hasattr(tf2, 'function') and not hasattr(tf2, 'placeholder')


def test_import_of_a_tensorflow_submodule_binds_the_1x_api_too(hooks):
    # As in TensorFlow 1.x, `import tensorflow.x.y` binds `tensorflow` to
    # the same module `import tensorflow` did.
    scope = {'__name__': '__main__'}
    exec('import tensorflow\n'  # pylint: disable=exec-used
         'import tensorflow.examples.tutorials.mnist.input_data\n'
         'import tensorflow.python.framework.ops\n', scope)
    tensorflow = scope['tensorflow']
    assert tensorflow is tf1_module.get()
    assert tensorflow.placeholder is tf.placeholder
    from mnist_tf1 import input_data  # pylint: disable=g-import-not-at-top
    assert tensorflow.examples.tutorials.mnist.input_data is input_data
    assert tensorflow.python.framework.ops is sys.modules[
        'tensorflow.python.framework.ops']


def test_tutorial_modules_are_this_projects(hooks):
    # pylint: disable=g-import-not-at-top
    from tensorflow.examples.tutorials.mnist import input_data
    from tensorflow.examples.tutorials.mnist import mnist
    import tensorflow.examples.tutorials.mnist.input_data as input_data2
    from mnist_tf1 import input_data as ours
    from mnist_tf1 import mnist as our_mnist
    assert input_data is ours and input_data2 is ours and mnist is our_mnist
    # They keep their own names: nothing of theirs was rewritten.
    assert ours.__name__ == 'mnist_tf1.input_data'
    assert ours.__spec__.name == 'mnist_tf1.input_data'


@pytest.mark.parametrize('statement,name', [
    ('from tensorflow.contrib import factorization',
     'tensorflow.contrib.factorization'),
    ('import tensorflow.contrib.tensor_forest as forest',
     'tensorflow.contrib.tensor_forest'),
    ('from tensorflow.contrib.eager import Variable', 'tensorflow.contrib.eager'),
])
def test_importing_tf_contrib_without_successor_raises_one_line(
        hooks, statement, name):
    with pytest.raises(ImportError) as e:
        exec(statement, {'__name__': '__main__'})  # pylint: disable=exec-used
    assert str(e.value).startswith(name + ' was removed in TensorFlow 2.0; ')
    assert '\n' not in str(e.value)


def test_contrib_refused_to_importlib_too(hooks):
    with pytest.raises(ModuleNotFoundError) as e:
        importlib.import_module('tensorflow.contrib.boosted_trees')
    assert str(e.value).startswith('tensorflow.contrib.boosted_trees was '
                                   'removed in TensorFlow 2.0; ')


def test_uninstalled_under_another_wrapper_it_hands_everything_on():
    original = builtins.__import__
    import_hook.install()
    seen = []

    def other_wrapper(name, *args, **kwargs):
        seen.append(name)
        return import_hook._import(name, *args, **kwargs)  # pylint: disable=protected-access

    builtins.__import__ = other_wrapper
    try:
        import_hook.uninstall()
        assert builtins.__import__ is other_wrapper  # Not ours to undo.
        import tensorflow  # pylint: disable=g-import-not-at-top
        assert tensorflow is sys.modules['tensorflow'] and seen
    finally:
        # The other wrapper goes away, and with it _import's place.
        builtins.__import__ = original
        import_hook._next_import = None  # pylint: disable=protected-access


def test_who_counts_as_your_code():
    import json as stdlib_module  # pylint: disable=g-import-not-at-top
    import keras  # pylint: disable=g-import-not-at-top
    import tensorboard  # pylint: disable=g-import-not-at-top
    assert import_hook.is_user_code(globals())  # This test file.
    assert import_hook.is_user_code({'__name__': '__main__'})  # python -c.
    for module in (sys.modules['tensorflow'], keras, tensorboard,
                   stdlib_module, np, checkpoints):
        assert not import_hook.is_user_code(vars(module)), module
    assert not import_hook.is_user_code(None)
    # importlib's frames, between your import_module() call and the hook.
    assert not import_hook.is_user_file('<frozen importlib._bootstrap>')


# --- Global step dtypes: TensorFlow 1.x runs and this project's earlier ones -


def save_global_step(prefix, dtype):
    with tf.Graph().as_default():
        step = tf.Variable(7, dtype=dtype, name='global_step',
                           trainable=False)
        with tf.Session() as sess:
            sess.run(step.initializer)
            tf.train.Saver([step]).save(sess, str(prefix))


@pytest.mark.parametrize('saved,make', [
    (tf.int64, lambda: tf.Variable(0, name='global_step', trainable=False)),
    (tf.int32, tf.train.get_or_create_global_step),
])
def test_the_graphs_global_step_takes_the_checkpoints_dtype(tmp_path, saved,
                                                            make):
    save_global_step(tmp_path / 'model.ckpt-7', saved)
    assert checkpoints.global_step_dtype(str(tmp_path)) == saved
    with tf.Graph().as_default():
        with checkpoints.global_step_as_saved(str(tmp_path)):
            step = make()
            other = tf.Variable(0, name='not_global_step')
        assert step.dtype.base_dtype == saved
        assert other.dtype.base_dtype == tf.int32
        with tf.Session() as sess:
            tf.train.Saver([step]).restore(sess, str(tmp_path / 'model.ckpt-7'))
            assert sess.run(step) == 7


def test_no_checkpoint_leaves_the_global_step_alone(tmp_path):
    assert checkpoints.global_step_dtype(str(tmp_path)) is None
    with tf.Graph().as_default():
        with checkpoints.global_step_as_saved(str(tmp_path)):
            assert tf.train.get_or_create_global_step().dtype.base_dtype == (
                tf.int64)


@pytest.mark.slow
def test_an_int64_run_of_this_project_resumes(tmp_path):
    # Runs before mnist.training made global_step int32 saved it as int64.
    log_dir = tmp_path / 'run'
    with tf.Graph().as_default():
        from mnist_tf1 import mnist  # pylint: disable=g-import-not-at-top
        mnist.inference(tf.placeholder(tf.float32, [None, 784]), 128, 32)
        step = tf.train.get_or_create_global_step()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(step.assign(30))
            tf.train.Saver().save(sess, str(log_dir / 'model.ckpt'),
                                  global_step=30)
    out = run_command('fully_connected_feed', [
        '--fake_data', '--max_steps=40', '--log_dir=%s' % log_dir])
    assert 'Restored %s (step 30).' % (log_dir / 'model.ckpt-30') in out
    assert global_step(log_dir / 'model.ckpt-40') == (40, tf.int64)


# --- Whole programs through mnist-tf1-run, on the real MNIST ----------------


@pytest.mark.slow
def test_mnist_softmax_reaches_90_percent(mnist_data_dir, tmp_path):
    status, out, err = run_program(
        [PROGRAMS / 'mnist_softmax.py', '--data_dir=%s' % mnist_data_dir,
         '--max_steps=500'], tmp_path)
    assert status == 0, err
    assert float(out.splitlines()[-1]) >= 0.90, out
    assert err == '', err  # TensorFlow's own noise stays out.


@pytest.fixture(scope='module')
def mechanics101_run(mnist_data_dir, tmp_path_factory):
    """One run of the Mechanics 101-style program: (log_dir, its stdout).

    Read-only: tests that continue the run work on a copy.
    """
    log_dir = tmp_path_factory.mktemp('mechanics101') / 'logs'
    status, out, err = run_program(
        [PROGRAMS / 'mechanics101' / 'fully_connected_feed.py',
         '--train_dir=%s' % mnist_data_dir, '--log_dir=%s' % log_dir,
         '--max_steps=600', '--learning_rate=0.05'], log_dir.parent)
    assert status == 0, err
    return log_dir, out


@pytest.mark.slow
def test_mechanics101_program_trains_and_saves_an_int32_step(
        mechanics101_run):
    log_dir, out = mechanics101_run
    assert out.count('Step ') == 6  # Steps 0, 100, ..., 500.
    assert precisions(out, 'Test')[-1] >= 0.87, out
    # The tutorial's own checkpoint: named by the loop index, holding the
    # global step, an int32 tf.Variable(0).
    assert global_step(log_dir / 'model.ckpt-599') == (600, tf.int32)


@pytest.mark.slow
def test_mnist_tf1_train_continues_a_tensorflow_1x_run(mechanics101_run,
                                                       mnist_data_dir,
                                                       tmp_path):
    log_dir = tmp_path / 'logs'
    shutil.copytree(mechanics101_run[0], log_dir)
    out = run_command('fully_connected_feed', [
        '--log_dir=%s' % log_dir, '--input_data_dir=%s' % mnist_data_dir,
        '--max_steps=800'])
    assert 'Restored %s (step 600).' % (log_dir / 'model.ckpt-599') in out
    assert 'Step 600: loss = ' in out and 'Step 700: loss = ' in out
    assert precisions(out, 'Test')[-1] >= 0.87, out
    assert global_step(log_dir / 'model.ckpt-800') == (800, tf.int32)


@pytest.mark.slow
def test_eval_predict_export_read_a_tensorflow_1x_run(mechanics101_run,
                                                      mnist_data_dir,
                                                      tmp_path):
    log_dir = tmp_path / 'logs'
    shutil.copytree(mechanics101_run[0], log_dir)
    out = run_command('evaluate', ['--log_dir=%s' % log_dir,
                                   '--input_data_dir=%s' % mnist_data_dir])
    assert 'model.ckpt-599 (step 600)' in out
    assert precisions(out, 'Test') == precisions(mechanics101_run[1], 'Test')
    out = run_command('predict', ['--log_dir=%s' % log_dir, '--json',
                                  '--mnist_test_index=0',
                                  '--input_data_dir=%s' % mnist_data_dir])
    assert json.loads(out)['step'] == 600
    out = run_command('export', ['--log_dir=%s' % log_dir,
                                 '--export_dir=%s' % (tmp_path / 'export')])
    assert '(step 600)' in out
    assert (tmp_path / 'export' / 'saved_model.pb').exists()


@pytest.mark.slow
def test_summaries_program_writes_what_tensorboard_reads(mnist_data_dir,
                                                          tmp_path):
    # pylint: disable=g-import-not-at-top
    from tensorboard.backend.event_processing import event_accumulator
    log_dir = tmp_path / 'logs'
    status, out, err = run_program(
        [PROGRAMS / 'mnist_with_summaries.py',
         '--data_dir=%s' % mnist_data_dir, '--log_dir=%s' % log_dir,
         '--max_steps=11'], tmp_path)
    assert status == 0, err
    assert out.splitlines()[-1].startswith('Accuracy at step 10: ')
    test = event_accumulator.EventAccumulator(str(log_dir / 'test'))
    test.Reload()
    accuracy = test.Scalars('accuracy_1')
    assert [e.step for e in accuracy] == [0, 10]
    assert accuracy[-1].value > max(0.5, accuracy[0].value)  # It learns.
    train = event_accumulator.EventAccumulator(str(log_dir / 'train'))
    train.Reload()
    tags = train.Tags()
    assert 'cross_entropy_1' in tags['scalars']
    # (As in TensorFlow 1.x: `mean` is the name of the reduce_mean op.)
    assert 'layer1/weights/summaries/mean_1' in tags['scalars']
    assert 'layer1/activations' in tags['histograms']
    assert any(t.startswith('input_reshape/input/image') for t in tags['images'])
    assert tags['graph']
    assert [e.step for e in train.Scalars('cross_entropy_1')] == list(
        range(1, 10))


@pytest.mark.parametrize('program,line,message', [
    ('contrib_kmeans.py', 9,
     'tf.contrib.factorization.KMeans was removed in TensorFlow 2.0; it has '
     'no successor in TensorFlow 2'),
    ('ltfn1_2016.py', 20,
     'tf.nn.softmax_cross_entropy_with_logits takes its arguments by name '
     'since TensorFlow 1.0'),
])
@pytest.mark.slow
def test_removed_names_end_the_program_in_one_line(tmp_path, program, line,
                                                   message):
    status, _, err = run_program([PROGRAMS / program], tmp_path)
    assert status == 1
    assert err.count('\n') == 1, err
    assert err.startswith('mnist-tf1-run: error: %s:%d: %s' % (
        PROGRAMS / program, line, message)), err


@pytest.mark.slow
def test_the_program_runs_as_python_would_run_it(tmp_path):
    (tmp_path / 'helper.py').write_text(
        'import tensorflow as tf\n'
        'GRAPH_MODE = not tf.executing_eagerly()\n'
        'HAS_PLACEHOLDER = hasattr(tf, "placeholder")\n')
    (tmp_path / 'probe.py').write_text(
        'import json, sys\n'
        'import helper\n'
        'print(json.dumps({"argv": sys.argv, "name": __name__,\n'
        '                  "path0": sys.path[0], "file": __file__,\n'
        '                  "graph_mode": helper.GRAPH_MODE,\n'
        '                  "placeholder": helper.HAS_PLACEHOLDER}))\n'
        'sys.exit(int(sys.argv[1]))\n')
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    status, out, err = run_program(['../probe.py', '3', '--flag=x'],
                                   elsewhere)
    assert status == 3, err
    seen = json.loads(out)
    assert seen['argv'][1:] == ['3', '--flag=x']
    assert seen['name'] == '__main__'
    assert seen['path0'] == str(tmp_path)  # Its folder, for `import helper`.
    assert seen['file'] == str(tmp_path / 'probe.py')
    assert seen['graph_mode'] and seen['placeholder']


@pytest.mark.slow
def test_tensorflows_own_log_lines_show_as_in_1x_deprecations_do_not(
        tmp_path):
    # What TensorFlow 1.x printed for this program: its hooks' lines, the
    # checkpoints saved, the NaN loss. TensorFlow 2 adds deprecation notices
    # for the 1.x API (tf.train.LoggingTensorHook...): those stay out.
    (tmp_path / 'hooks.py').write_text(textwrap.dedent('''
        import tensorflow as tf
        tf.logging.set_verbosity(tf.logging.INFO)
        x = tf.Variable(1.0)
        loss = tf.square(x) * float('nan')
        step = tf.train.get_or_create_global_step()
        train = tf.train.GradientDescentOptimizer(0.1).minimize(
            loss, global_step=step)
        hooks = [tf.train.LoggingTensorHook({'loss': loss}, every_n_iter=1),
                 tf.train.NanTensorHook(loss, fail_on_nan_loss=False),
                 tf.train.StopAtStepHook(last_step=2)]
        with tf.train.MonitoredTrainingSession(checkpoint_dir='ckpt',
                                               hooks=hooks) as sess:
            while not sess.should_stop():
                sess.run(train)
    '''))
    status, _, err = run_program(['hooks.py'], tmp_path)
    assert status == 0, err
    lines = err.splitlines()
    assert 'INFO:tensorflow:Saving checkpoints for 0 into ckpt/model.ckpt.' \
        in lines, err
    assert 'INFO:tensorflow:loss = nan' in lines, err
    assert 'WARNING:tensorflow:Model diverged with loss = NaN.' in lines, err
    assert 'deprecat' not in err.lower(), err


@pytest.mark.slow
def test_a_programs_own_error_shows_its_traceback_not_the_runners(tmp_path):
    (tmp_path / 'fails.py').write_text(
        'def f():\n    raise RuntimeError("its own")\n\nf()\n')
    status, _, err = run_program(['fails.py'], tmp_path)
    assert status == 1
    assert err.splitlines()[-1] == 'RuntimeError: its own'
    assert 'runpy' not in err and 'run_program' not in err, err


def test_mnist_tf1_run_is_a_console_script():
    import configparser  # pylint: disable=g-import-not-at-top
    config = configparser.ConfigParser()
    config.read(pathlib.Path(__file__).resolve().parent.parent / 'setup.cfg')
    scripts = config['options.entry_points']['console_scripts']
    assert 'mnist-tf1-run = mnist_tf1.run_program:run' in scripts


@pytest.mark.slow
def test_no_program_is_a_usage_error(tmp_path):
    status, _, err = run_program(['missing.py'], tmp_path)
    assert status == 2
    assert err == ('mnist-tf1-run: error: cannot run missing.py: no such '
                   'file; give the path of a Python program\n')
    status, _, err = run_program([], tmp_path)
    assert status == 2 and err.startswith('usage: mnist-tf1-run')


# --- The one line in a plain Python session --------------------------------

_SESSION = r'''
import os, sys
import numpy as np
import mnist_tf1.legacy  # The one line.
out = sys.argv[1]

# TensorFlow 2 as always, for what does not ask for `tensorflow` by that
# name in your code: tf.keras builds and fits, tf.saved_model saves and loads.
import tensorflow.compat.v2 as tf2
import keras
assert tf2.executing_eagerly()
rng = np.random.RandomState(0)
x = rng.rand(256, 4).astype('float32')
y = (x.sum(axis=1) > 2).astype('int32')
model = tf2.keras.Sequential([tf2.keras.Input((4,)),
                              tf2.keras.layers.Dense(2)])
model.compile(optimizer=tf2.keras.optimizers.SGD(0.5),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
losses = model.fit(x, y, epochs=5, verbose=0).history['loss']
assert losses[-1] < losses[0], losses

class Doubler(tf2.Module):
    @tf2.function(input_signature=[tf2.TensorSpec([None], tf2.float32)])
    def __call__(self, v):
        return 2 * v
tf2.saved_model.save(Doubler(), os.path.join(out, 'doubler'))
loaded = tf2.saved_model.load(os.path.join(out, 'doubler'))
assert loaded(tf2.constant([1.0, 2.0])).numpy().tolist() == [2.0, 4.0]

# Your TensorFlow 1.x code, in the same session.
import tensorflow as tf
from tensorflow.examples.tutorials.mnist import input_data
assert not tf.executing_eagerly()
try:
    tf.train.SummaryWriter
except AttributeError as e:
    assert str(e).endswith('use tf.summary.FileWriter'), e
images = tf.placeholder(tf.float32, [None, 2], name='images')
weights = tf.Variable([[1.0], [2.0]], name='weights')
scores = tf.matmul(images, weights, name='scores')
tf.summary.scalar('mean_score', tf.reduce_mean(scores))
summary = tf.summary.merge_all()
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    writer = tf.summary.FileWriter(os.path.join(out, 'events'), sess.graph)
    writer.add_summary(sess.run(summary, {images: [[1.0, 1.0]]}), 1)
    writer.close()
    tf.saved_model.simple_save(sess, os.path.join(out, 'v1_model'),
                               inputs={'images': images},
                               outputs={'scores': scores})
with tf.Graph().as_default(), tf.Session() as sess:
    tf.saved_model.loader.load(sess, ['serve'], os.path.join(out, 'v1_model'))
    assert sess.run('scores:0', {'images:0': [[1.0, 1.0]]}).tolist() == [[3.0]]

# TensorBoard reads what was written.
from tensorboard.backend.event_processing import event_accumulator
events = event_accumulator.EventAccumulator(os.path.join(out, 'events'))
events.Reload()
assert [e.value for e in events.Scalars('mean_score')] == [3.0]
print('all worked')
'''


@pytest.mark.slow
def test_one_line_in_a_session_keeps_keras_saved_model_and_tensorboard(
        tmp_path):
    result = subprocess.run([sys.executable, '-c', _SESSION, str(tmp_path)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == 'all worked'


_LIBRARY_IMPORTS = r'''
import builtins, importlib, pathlib, sys
import numpy as np
import tensorflow as tf
from absl import flags

# The commands, and what they share at their edge (cli/flags.py defines
# their flags): importing these is starting a command.
COMMANDS = {'fully_connected_feed', 'evaluate', 'predict', 'export',
            'run_program', 'cli.flags'}

def state():
    return (tf.get_logger().level, tf.executing_eagerly(),
            sorted(flags.FLAGS), np.random.get_state()[1].tobytes(),
            builtins.__import__, list(sys.meta_path))

# Found on disk: importing packages to list them would import them early.
root = pathlib.Path(sys.argv[1])
names = sorted('.'.join(p.relative_to(root.parent).with_suffix('').parts)
               .replace('.__init__', '') for p in root.rglob('*.py'))
library = [n for n in names
           if n[len('mnist_tf1.'):] not in COMMANDS
           and not n.startswith('mnist_tf1.legacy')]
assert 'mnist_tf1' in library and 'mnist_tf1.input_data' in library
assert len(library) > 20, library
before = state()
for name in library:
    importlib.import_module(name)
assert state() == before, [a == b for a, b in zip(state(), before)]
import mnist_tf1.legacy
after = state()
assert after[:4] == before[:4]  # Only the import hooks are new.
assert after[4] is not before[4] and after[5] != before[5]
print(len(library))
'''


@pytest.mark.slow
def test_importing_the_library_changes_nothing_global():
    package = pathlib.Path(checkpoints.__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, '-c', _LIBRARY_IMPORTS,
                             str(package)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.splitlines()[-1]) > 20

"""mnist-tf1-export: a SavedModel TF2 loads, agreeing with the checkpoint."""

import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np


from mnist_tf1 import input_data
from mnist_tf1 import mnist
from mnist_tf1.networks import trained_model

EXPORT = [sys.executable, '-m', 'mnist_tf1.export']

# Run in a fresh process: plain TensorFlow 2, eager, nothing of this package.
TF2_LOADER = textwrap.dedent('''
    import sys
    import numpy as np
    import tensorflow as tf
    assert tf.executing_eagerly()
    loaded = tf.saved_model.load(sys.argv[1])
    serve = loaded.signatures['serving_default']
    (spec,) = serve.structured_input_signature[1].values()
    assert spec.shape.as_list() == [None, 784], spec
    assert spec.dtype == tf.float32, spec
    images = np.load(sys.argv[2])
    out = serve(images=tf.constant(images))
    assert sorted(out) == ['classes', 'probabilities'], sorted(out)
    np.savez(sys.argv[3], classes=out['classes'].numpy(),
             probabilities=out['probabilities'].numpy())
''')


def export(*flags):
    return subprocess.run(EXPORT + list(flags), capture_output=True,
                          text=True, timeout=600)


def checkpoint_predictions(log_dir, images):
    """classes, probabilities straight from the checkpoint (graph mode)."""
    model = trained_model.Model(mnist, [128, 32], with_labels=False)
    model.restore(str(log_dir / 'model.ckpt-2000'))
    classes, probabilities = model.predict(images)
    model.close()
    return classes, probabilities


def test_export_round_trip_agrees_with_the_checkpoint_on_the_test_set(
        trained_run, mnist_data_dir, tmp_path):
    log_dir, training_stdout = trained_run
    target = tmp_path / 'models' / 'mnist'
    result = export('--log_dir=%s' % log_dir, '--export_dir=%s' % target)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ''
    assert result.stdout.splitlines() == [
        'Exported %s (step 2000) to %s.' % (log_dir / 'model.ckpt-2000',
                                            target),
        "Signature 'serving_default': images float32 [None, 784] in [0, 1] "
        '-> classes int64 [None], probabilities float32 [None, 10].']
    assert sorted(os.listdir(target)) == ['saved_model.pb', 'variables']
    # Written beside, renamed into place: nothing else is left there.
    assert os.listdir(tmp_path / 'models') == ['mnist']

    with open(os.path.join(mnist_data_dir, input_data.TEST_IMAGES), 'rb') as f:
        images = input_data.extract_images(f).reshape(-1, 784)
    with open(os.path.join(mnist_data_dir, input_data.TEST_LABELS), 'rb') as f:
        labels = input_data.extract_labels(f)
    images = images.astype(np.float32) / np.float32(255)
    np.save(tmp_path / 'test_images.npy', images)
    loader = tmp_path / 'load.py'
    loader.write_text(TF2_LOADER)
    loaded = subprocess.run(
        [sys.executable, str(loader), str(target),
         str(tmp_path / 'test_images.npy'), str(tmp_path / 'out.npz')],
        capture_output=True, text=True, timeout=600)
    assert loaded.returncode == 0, loaded.stderr
    # Exported with resource variables: TF2 maps them without complaint.
    assert 'reference variable' not in loaded.stderr
    served = np.load(tmp_path / 'out.npz')

    classes, probabilities = checkpoint_predictions(log_dir, images)
    assert served['classes'].shape == (10000,)
    assert np.array_equal(served['classes'], classes)
    np.testing.assert_allclose(served['probabilities'], probabilities,
                               rtol=0, atol=1e-6)
    # And both agree with what training printed for the test set.
    final_test = training_stdout.splitlines()[-1]
    assert ('Num correct: %d ' % int((classes == labels).sum())) in final_test


def test_an_existing_export_is_replaced_only_when_asked(trained_run, tmp_path):
    log_dir, _ = trained_run
    target = tmp_path / 'mnist'
    assert export('--log_dir=%s' % log_dir,
                  '--export_dir=%s' % target).returncode == 0
    first = (target / 'saved_model.pb').stat()

    again = export('--log_dir=%s' % log_dir, '--export_dir=%s' % target,
                   '--checkpoint_path=%s' % (log_dir / 'model.ckpt-1000'))
    assert again.returncode == 1
    assert 'Traceback' not in again.stderr
    errors = again.stderr.splitlines()
    assert len(errors) == 1
    assert '%s already exists; pass --overwrite' % target in errors[0]
    assert (target / 'saved_model.pb').stat() == first

    replaced = export('--export_dir=%s' % target, '--overwrite',
                      '--checkpoint_path=%s' % (log_dir / 'model.ckpt-1000'))
    assert replaced.returncode == 0, replaced.stderr
    assert 'model.ckpt-1000 (step 1000) to %s.' % target in replaced.stdout
    assert (target / 'saved_model.pb').stat().st_ino != first.st_ino
    assert sorted(os.listdir(tmp_path)) == ['mnist']


def test_overwrite_never_replaces_what_is_not_an_export(trained_run,
                                                         tmp_path):
    # The run itself, its parent and a plain folder: each stays as it was.
    log_dir, _ = trained_run
    run = tmp_path / 'run'
    shutil.copytree(log_dir, run)
    before = sorted(os.listdir(run))
    plain = tmp_path / 'notes'
    plain.mkdir()
    (plain / 'todo.txt').write_text('keep me')
    for target in (run, tmp_path, plain):
        result = export('--log_dir=%s' % run, '--export_dir=%s' % target,
                        '--overwrite')
        assert result.returncode == 1
        (line,) = result.stderr.splitlines()
        assert line.endswith(
            ': error: %s is not a SavedModel (no saved_model.pb); --overwrite '
            'replaces only an earlier export, so give another --export_dir' %
            target)
    assert sorted(os.listdir(run)) == before
    assert (plain / 'todo.txt').read_text() == 'keep me'
    assert sorted(os.listdir(tmp_path)) == ['notes', 'run']


def test_export_dir_is_required(trained_run):
    log_dir, _ = trained_run
    result = export('--log_dir=%s' % log_dir)
    assert result.returncode == 1
    assert '--export_dir is required' in result.stderr
    assert 'Traceback' not in result.stderr

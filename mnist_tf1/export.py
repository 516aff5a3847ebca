"""Exports a trained run as a SavedModel, for serving or TF2 code.

    mnist-tf1-export --log_dir=/tmp/run1 --export_dir=/tmp/mnist_model

The SavedModel's `serving_default` signature takes `images`, float32
[None, 784] with pixels in [0, 1] (MNIST's form: white digit on black), and
returns `classes` (int64 [None], the digit) and `probabilities` (float32
[None, 10]). It holds the inference graph only (no optimizer, no labels):

    import tensorflow as tf
    model = tf.saved_model.load('/tmp/mnist_model')
    out = model.signatures['serving_default'](images=tf.zeros([1, 784]))
    out['classes'], out['probabilities']

The export is written into a temporary folder beside --export_dir and
renamed into place when complete; an existing export is replaced only with
--overwrite, and nothing else ever is (a run's folder given as --export_dir is
refused).
"""

import os
import shutil
import tempfile

from absl import flags

from mnist_tf1.cli import tf_logging
tf_logging.start_command()  # A command: TensorFlow quiet, in graph mode.

import tensorflow.compat.v1 as tf  # pylint: disable=wrong-import-position

from mnist_tf1.cli import errors
from mnist_tf1.cli import flags as _flags  # noqa: F401  (defines them)
from mnist_tf1.networks import trained_model
from mnist_tf1.run_dir import checkpoints

flags.DEFINE_string('export_dir', None,
                    'Folder to write the SavedModel to (must not exist, '
                    'unless --overwrite).')
flags.DEFINE_boolean('overwrite', False,
                     'Replace an existing --export_dir that holds an '
                     'earlier export (never any other folder).')

FLAGS = flags.FLAGS

SIGNATURE = 'serving_default'


def _write_saved_model(model, path):
    """Writes the restored model's graph and weights as a SavedModel."""
    with model.graph.as_default():
        signature = tf.saved_model.signature_def_utils.predict_signature_def(
            inputs={'images': model.images},
            outputs={'classes': model.classes,
                     'probabilities': model.probabilities})
        builder = tf.saved_model.builder.SavedModelBuilder(path)
        builder.add_meta_graph_and_variables(
            model.sess, [tf.saved_model.tag_constants.SERVING],
            signature_def_map={SIGNATURE: signature},
            strip_default_attrs=True)
        builder.save()


def _is_export(path):
    """Whether `path` is a folder holding a SavedModel."""
    return any(os.path.isfile(os.path.join(path, name))
               for name in ('saved_model.pb', 'saved_model.pbtxt'))


def _check_target(target, overwrite):
    """Refuses a --export_dir that exists, unless it is an earlier export
    and --overwrite asks to replace it: never a run, a parent of runs or any
    other folder, which the replacement would delete.

    Raises:
      UserError: saying which.
    """
    if not os.path.lexists(target):
        return
    if not overwrite:
        raise errors.UserError('%s already exists; pass --overwrite to '
                               'replace it, or give another --export_dir' %
                               target)
    if os.path.islink(target) or not _is_export(target):
        raise errors.UserError('%s is not a SavedModel (no saved_model.pb); '
                               '--overwrite replaces only an earlier export, '
                               'so give another --export_dir' % target)


def _put_in_place(staged, target, overwrite):
    """Renames the finished export to target, replacing it if asked."""
    _check_target(target, overwrite)
    if not os.path.lexists(target):
        os.rename(staged, target)
        return
    # Two renames: the old export is moved out of the way, the new one in,
    # and only then is the old one deleted.
    parent = os.path.dirname(staged)
    old = tempfile.mkdtemp(dir=parent, prefix='.old-')
    os.rename(target, os.path.join(old, 'export'))
    os.rename(staged, target)
    shutil.rmtree(old, ignore_errors=True)


def export(model, target, overwrite):
    """Writes the SavedModel into a temporary folder, then into place."""
    target = os.path.abspath(target)
    parent = os.path.dirname(target)
    try:
        os.makedirs(parent, exist_ok=True)
        work = tempfile.mkdtemp(dir=parent, prefix='.%s.tmp-' %
                                os.path.basename(target))
    except OSError as e:
        raise errors.UserError('cannot write to %s (%s); pick another '
                               '--export_dir' % (parent, e.strerror or e))
    try:
        staged = os.path.join(work, 'export')
        _write_saved_model(model, staged)
        _put_in_place(staged, target, overwrite)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def main(argv):
    if len(argv) > 1:
        raise errors.UserError('unexpected arguments %s; mnist-tf1-export '
                               'takes only flags (see --helpfull)' %
                               ' '.join(argv[1:]))
    if not FLAGS.export_dir:
        raise errors.UserError('--export_dir is required: the folder to write '
                               'the SavedModel to')
    # Before restoring anything; _put_in_place checks again at the end.
    _check_target(FLAGS.export_dir, FLAGS.overwrite)
    # Resource variables (TF2's kind) in the exported graph: TF2's loader
    # then maps them to tf.Variables, without a warning per variable.
    tf.enable_resource_variables()
    model, _, prefix = trained_model.load(FLAGS, with_labels=False)
    target = export(model, FLAGS.export_dir, FLAGS.overwrite)
    model.close()
    print('Exported %s (step %d) to %s.' %
          (prefix, checkpoints.global_step(prefix), target))
    print("Signature '%s': images float32 [None, 784] in [0, 1] -> classes "
          'int64 [None], probabilities float32 [None, 10].' % SIGNATURE)
    return 0


def run():
    """Console-script entry point: mnist-tf1-export."""
    errors.run_cli(main)


if __name__ == '__main__':
    run()

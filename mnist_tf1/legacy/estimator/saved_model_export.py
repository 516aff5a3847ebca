"""Estimator.export_saved_model: the PREDICT graph and a checkpoint's
variables as a SavedModel in export_dir_base/<timestamp>, written under a
temporary name and renamed into place whole (TensorFlow 1.15's layout)."""

import os
import shutil
import time

import tensorflow.compat.v1 as tf

from mnist_tf1.legacy.estimator import export as export_lib
from mnist_tf1.legacy.estimator import model_fn as model_fn_lib


def export(estimator, export_dir_base, serving_input_receiver_fn,
           assets_extra, as_text, checkpoint_path):
    """Writes the SavedModel; returns its folder's path as bytes (as 1.15)."""
    if not callable(serving_input_receiver_fn):
        raise model_fn_lib.EstimatorError(
            'export_saved_model: serving_input_receiver_fn must be a function'
            ' (e.g. tf.estimator.export.build_raw_serving_input_receiver_fn)')
    with tf.Graph().as_default():
        if estimator.config.tf_random_seed is not None:
            tf.set_random_seed(estimator.config.tf_random_seed)
        tf.train.get_or_create_global_step()
        receiver = serving_input_receiver_fn()
        if not isinstance(receiver, (export_lib.ServingInputReceiver,
                                     export_lib.TensorServingInputReceiver)):
            raise model_fn_lib.EstimatorError(
                'serving_input_receiver_fn returned %s, not a '
                'tf.estimator.export.ServingInputReceiver' %
                type(receiver).__name__)
        spec = estimator.call_model_fn(receiver.features, None,
                                       model_fn_lib.ModeKeys.PREDICT)
        signatures = _signatures(spec, receiver.receiver_tensors)
        final = _new_folder(os.fsdecode(export_dir_base))
        temporary = final + '.tmp'
        with tf.Session(config=estimator.session_config()) as session:
            saver = spec.scaffold.saver or tf.train.Saver(sharded=True)
            saver.restore(session, checkpoint_path)
            builder = tf.saved_model.Builder(temporary)
            builder.add_meta_graph_and_variables(
                session, [tf.saved_model.tag_constants.SERVING],
                signature_def_map=signatures, strip_default_attrs=True,
                main_op=tf.tables_initializer(), saver=saver)
            builder.save(as_text)
    for name, source in (assets_extra or {}).items():
        target = os.path.join(temporary, 'assets.extra', name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(source, target)
    os.rename(temporary, final)
    return final.encode()


def _signatures(spec, receiver_tensors):
    outputs = spec.export_outputs
    if not outputs:
        predictions = spec.predictions
        outputs = {export_lib.DEFAULT_SERVING_SIGNATURE_DEF_KEY:
                   export_lib.PredictOutput(predictions)}
    elif len(outputs) == 1 and (export_lib.DEFAULT_SERVING_SIGNATURE_DEF_KEY
                                not in outputs):
        outputs = dict(outputs)
        outputs[export_lib.DEFAULT_SERVING_SIGNATURE_DEF_KEY] = list(
            outputs.values())[0]
    return {key: output.as_signature_def(receiver_tensors)
            for key, output in outputs.items()}


def _new_folder(export_dir_base):
    """export_dir_base/<seconds since 1970>, a name not yet taken."""
    os.makedirs(export_dir_base, exist_ok=True)
    stamp = int(time.time())
    while os.path.exists(os.path.join(export_dir_base, str(stamp))):
        stamp += 1
    return os.path.join(export_dir_base, str(stamp))

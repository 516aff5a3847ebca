"""Estimator.predict: the model_fn's predictions, batch by batch or one
example at a time, from a checkpoint (TensorFlow 1.15's behaviour)."""

import tensorflow.compat.v1 as tf

from mnist_tf1.legacy.estimator import model_fn as model_fn_lib


def predict(estimator, input_fn, predict_keys, hooks, checkpoint_path,
            yield_single_examples):
    """Yields predictions until input_fn's input ends."""
    hooks = model_fn_lib.check_hooks(hooks)
    with tf.Graph().as_default():
        spec, input_hooks, _ = estimator.build(input_fn,
                                               model_fn_lib.ModeKeys.PREDICT)
        predictions = _chosen(spec.predictions, predict_keys)
        creator = tf.train.ChiefSessionCreator(
            scaffold=spec.scaffold,
            checkpoint_filename_with_path=checkpoint_path,
            config=estimator.session_config())
        with tf.train.MonitoredSession(
                session_creator=creator,
                hooks=input_hooks + hooks + list(spec.prediction_hooks)
        ) as session:
            while not session.should_stop():
                batch = session.run(predictions)
                if not yield_single_examples:
                    yield batch
                    continue
                for example in _examples(batch):
                    yield example


def _chosen(predictions, keys):
    if keys is None:
        return predictions
    if not isinstance(predictions, dict):
        raise model_fn_lib.EstimatorError(
            'predict_keys %s given, but the model_fn predicts a single tensor,'
            ' not a dict' % (keys,))
    keys = [keys] if isinstance(keys, str) else list(keys)
    missing = [k for k in keys if k not in predictions]
    if missing:
        raise model_fn_lib.EstimatorError(
            'predict_keys %s are not among the predictions (%s)' % (
                ', '.join(missing), ', '.join(sorted(predictions))))
    return {k: predictions[k] for k in keys}


def _examples(batch):
    """One example at a time from a batch (a dict of arrays, or an array)."""
    if not isinstance(batch, dict):
        for row in batch:
            yield row
        return
    sizes = set(len(v) for v in batch.values())
    if len(sizes) != 1:
        raise model_fn_lib.EstimatorError(
            'predictions of different batch sizes (%s) cannot be given one '
            'example at a time; pass yield_single_examples=False' %
            ', '.join('%s: %d' % (k, len(v)) for k, v in batch.items()))
    for i in range(sizes.pop()):
        yield {k: v[i] for k, v in batch.items()}

"""Estimator.evaluate: a checkpoint's metrics over input_fn's input.

As in TensorFlow 1.15: the model_fn's eval_metric_ops plus the mean loss
are updated batch by batch until the input ends or `steps` batches are
done, then read once ('Saving dict for global step 300: accuracy = 0.9,
global_step = 300, loss = 0.31') and written as summaries into
model_dir/eval (model_dir/eval_NAME), where TensorBoard shows them beside
the training curves.
"""

import os
import time

import tensorflow.compat.v1 as tf

from mnist_tf1.legacy.estimator import model_fn as model_fn_lib


def eval_dir(model_dir, name=None):
    """Where an evaluation's events go."""
    return os.path.join(model_dir, 'eval' if not name else 'eval_' + name)


def evaluate(estimator, input_fn, steps, hooks, checkpoint_path, name):
    """Estimator.evaluate(); returns {metric: value, 'global_step': N}."""
    if steps is not None and steps <= 0:
        raise model_fn_lib.EstimatorError(
            'evaluate: steps must be > 0, given: %s' % steps)
    hooks = model_fn_lib.check_hooks(hooks)
    checkpoint_path = checkpoint_path or estimator.latest_checkpoint()
    if not checkpoint_path:
        tf.logging.info('Could not find trained model in model_dir: %s, '
                        'running initialization to evaluate.',
                        estimator.model_dir)
    with tf.Graph().as_default():
        spec, input_hooks, global_step = estimator.build(
            input_fn, model_fn_lib.ModeKeys.EVAL)
        metrics = dict(spec.eval_metric_ops)
        if 'loss' not in metrics:
            metrics['loss'] = tf.metrics.mean(spec.loss)
        update = tf.group(*[update for _, update in metrics.values()])
        values = {key: value for key, (value, _) in metrics.items()}
        values[tf.GraphKeys.GLOBAL_STEP] = global_step
        final = tf.train.FinalOpsHook(values)
        tf.logging.info('Starting evaluation at %s', _now())
        creator = tf.train.ChiefSessionCreator(
            scaffold=spec.scaffold, checkpoint_filename_with_path=(
                checkpoint_path), config=estimator.session_config())
        with tf.train.MonitoredSession(
                session_creator=creator,
                hooks=(input_hooks + hooks + list(spec.evaluation_hooks) +
                       [final])) as session:
            done = 0
            while not session.should_stop() and (steps is None or
                                                  done < steps):
                session.run(update)
                done += 1
                if steps and done % max(1, steps // 10) == 0:
                    tf.logging.info('Evaluation [%d/%d]', done, steps)
        tf.logging.info('Finished evaluation at %s', _now())
    results = final.final_ops_values
    write_results(eval_dir(estimator.model_dir, name), results)
    return results


def write_results(folder, results):
    """Logs the results as 1.15 did and writes them as scalar summaries."""
    step = int(results[tf.GraphKeys.GLOBAL_STEP])
    tf.logging.info('Saving dict for global step %d: %s', step, ', '.join(
        '%s = %s' % (k, v) for k, v in sorted(results.items())))
    summary = tf.Summary()
    for key, value in sorted(results.items()):
        if key != tf.GraphKeys.GLOBAL_STEP and getattr(value, 'size', 1) == 1:
            summary.value.add(tag=key, simple_value=float(value))
    writer = tf.summary.FileWriterCache.get(folder)
    writer.add_summary(summary, step)
    writer.flush()


def _now():
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())

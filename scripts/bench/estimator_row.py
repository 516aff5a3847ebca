"""The Estimator row (issue 22): TF 1.x's tf.estimator, as this project
provides it (mnist_tf1/legacy/estimator/), training the Mechanics 101
network against the project's own feed_dict loop.

The measurement (kind 'estimator', Mechanics 101 only): a model_fn of
mnist.inference and mnist.loss with the tutorial's gradient descent, fed by
numpy_input_fn (batch 100, shuffled, forever) with MNIST's uint8 pixels
(scaled to [0, 1] in the model_fn), default RunConfig, the
network's default steps; the time from the first step's hook call to the
end of train(), ÷ steps (the final checkpoint included, as in the own
loop's figure); then evaluate() over the test set. The whole worker process
(data, train, evaluate) gives the peak memory; model_dir's size is read at
the end.
"""

import os
import tempfile
import time

# Issue 22's targets: per step against the own loop without its
# evaluations (the Estimator's train() evaluates nothing), in one round;
# the whole train + evaluate process's peak memory.
TARGET_VS_OWN = 1.3
TARGET_RSS_MB = 900
MODEL = 'mechanics101'


def work_estimator(model, args, steps):
    """The Estimator's training and evaluation, in this worker process."""
    if model != MODEL:
        return {'skipped': 'only %s' % MODEL}
    import numpy as np
    import tensorflow.compat.v1 as tf
    from mnist_tf1 import mnist
    from mnist_tf1.legacy import estimator as tf_estimator
    from bench import project
    model_dir = tempfile.mkdtemp(prefix='estimator-', dir=args.tmp)
    from mnist_tf1 import input_data
    flag_values = project.project_flags(model, args, steps, model_dir)
    read = input_data.read_data_sets
    if args.smoke:
        read = project.smoke_reader(read)
    # The pixels as stored, 0-255 (uint8), scaled in the model_fn: float32
    # copies of the sets would take 203 MB more of the process's memory.
    data = read(args.data_dir, dtype=np.uint8, seed=args.seed,
                validation_size=flag_values.validation_size,
                source_url=args.data_source_url)

    def model_fn(features, labels, mode):
        images = tf.cast(features['images'], tf.float32) * (1.0 / 255)
        logits = mnist.inference(images, flag_values.hidden1,
                                 flag_values.hidden2)
        loss = mnist.loss(logits, labels)
        if mode == tf_estimator.ModeKeys.EVAL:
            return tf_estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops={
                'accuracy': tf.metrics.accuracy(labels, tf.argmax(logits, 1))})
        optimizer = tf.train.GradientDescentOptimizer(flag_values.learning_rate)
        return tf_estimator.EstimatorSpec(mode, loss=loss, train_op=(
            optimizer.minimize(loss, global_step=tf.train.get_global_step())))

    class FirstStep(tf.train.SessionRunHook):
        def before_run(self, run_context):
            if not hasattr(self, 'at'):
                self.at = (time.perf_counter(), time.process_time())

    first = FirstStep()
    estimator = tf_estimator.Estimator(model_fn, model_dir,
                                       config=tf_estimator.RunConfig(
                                           tf_random_seed=args.seed))
    train_input = tf_estimator.inputs.numpy_input_fn(
        {'images': data.train.images}, data.train.labels.astype(np.int32),
        batch_size=flag_values.batch_size, num_epochs=None, shuffle=True)
    estimator.train(train_input, hooks=[first],
                    max_steps=flag_values.max_steps)
    end, end_cpu = time.perf_counter(), time.process_time()
    results = estimator.evaluate(tf_estimator.inputs.numpy_input_fn(
        {'images': data.test.images}, data.test.labels.astype(np.int32),
        batch_size=flag_values.batch_size, num_epochs=1, shuffle=False))
    steps = flag_values.max_steps
    return {'steps': steps, 'batch_size': flag_values.batch_size,
            'step_us': (end - first.at[0]) / steps * 1e6,
            'step_cpu_us': (end_cpu - first.at[1]) / steps * 1e6,
            'test_precision': float(results['accuracy']),
            'model_dir_mb': _size_mb(model_dir)}


def _size_mb(folder):
    return sum(os.path.getsize(os.path.join(root, name))
               for root, _, names in os.walk(folder) for name in names) / 1e6


def summarize(per, median):
    """The row's medians and in-round ratios, or None (not measured)."""
    measured = [m for m in per if 'step_us' in m.get('estimator', {})]
    if not measured:
        return None
    return {
        'step_us': median(m['estimator']['step_us'] for m in measured),
        'vs_own': median(m['estimator']['step_us'] /
                         m['own']['step_us_without_eval'] for m in measured),
        'vs_own_cpu': median(m['estimator']['step_cpu_us'] /
                             m['own']['step_cpu_us'] for m in measured),
        'precision': median(m['estimator']['test_precision']
                            for m in measured),
        'rss_mb': median(m['estimator'].get('process_rss_mb')
                         for m in measured),
        'model_dir_mb': median(m['estimator']['model_dir_mb']
                               for m in measured),
    }


def rows(s, check, fmt_us, fmt_x, fmt_p):
    """The table's rows for the Estimator, or [] when it was not measured."""
    e = s.get('estimator')
    if not e:
        return []
    return [
        ('tf.estimator (model_fn + numpy_input_fn of uint8 pixels, default '
         'RunConfig), per step', fmt_us(e['step_us']) + fmt_p(e['precision']),
         fmt_x(e['vs_own']) + ' own without its evaluations (CPU time: %s '
         'own)' % fmt_x(e['vs_own_cpu']), '≤ %.1f ×' % TARGET_VS_OWN,
         check(e['vs_own'] <= TARGET_VS_OWN)),
        ('  train + evaluate, peak RSS; model_dir at the end',
         '%.0f MB; %.1f MB' % (e['rss_mb'] or 0, e['model_dir_mb']), '',
         '≤ %d MB' % TARGET_RSS_MB,
         check(e['rss_mb'] is not None and e['rss_mb'] <= TARGET_RSS_MB)),
    ]

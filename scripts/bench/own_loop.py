"""The project's own training loop, as the training program runs it, timed
from inside (in a worker process)."""

import tempfile
import time

from bench import project


class Stopwatch(object):
    """Adds up the time spent in some functions, by bucket, while active.

    Wraps attributes (module functions, class methods) in place and puts them
    back on exit; the wrapper costs well under a microsecond a call.
    """

    def __init__(self, targets):
        # targets: [(bucket, owner, attribute name)]
        self.targets = targets
        self.seconds = {bucket: 0.0 for bucket, _, _ in targets}
        self.calls = {bucket: 0 for bucket, _, _ in targets}
        self.first_call = {}
        self.first_call_cpu = {}
        self._saved = []

    def _wrap(self, bucket, function):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            if bucket not in self.first_call:
                self.first_call[bucket] = start
                self.first_call_cpu[bucket] = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[bucket] += time.perf_counter() - start
                self.calls[bucket] += 1
        return timed

    def __enter__(self):
        for bucket, owner, name in self.targets:
            function = getattr(owner, name)
            self._saved.append((owner, name, owner.__dict__.get(name)))
            setattr(owner, name, self._wrap(bucket, function))
        return self

    def __exit__(self, *unused_exc):
        for owner, name, original in reversed(self._saved):
            if original is None:
                delattr(owner, name)
            else:
                setattr(owner, name, original)


def work_own(model, args, steps, steps_per_run=1):
    """The project's loop, as the CLI runs it, timed from inside.

    The loop's time runs from the first batch drawn (fill_feed_dict's call,
    or with --steps_per_run=K > 1 the first next_batch_indices call, which
    draws the indices the in-graph loop gathers) to the end of run_training;
    within it, the time spent feeding, evaluating, saving checkpoints and
    writing summaries is added up apart, which leaves the training steps'
    Session.run calls (and the loop's own bookkeeping).
    """
    import tensorflow.compat.v1 as tf
    from mnist_tf1 import fully_connected_feed as ffd
    from mnist_tf1 import input_data
    log_dir = tempfile.mkdtemp(prefix='own-', dir=args.tmp)
    flag_values = project.project_flags(model, args, steps, log_dir,
                                        steps_per_run)
    writer = tf.summary.FileWriter  # The class, whose methods are timed.
    precisions = []

    def record_eval(*a, **k):
        precisions.append(do_eval(*a, **k))
        return precisions[-1]

    do_eval = ffd.do_eval
    read_data_sets = input_data.read_data_sets
    if args.smoke:
        input_data.read_data_sets = project.smoke_reader(read_data_sets)
    ffd.do_eval = record_eval
    if steps_per_run == 1:
        feeding = ('feeding', ffd, 'fill_feed_dict')
    else:
        feeding = ('feeding', input_data.DataSet, 'next_batch_indices')
    targets = [feeding,
               ('evaluation', ffd, 'do_eval'),
               ('checkpoints', tf.train.Saver, 'save'),
               ('summaries', writer, 'add_summary'),
               ('summaries', writer, 'flush')]
    # TensorBoard's extras at each evaluation (confusion matrix, misclassified
    # digits) and at the end (projector), where the loop has them.
    board = ffd.run_summaries.RunSummaries
    targets += [('TensorBoard extras', board, 'add_evaluation'),
                ('TensorBoard extras', board, 'close')]
    stopwatch = Stopwatch(targets)
    try:
        with stopwatch:
            ffd.main([])
            end, end_cpu = time.perf_counter(), time.process_time()
    finally:
        ffd.do_eval = do_eval
        input_data.read_data_sets = read_data_sets
    steps = flag_values.max_steps
    loop_s = end - stopwatch.first_call['feeding']
    loop_cpu_s = end_cpu - stopwatch.first_call_cpu['feeding']
    per_step = {bucket: seconds / steps * 1e6
                for bucket, seconds in stopwatch.seconds.items()}
    per_step['training Session.run'] = (
        loop_s / steps * 1e6 - sum(per_step.values()))
    return {'steps': steps, 'batch_size': flag_values.batch_size,
            'steps_per_run': steps_per_run, 'loop_s': loop_s,
            'step_us': loop_s / steps * 1e6,
            'step_cpu_us': loop_cpu_s / steps * 1e6,
            'eval_in_loop_s': stopwatch.seconds['evaluation'],
            'step_us_without_eval': (
                (loop_s - stopwatch.seconds['evaluation']) / steps * 1e6),
            'breakdown_us_per_step': per_step,
            'calls': stopwatch.calls,
            'test_precision': precisions[-1] if precisions else None}

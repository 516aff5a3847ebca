"""The tf.layers row (issue 21): Mechanics 101's network written with
tf.layers (Keras 2, from tf_keras) against the same network written with
tf.Variable, both as TensorFlow 1.x programs under mnist-tf1-run.

The measurement (kind 'layers', Mechanics 101 only): layers_program.py run
twice, each in its own `python -m mnist_tf1.run_program` process, once per
way of writing the network, in an order that alternates from round to
round; each times its feed_dict loop from inside (wall and CPU time per
step, after its first steps). The ratio layers / variables is taken within
the round; the peak memory is each process's own (os.wait4).
"""

import os
import sys

# Issue 21's targets: the tf.layers network within 10 % of the tf.Variable
# one's per-step cost; each program's whole process under 900 MB.
TARGET_RATIO = (0.9, 1.1)
TARGET_RSS_MB = 900
MODEL = 'mechanics101'
PROGRAM = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       'layers_program.py')
WAYS = ('variables', 'layers')


def work_layers(model, args, steps):
    """Both programs, one after the other, from this worker process."""
    if model != MODEL:
        return {'skipped': 'only %s' % MODEL}
    import json
    from bench import conductor
    steps = steps or 2000
    ways = WAYS if os.getpid() % 2 else WAYS[::-1]
    result = {'steps': steps, 'order': list(ways)}
    for way in ways:
        argv = [sys.executable, '-m', 'mnist_tf1.run_program', PROGRAM,
                '--network=%s' % way, '--data_dir=%s' % args.data_dir,
                '--steps=%d' % steps, '--warm_up=%d' % min(100, steps // 5)]
        if args.data_source_url:
            argv.append('--source_url=%s' % args.data_source_url)
        log = os.path.join(args.tmp, 'layers-%s-%d.log' % (way, os.getpid()))
        _, rss, _ = conductor.run_process(argv, log, args.timeout)
        with open(log) as f:
            figures = json.loads(f.read().strip().splitlines()[-1])
        result[way] = {'step_us': figures['per_step_us'],
                       'step_cpu_us': figures['cpu_per_step_us'],
                       'test_precision': figures['test'], 'rss_mb': rss}
    return result


def summarize(per, median):
    """The row's medians and in-round ratios, or None (not measured)."""
    measured = [m['layers'] for m in per if 'layers' in m.get('layers', {})]
    if not measured:
        return None

    def ratio(key):
        return median(m['layers'][key] / m['variables'][key]
                      for m in measured)
    return {
        'step_us': median(m['layers']['step_us'] for m in measured),
        'variables_step_us': median(m['variables']['step_us']
                                    for m in measured),
        'vs_variables': ratio('step_us'),
        'vs_variables_cpu': ratio('step_cpu_us'),
        'precision': median(m['layers']['test_precision'] for m in measured),
        'rss_mb': max(max(m[w]['rss_mb'] for w in WAYS) for m in measured),
    }


def rows(s, check, fmt_us, fmt_x, fmt_p):
    """The table's rows for tf.layers, or [] when it was not measured."""
    r = s.get('layers')
    if not r:
        return []
    low, high = TARGET_RATIO
    return [
        ('tf.layers network under mnist-tf1-run (Keras 2), per step',
         fmt_us(r['step_us']) + fmt_p(r['precision']),
         '%s the tf.Variable one, %s (CPU time: %s)' % (
             fmt_x(r['vs_variables']), fmt_us(r['variables_step_us']),
             fmt_x(r['vs_variables_cpu'])),
         '%.2f-%.2f ×' % (low, high),
         check(low <= r['vs_variables'] <= high)),
        ('  either program under mnist-tf1-run, peak RSS',
         '%.0f MB' % r['rss_mb'], '', '≤ %d MB' % TARGET_RSS_MB,
         check(r['rss_mb'] <= TARGET_RSS_MB)),
    ]

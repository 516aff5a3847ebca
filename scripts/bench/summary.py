"""The report's summary: medians over the rounds, each ratio taken within a
round before its median is taken."""

import statistics

from bench import estimator_row
from bench import layers_row
from bench import plan


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _figure(per, run, field):
    """The median over the rounds of one run's figure."""
    return _median(m[run][field] for m in per)


def _breakdown(per, run):
    """Where a step of `run` goes: the median of each part."""
    parts = per[0][run]['breakdown_us_per_step']
    return {part: _median(m[run]['breakdown_us_per_step'][part]
                          for m in per) for part in parts}


def _ratio(num, den, per):
    """The median over the rounds of num(m) / den(m), m a round's figures."""
    return _median(num(m) / den(m) for m in per)


def summarize(rounds, names):
    """Medians over the rounds; ratios taken within each round first."""
    summary = {'import_s': _median(r['import']['wall_s'] for r in rounds),
               'import_cpu_s': _median(r['import'].get('cpu_s')
                                       for r in rounds),
               'import_rss_mb': _median(r['import']['rss_mb']
                                        for r in rounds),
               'models': {}}
    for name in names:
        per = [r['models'][name] for r in rounds]
        s = _network(per, rounds)
        s['estimator'] = estimator_row.summarize(per, _median)
        s['layers'] = layers_row.summarize(per, _median)
        s['steps_per_run'] = {str(k): _in_graph(per, k)
                              for k in plan.STEPS_PER_RUN}
        # The bar of issue 15 is judged at the best K.
        s['best_steps_per_run'] = min(
            plan.STEPS_PER_RUN,
            key=lambda k: s['steps_per_run'][str(k)]['own_vs_bare'])
        summary['models'][name] = s
    return summary


def _in_graph(per, k):
    """The own loop and the whole run with --steps_per_run=k, against the
    floor and against the whole run with K = 1."""
    own, run = 'own%d' % k, 'run%d' % k
    return {
        'own_step_us': _figure(per, own, 'step_us'),
        'own_vs_bare': _ratio(lambda m: m[own]['step_us'],
                              lambda m: m['bare']['step_us'], per),
        'own_vs_bare_cpu': _ratio(lambda m: m[own]['step_cpu_us'],
                                  lambda m: m['bare']['step_cpu_us'], per),
        'own_vs_k1': _ratio(lambda m: m[own]['step_us'],
                            lambda m: m['own']['step_us'], per),
        'own_breakdown_us_per_step': _breakdown(per, own),
        'run_s': _figure(per, run, 'wall_s'),
        'run_cpu_s': _median(m[run].get('cpu_s') for m in per),
        'run_rss_mb': _figure(per, run, 'rss_mb'),
        'run_vs_k1': _ratio(lambda m: m[run]['wall_s'],
                            lambda m: m['run']['wall_s'], per),
        'precision': {
            'own': _figure(per, own, 'test_precision'),
            'run': _figure(per, run, 'test_precision'),
        },
    }


def _network(per, rounds):
    """The figures of one network with K = 1 (the tutorial's loop)."""
    keras_ok = all('step_us' in m['keras'] for m in per)
    fixed_ok = all('step_us' in m.get('bare1', {}) and
                   'step_us' in m.get('keras1', {}) for m in per)

    def ratio(num, den):
        return _ratio(num, den, per)

    steps = per[0]['bare']['steps']
    return {
        'steps': steps,
        'batch_size': per[0]['bare']['batch_size'],
        'own_step_us': _figure(per, 'own', 'step_us'),
        'own_step_us_without_eval': _figure(per, 'own',
                                            'step_us_without_eval'),
        'own_eval_in_loop_s': _figure(per, 'own', 'eval_in_loop_s'),
        'own_breakdown_us_per_step': _breakdown(per, 'own'),
        # CPU time (all threads) per step: less swayed by a busy
        # machine than wall time, though not immune to it.
        'own_vs_bare_cpu': ratio(lambda m: m['own']['step_cpu_us'],
                                 lambda m: m['bare']['step_cpu_us']),
        'own_without_eval_vs_bare': ratio(
            lambda m: m['own']['step_us_without_eval'],
            lambda m: m['bare']['step_us']),
        'bare_step_us': _figure(per, 'bare', 'step_us'),
        # The floor doing the tutorial's evaluations too (bare): what
        # the loop adds is then its feeding, summaries, checkpoints and
        # evaluation bookkeeping.
        'bare_step_with_eval_us': _median(
            m['bare'].get('step_with_eval_us') for m in per),
        'bare_eval_in_loop_s': _median(
            m['bare'].get('eval_in_loop_s') for m in per),
        'own_vs_bare_with_eval': _median(
            m['own']['step_us'] / m['bare']['step_with_eval_us']
            for m in per if 'step_with_eval_us' in m['bare']),
        # A batch of one: the fixed cost of a step, for the floor and
        # for Keras; the rest of a full batch's step is arithmetic.
        'bare1_step_us': (_figure(per, 'bare1', 'step_us')
                          if fixed_ok else None),
        'keras1_step_us': (_figure(per, 'keras1', 'step_us')
                           if fixed_ok else None),
        'keras_vs_bare': (ratio(lambda m: m['keras']['step_us'],
                                lambda m: m['bare']['step_us'])
                          if keras_ok else None),
        'keras1_vs_bare1': (ratio(lambda m: m['keras1']['step_us'],
                                  lambda m: m['bare1']['step_us'])
                            if keras_ok and fixed_ok else None),
        # Keras against a loop that would cost nothing but the
        # arithmetic of a full batch less that of a batch of one (an
        # upper bound: a batch of one still updates every weight).
        'keras_vs_arithmetic': (ratio(
            lambda m: m['keras']['step_us'],
            lambda m: max(m['bare']['step_us'] - m['bare1']['step_us'],
                          1e-9)) if keras_ok and fixed_ok else None),
        'keras_step_us': (_figure(per, 'keras', 'step_us')
                          if keras_ok else None),
        'own_vs_bare': ratio(lambda m: m['own']['step_us'],
                             lambda m: m['bare']['step_us']),
        'keras_vs_own': (ratio(lambda m: m['keras']['step_us'],
                               lambda m: m['own']['step_us'])
                         if keras_ok else None),
        'load_s': _figure(per, 'data', 'load_s'),
        'eval_s': _figure(per, 'data', 'eval_s'),
        'eval_first_s': _figure(per, 'data', 'eval_first_s'),
        'eval_examples': per[0]['data']['eval_examples'],
        'run_s': _figure(per, 'run', 'wall_s'),
        'run_rss_mb': _figure(per, 'run', 'rss_mb'),
        'run_cpu_s': _median(m['run'].get('cpu_s') for m in per),
        # The whole run against what it cannot avoid: importing
        # TensorFlow and the floor's loop for the same number of steps.
        'run_vs_floor': _median(
            m['run']['wall_s'] /
            (r['import']['wall_s'] +
             m['bare']['step_us'] * m['run']['steps'] * 1e-6)
            for m, r in zip(per, rounds)),
        'run_steps': per[0]['run']['steps'],
        'precision': {
            'own': _figure(per, 'own', 'test_precision'),
            'bare': _figure(per, 'bare', 'test_precision'),
            'keras': (_figure(per, 'keras', 'test_precision')
                      if keras_ok else None),
            'run': _figure(per, 'run', 'test_precision'),
        },
    }

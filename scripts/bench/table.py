"""The report as a markdown table (for the terminal and docs/benchmark.md)."""

from bench import estimator_row
from bench import layers_row
from bench import plan


def _fmt_us(v):
    return '—' if v is None else '{:,.0f} µs'.format(v)


def _fmt_s(v):
    return '—' if v is None else '%.3f s' % v


def _fmt_x(v):
    return '—' if v is None else '%.2f ×' % v


def _fmt_cpu(v):
    # CPU seconds next to wall seconds: how much a busy machine took away.
    return '' if v is None else ' (CPU %.1f s)' % v


def _fmt_p(v):
    return '' if v is None else ' (test %.4f)' % v


def _check(ok):
    return '' if ok is None else ('met' if ok else '**missed**')


def _header(report):
    """The machine line and the table's first rows (the import)."""
    summary = report['summary']
    machine = report['machine']
    load = report['load_average']
    return [
        '%s, %d CPU cores, %s; TensorFlow %s; %d round%s%s; load average '
        '%.2f at start, %.2f at end.' % (
            machine['cpu'], machine['cores'], report['device'],
            report['tensorflow'], report['rounds'],
            '' if report['rounds'] == 1 else 's',
            ' (--smoke: tiny, not a measurement)' if report['smoke'] else '',
            load['start'][0], load['end'][0]),
        '',
        '| network | measure | median | ratio | target | |',
        '|---|---|---|---|---|---|',
        '| (all) | `%s` (TensorFlow), process wall | %s%s '
        '| | | |' % (plan.IMPORT_STATEMENT, _fmt_s(summary['import_s']),
                     _fmt_cpu(summary.get('import_cpu_s'))),
        '| (all) | `%s`, peak RSS | %.0f MB | | | |'
        % (plan.IMPORT_STATEMENT, summary['import_rss_mb']),
    ]


def markdown(report, names=None):
    """The report's table, in markdown (for the terminal and the README).

    Args:
      report: what measure() returned (or its JSON file, loaded).
      names: the networks to show (default: all in the report).
    """
    summary = report['summary']
    lines = _header(report)

    def check(ok):
        # A smoke run is too small for its figures to meet or miss anything.
        return '' if report['smoke'] else _check(ok)

    for name, s in summary['models'].items():
        if names and name not in names:
            continue
        for measure_, value, ratio_, target, verdict in filter(
                None, _rows(report, name, s, check)):
            lines.append('| %s | %s | %s | %s | %s | %s |' %
                         (name, measure_, value, ratio_, target, verdict))
    return '\n'.join(lines)


def _rows(report, name, s, check):
    """A network's rows: (measure, median, ratio, target, verdict) or None
    for a row without figures; K = 1 first, each --steps_per_run after."""
    rows = _tutorial_rows(report, name, s, check)
    # Beside the own loop's rows (the first four), and after the whole run's.
    return (rows[:4] + _in_graph_rows(s, check, 'own') + rows[4:] +
            _in_graph_rows(s, check, 'run') +
            estimator_row.rows(s, check, _fmt_us, _fmt_x, _fmt_p) +
            layers_row.rows(s, check, _fmt_us, _fmt_x, _fmt_p))


def _tutorial_rows(report, name, s, check):
    """The rows of the tutorial's loop (K = 1: its own four first), the
    floor, the peer, the data, the whole run."""
    capped = report['capped'][name]
    steps = '%d steps%s, batch %d' % (
        s['steps'], ' (capped)' if capped else '', s['batch_size'])
    return [
        ('own training loop, per step (%s; evals, checkpoints, '
         'summaries, prints included)' % steps,
         _fmt_us(s['own_step_us']) + _fmt_p(s['precision']['own']),
         _fmt_x(s['own_vs_bare']) + ' bare (CPU time: %s)'
         % _fmt_x(s['own_vs_bare_cpu']),
         '≤ %.2f ×' % plan.TARGET_OWN_VS_BARE,
         check(s['own_vs_bare'] <= plan.TARGET_OWN_VS_BARE)),
        ('  against the floor doing the same evaluations, bare (%s in '
         'all)' % _fmt_s(s.get('bare_eval_in_loop_s')),
         _fmt_us(s.get('bare_step_with_eval_us')),
         _fmt_x(s.get('own_vs_bare_with_eval')) + ' this', '', '')
        if s.get('own_vs_bare_with_eval') else None,
        ('  the same without its evaluations (do_eval: %s in all)'
         % _fmt_s(s['own_eval_in_loop_s']),
         _fmt_us(s['own_step_us_without_eval']),
         _fmt_x(s['own_without_eval_vs_bare']) + ' bare', '', ''),
        ('  where a step goes: ' + ', '.join(
            '%s %s' % (part, _fmt_us(us)) for part, us in
            s['own_breakdown_us_per_step'].items()), '', '', '', ''),
        ('bare Session.run floor, per step',
         _fmt_us(s['bare_step_us']) + _fmt_p(s['precision']['bare']),
         '', '', ''),
        ('  the same with a batch of 1 (what a step costs besides its '
         'arithmetic)', _fmt_us(s.get('bare1_step_us')), '', '', '')
        if s.get('bare1_step_us') else None,
        ('tf.keras Model.fit, per step',
         _fmt_us(s['keras_step_us']) + _fmt_p(s['precision']['keras']),
         (_fmt_x(s['keras_vs_own']) + ' own' +
          ('; %s bare' % _fmt_x(s['keras_vs_bare'])
           if s.get('keras_vs_bare') else ''))
         if s['keras_vs_own'] else 'no Keras version',
         '≥ %.0f ×' % plan.TARGET_KERAS_VS_OWN,
         check(None if s['keras_vs_own'] is None
                else s['keras_vs_own'] >= plan.TARGET_KERAS_VS_OWN)),
        ('  the same with a batch of 1',
         _fmt_us(s.get('keras1_step_us')),
         _fmt_x(s.get('keras1_vs_bare1')) + ' bare\'s', '', '')
        if s.get('keras1_vs_bare1') else None,
        ('  against the floor\'s arithmetic alone (bare less its batch '
         'of 1): the most any loop could reach', '',
         _fmt_x(s.get('keras_vs_arithmetic')), '', '')
        if s.get('keras_vs_arithmetic') else None,
        ('loading the four files (read_data_sets)', _fmt_s(s['load_s']),
         '', '≤ %.1f s' % plan.TARGET_LOAD_S,
         check(s['load_s'] <= plan.TARGET_LOAD_S)),
        ('do_eval over train+validation+test (%s examples)'
         % '{:,}'.format(s['eval_examples']), _fmt_s(s['eval_s']),
         'first pass %s' % _fmt_s(s['eval_first_s']),
         '≤ %.1f s' % plan.TARGET_EVAL_S,
         check(s['eval_s'] <= plan.TARGET_EVAL_S)),
        ('whole default run%s, process start to exit'
         % (' (%d steps)' % s['run_steps'] if capped or report['smoke']
            else ''),
         _fmt_s(s['run_s']) + _fmt_cpu(s.get('run_cpu_s')) +
         _fmt_p(s['precision']['run']),
         _fmt_x(s['run_vs_floor']) + ' (import + bare loop)',
         '≤ %.1f ×' % plan.TARGET_RUN_VS_FLOOR,
         check(s['run_vs_floor'] <= plan.TARGET_RUN_VS_FLOOR)),
        ('whole default run, peak RSS', '%.0f MB' % s['run_rss_mb'], '',
         '≤ %d MB' % plan.TARGET_RSS_MB,
         check(s['run_rss_mb'] <= plan.TARGET_RSS_MB)),
    ]


def _in_graph_rows(s, check, part):
    """The rows of --steps_per_run=K for each K: the own loop's ('own') or
    the whole run's ('run'). The targets are judged at the best K."""
    rows = []
    for k in sorted(s['steps_per_run'], key=int):
        g = s['steps_per_run'][k]
        best = int(k) == s['best_steps_per_run']
        if part == 'own':
            rows += [
                ('own loop with --steps_per_run=%s, per step (evals, '
                 'checkpoints, summaries, prints included)' % k,
                 _fmt_us(g['own_step_us']) + _fmt_p(g['precision']['own']),
                 '%s bare (CPU time: %s); %s K=1' % (
                     _fmt_x(g['own_vs_bare']), _fmt_x(g['own_vs_bare_cpu']),
                     _fmt_x(g['own_vs_k1'])),
                 '≤ %.2f × (best K)' % plan.TARGET_IN_GRAPH_VS_BARE
                 if best else '',
                 check(g['own_vs_bare'] <= plan.TARGET_IN_GRAPH_VS_BARE)
                 if best else ''),
                ('  where a step goes: ' + ', '.join(
                    '%s %s' % (name, _fmt_us(us)) for name, us in
                    g['own_breakdown_us_per_step'].items()), '', '', '', '')]
        else:
            rows += [
                ('whole default run with --steps_per_run=%s, process start '
                 'to exit' % k,
                 _fmt_s(g['run_s']) + _fmt_cpu(g.get('run_cpu_s')) +
                 _fmt_p(g['precision']['run']),
                 '%s K=1\'s run' % _fmt_x(g['run_vs_k1']),
                 '≤ %.1f ×' % plan.TARGET_RUN_VS_K1 if best else '',
                 check(g['run_vs_k1'] <= plan.TARGET_RUN_VS_K1)
                 if best else ''),
                ('whole default run with --steps_per_run=%s, peak RSS' % k,
                 '%.0f MB' % g['run_rss_mb'], '',
                 '≤ %d MB' % plan.TARGET_RSS_MB,
                 check(g['run_rss_mb'] <= plan.TARGET_RSS_MB))]
    return rows

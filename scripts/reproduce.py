#!/usr/bin/env python3
"""Runs every tutorial network with its tutorial's settings and tables the
results against the published figures.

Each network trains in its own process through the real program
(`python -m mnist_tf1.fully_connected_feed --model=NAME`, the code behind
`mnist-tf1-train`), on the real MNIST, with the network's presets and
nothing else. The table (network, steps, published, ours, bar, wall time,
time per step) goes to stdout, to OUTPUT.md and to OUTPUT.json; each run's
own output is kept in LOG_ROOT/NAME/stdout.txt. Exits 1 when a run fails or
misses its bar.

    scripts/reproduce.py                          # all networks (about 30 min
                                                  # on 2 cores, mostly deep_cnn)
    scripts/reproduce.py --networks=softmax,three_layer --output=/tmp/repro
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

# (label, --model, extra flags, published test figure, our bar, source).
RUNS = [
    ('mechanics101', 'mechanics101', [], 0.8975, 0.89,
     'Mechanics 101, precision @ 1 on test after 2,000 steps'),
    ('softmax', 'softmax', [], None, None,
     'LTFN 1 published only the cost (12.7 -> 3.3), no accuracy'),
    ('dropout_mlp', 'dropout_mlp', [], 0.9613, 0.955,
     '"computational framework" tutorial, final test accuracy'),
    ('three_layer', 'three_layer', [], 0.98, 0.975,
     'three-layer tutorial, "approximately 98%"'),
    ('three_layer --clipped_loss', 'three_layer', ['--clipped_loss'], 0.98,
     0.975, 'the same, trained on the published clipped cost'),
    ('deep_cnn', 'deep_cnn', [], 0.992, 0.99,
     'mnist_deep.py, "about 99.2%"'),
]

STEP_LINE = re.compile(r'^Step (\d+): loss = \S+ \((\d+\.\d+) sec\)$')
TEST_EVAL = re.compile(r'Test Data Eval:\n  Num examples: (\d+)  '
                       r'Num correct: (\d+)  Precision @ 1: (\d\.\d+)')


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        '--networks', default=','.join(label for label, *_ in RUNS),
        help='comma-separated rows to run, from: %s' %
        ', '.join(repr(label) for label, *_ in RUNS))
    parser.add_argument('--output', default='reproduction',
                        help='writes OUTPUT.md and OUTPUT.json')
    parser.add_argument('--log_root', default=None,
                        help='where each run keeps its checkpoints, events '
                        'and stdout.txt (default: a new temporary folder)')
    parser.add_argument('--input_data_dir',
                        default='/tmp/tensorflow/mnist/input_data',
                        help='where MNIST is (or is downloaded to)')
    parser.add_argument('--data_source_url', default=None,
                        help='passed on to the program (see its --help)')
    parser.add_argument('--seed', type=int, default=None,
                        help='passed on to the program: fixes weights and '
                        'batch order')
    args = parser.parse_args(argv)
    known = {label for label, *_ in RUNS}
    args.networks = [n.strip() for n in args.networks.split(',') if n.strip()]
    unknown = [n for n in args.networks if n not in known]
    if unknown:
        parser.error('unknown network %r; choose from %s' %
                     (unknown[0], ', '.join(sorted(known))))
    return args


def run_one(label, model, extra, args, log_root):
    """Trains one network in its own process; returns its table row."""
    log_dir = os.path.join(log_root, label.replace(' --', '-'))
    command = [sys.executable, '-m', 'mnist_tf1.fully_connected_feed',
               '--model=%s' % model, '--log_dir=%s' % log_dir,
               '--input_data_dir=%s' % args.input_data_dir] + extra
    if args.data_source_url:
        command.append('--data_source_url=%s' % args.data_source_url)
    if args.seed is not None:
        command.append('--seed=%d' % args.seed)
    print('Running: %s' % ' '.join(command[1:]), file=sys.stderr)
    sys.stderr.flush()
    start = time.time()
    result = subprocess.run(command, capture_output=True, text=True)
    wall = time.time() - start
    os.makedirs(log_dir, exist_ok=True)
    with open(os.path.join(log_dir, 'stdout.txt'), 'w') as f:
        f.write(result.stdout)
    row = {'network': label, 'command': ' '.join(command[1:]),
           'returncode': result.returncode, 'wall_s': round(wall, 1)}
    tests = TEST_EVAL.findall(result.stdout)
    step_times = [float(m.group(2)) for m in
                  map(STEP_LINE.match, result.stdout.splitlines()) if m]
    if result.returncode != 0 or not tests:
        row['error'] = (result.stderr.strip().splitlines() or ['no output'])[-1]
        return row
    row['steps'] = _checkpoint_step(log_dir)
    row['test_accuracy'] = float(tests[-1][2])
    row['test_correct'] = int(tests[-1][1])
    row['ms_per_step_wall'] = round(1000.0 * wall / row['steps'], 2)
    # Step lines time one training step each (skip step 0: graph warm-up).
    row['ms_per_step_train'] = round(
        1000.0 * statistics.median(step_times[1:] or step_times), 1)
    return row


def _checkpoint_step(log_dir):
    """The global step of the run's last checkpoint (its step count)."""
    # The 'checkpoint' index file TensorFlow writes beside the checkpoints:
    #   model_checkpoint_path: "/.../model.ckpt-2000"
    with open(os.path.join(log_dir, 'checkpoint')) as f:
        first = f.readline()
    return int(re.search(r'-(\d+)"', first).group(1))


def check(row, bar):
    if 'error' in row:
        return 'FAILED'
    if bar is None:
        return 'reported'
    return 'pass' if row['test_accuracy'] >= bar else 'MISSED'


def markdown(rows):
    lines = [
        '| network | steps | published | ours (test) | bar | result | '
        'wall time | per step (wall / steps) | per training step |',
        '|---|---:|---:|---:|---:|---|---:|---:|---:|',
    ]
    for row in rows:
        if 'error' in row:
            lines.append('| %s | | | | | FAILED: %s | %.0f s | | |' %
                         (row['network'], row['error'], row['wall_s']))
            continue
        lines.append('| %s | %d | %s | %.4f | %s | %s | %.0f s | %.2f ms | '
                     '%.1f ms |' % (
                         row['network'], row['steps'],
                         '%.4f' % row['published'] if row['published'] else
                         '—', row['test_accuracy'],
                         '≥ %.3f' % row['bar'] if row['bar'] else '—',
                         row['result'], row['wall_s'],
                         row['ms_per_step_wall'], row['ms_per_step_train']))
    return '\n'.join(lines) + '\n'


def main(argv=None):
    args = parse_args(argv)
    log_root = args.log_root or tempfile.mkdtemp(prefix='mnist_tf1_repro_')
    rows = []
    started = time.time()
    for label, model, extra, published, bar, source in RUNS:
        if label not in args.networks:
            continue
        row = run_one(label, model, extra, args, log_root)
        row.update(published=published, bar=bar, source=source)
        row['result'] = check(row, bar)
        rows.append(row)
        print(markdown(rows[-1:]).splitlines()[-1], file=sys.stderr)
    total = time.time() - started
    table = markdown(rows)
    print(table, end='')
    print('Total: %.0f s; logs in %s' % (total, log_root))
    with open(args.output + '.md', 'w') as f:
        f.write(table)
        f.write('\nTotal: %.0f s (%s, %d CPUs as os.cpu_count() sees them, '
                '1-minute load average %.2f at the end).\n' %
                (total, time.strftime('%Y-%m-%d %H:%M'), os.cpu_count(),
                 os.getloadavg()[0]))
    with open(args.output + '.json', 'w') as f:
        json.dump({'rows': rows, 'total_s': round(total, 1),
                   'cpu_count': os.cpu_count(),
                   'load_average_end': os.getloadavg()}, f, indent=1)
        f.write('\n')
    failed = [row['network'] for row in rows
              if row['result'] in ('FAILED', 'MISSED')]
    if failed:
        print('Below the bar or failed: %s' % ', '.join(failed),
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
"""Benchmarks mnist-tf1 against its floor and its peer, on the real MNIST.

For every network in networks.NETWORKS (Mechanics 101 first) it measures, in
one run, with the same data and batch size:

  own     the project's training loop (fully_connected_feed.run_training) at
          the network's default flags, summaries, prints, checkpoints and
          evaluations included: wall time from the first fill_feed_dict call
          to the end of the loop, divided by the number of steps;
  bare    the floor: a bare Session.run loop on the same graph (built by the
          same network functions, in a session with the same settings), fed
          by plain numpy slices of images converted to float32 beforehand,
          nothing else; at the steps where the loop evaluates, it also runs
          the same evaluations bare, timed apart (the floor "doing the same
          evaluations");
  keras   tf.keras Model.fit on the same architecture, optimizer and batch
          size (accuracy metric on), the peer users would pick instead; this
          script is the one place in the project where tf.keras appears;
  bare1, keras1
          the floor and Keras with batches of one example: what a
          step costs besides its arithmetic;
  load    input_data.read_data_sets on the four verified files;
  eval    do_eval over train + validation + test (70,000 examples);
  run     the whole default run (`python -m mnist_tf1.fully_connected_feed`,
          only the data and log folders set), process start to exit, and its
          peak resident memory, next to importing the training program
          (TensorFlow and the package) alone;
  own10, own100, run10, run100
          the own loop and the whole run again with --steps_per_run=10 and
          100: several training steps per Session.run, the training set in
          the graph (issue 15), against the same floor and the run with K=1.

Each measurement runs in its own process; the rounds are interleaved (every
round measures everything once, in a rotating order) and the table gives
medians over the rounds, with each ratio taken within a round and the median
of those ratios reported, so that a busy machine slows both sides alike.

    python scripts/benchmark.py                  # 3 rounds, all networks
    python scripts/benchmark.py --models=mechanics101 --rounds=5
    python scripts/benchmark.py --smoke          # tiny, for CI: checks it runs

The table (markdown) goes to stdout, everything measured to --output (JSON).
The parts are in scripts/bench/ (see its __init__.py).
MNIST comes through the project's own download code, from --data_source_url
(or $MNIST_TF1_DATA_SOURCE_URL, else the usual mirrors).
"""

import argparse
import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

# pylint: disable=g-import-not-at-top  (after the checkout is on the path)
from bench import conductor
from bench import plan
from bench import table


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--rounds', type=int, default=3,
                        help='interleaved rounds (medians over them)')
    parser.add_argument('--models', default='',
                        help='comma-separated networks (default: all of '
                        'networks.NETWORKS)')
    parser.add_argument('--step_cap', type=int, default=plan.DEFAULT_STEP_CAP,
                        help='at most this many training steps per run, for '
                        'the slow networks (default %(default)s: Mechanics '
                        '101 runs its full 2,000)')
    parser.add_argument('--output', default='benchmark.json',
                        help='where to write the JSON report')
    parser.add_argument('--smoke', action='store_true',
                        help='tiny version of everything (checks it works; '
                        'the figures mean nothing)')
    parser.add_argument('--data_source_url',
                        default=os.environ.get('MNIST_TF1_DATA_SOURCE_URL'),
                        help='where MNIST is downloaded from (default: '
                        '$MNIST_TF1_DATA_SOURCE_URL, else the mirrors)')
    parser.add_argument('--input_data_dir', default=None,
                        help='folder with (or for) the four MNIST files '
                        '(default: a temporary folder)')
    parser.add_argument('--seed', type=int, default=1,
                        help='seed of the weights and batch order')
    parser.add_argument('--timeout', type=float, default=1800,
                        help='seconds any one process may take')
    parser.add_argument('--profile', metavar='DIR',
                        help='run the in-process measurements under cProfile '
                        'and keep the stats in DIR (slows them down: for '
                        'finding where the time goes)')
    parser.add_argument('--table', metavar='JSON',
                        help='only print the table of an earlier --output '
                        'file (measures nothing; --models picks rows)')
    parser.add_argument('--keep', action='store_true',
                        help='keep the temporary files (logs of each process)')
    # Internal: the worker processes.
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    parser.add_argument('--result', help=argparse.SUPPRESS)
    parser.add_argument('--data_dir', help=argparse.SUPPRESS)
    parser.add_argument('--tmp', help=argparse.SUPPRESS)
    parser.add_argument('--steps', type=json.loads, help=argparse.SUPPRESS)
    parser.add_argument('--cli_args', type=json.loads,
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.step_cap < 1:
        parser.error('--rounds and --step_cap must be at least 1')
    if args.smoke and args.rounds == 3:
        args.rounds = 1
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        from bench import worker  # pylint: disable=g-import-not-at-top
        worker.worker_main(args)
        return
    if args.table:
        with open(args.table) as f:
            print(table.markdown(json.load(f),
                           args.models.split(',') if args.models else None))
        return
    try:
        report = conductor.measure(args)
    except conductor.ProcessFailed as e:
        sys.exit('benchmark: a measurement failed: %s' % e)
    # The measurements are saved first: they took long to make.
    tmp_output = args.output + '.tmp'
    with open(tmp_output, 'w') as f:
        json.dump(report, f, indent=1)
    os.replace(tmp_output, args.output)
    print(table.markdown(report))
    conductor.say('Wrote %s (%.0f s).' % (args.output, report['seconds']))


if __name__ == '__main__':
    main()

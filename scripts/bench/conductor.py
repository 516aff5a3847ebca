"""The conductor: starts the worker processes and the whole runs, in
interleaved rounds, and gathers what they measured into the report.

Each measurement runs in its own process; every round measures everything
once, in an order that rotates from round to round, so that a busy machine
slows both sides of a ratio alike.
"""

import concurrent.futures
import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from bench import plan
from bench import summary

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BENCHMARK = os.path.join(REPO, 'scripts', 'benchmark.py')

# Workers and the real CLI run on the checkout this script belongs to.
_ENV = dict(os.environ)
_ENV['PYTHONPATH'] = os.pathsep.join(
    [REPO] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep)
              if p])


class ProcessFailed(Exception):
    pass


def run_process(argv, log_path, timeout):
    """Runs argv; returns wall seconds, peak RSS (MB) and CPU seconds.

    os.wait4 gives the child's own resource usage (getrusage(RUSAGE_CHILDREN)
    would give the largest of all children so far). The CPU seconds (user +
    system, all threads) say how much of the wall time a busy machine took.
    """
    with open(log_path, 'wb') as log:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                env=_ENV, cwd=REPO)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        with open(log_path, 'rb') as f:
            tail = f.read()[-3000:].decode('utf-8', 'replace')
        raise ProcessFailed('%s exited with %d:\n%s' %
                            (' '.join(argv), proc.returncode, tail))
    # Linux reports ru_maxrss in KiB.
    return wall, usage.ru_maxrss / 1024.0, usage.ru_utime + usage.ru_stime


class Conductor(object):
    """Runs the worker processes and keeps what they measured."""

    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix='mnist-tf1-benchmark-')
        self.data_dir = args.input_data_dir or os.path.join(self.tmp, 'data')
        self._numbers = itertools.count(1)  # Unique file names (threads).

    def _common(self):
        argv = ['--data_dir=%s' % self.data_dir, '--tmp=%s' % self.tmp,
                '--seed=%d' % self.args.seed]
        if self.args.data_source_url:
            argv.append('--data_source_url=%s' % self.args.data_source_url)
        if self.args.smoke:
            argv.append('--smoke')
        if self.args.profile:
            argv.append('--profile=%s' % os.path.abspath(self.args.profile))
        return argv

    def worker(self, kinds, models, steps=None):
        result = os.path.join(self.tmp, 'result-%d.json' % next(self._numbers))
        argv = [sys.executable, BENCHMARK,
                '--worker=%s' % ','.join(kinds),
                '--models=%s' % ','.join(models),
                '--result=%s' % result] + self._common()
        if steps:
            argv.append('--steps=%s' % json.dumps(steps))
        wall, rss, cpu = run_process(argv, result + '.log', self.args.timeout)
        with open(result) as f:
            return json.load(f), wall, rss, cpu

    def python(self, code):
        """Wall time, peak RSS and CPU time of `python -c code`."""
        log = os.path.join(self.tmp, 'python-%d.log' % next(self._numbers))
        return run_process([sys.executable, '-c', code], log,
                           self.args.timeout)

    def cli(self, model, steps, steps_per_run=1):
        """The real training program, as a user runs it (with
        --steps_per_run=steps_per_run when above 1)."""
        log_dir = os.path.join(self.tmp, 'run-%d' % next(self._numbers))
        flags = ['--model=%s' % model, '--input_data_dir=%s' % self.data_dir,
                 '--log_dir=%s' % log_dir]
        if steps_per_run > 1:
            flags.append('--steps_per_run=%d' % steps_per_run)
        if steps is not None:
            flags.append('--max_steps=%d' % steps)
        if self.args.data_source_url:
            flags.append('--data_source_url=%s' % self.args.data_source_url)
        if self.args.smoke:
            argv = [sys.executable, BENCHMARK, '--worker=cli',
                    '--smoke', '--cli_args=%s' % json.dumps(flags)]
        else:
            argv = [sys.executable, '-m', 'mnist_tf1.fully_connected_feed'
                    ] + flags
        log = log_dir + '.log'
        wall, rss, cpu = run_process(argv, log, self.args.timeout)
        precision = None
        with open(log) as f:
            for line in f:
                if 'Precision @ 1:' in line:
                    precision = float(line.rsplit(':', 1)[1])
        shutil.rmtree(log_dir, ignore_errors=True)
        return {'wall_s': wall, 'rss_mb': rss, 'cpu_s': cpu,
                'test_precision': precision, 'steps': steps,
                'steps_per_run': steps_per_run}

    def close(self):
        if self.args.keep:
            print('Kept the work files in %s' % self.tmp, file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def say(text):
    print(text, file=sys.stderr, flush=True)


def _machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return {'cpu': cpu, 'cores': len(os.sched_getaffinity(0)),
            'python': platform.python_version(),
            'platform': platform.platform()}


def measure(args):
    """Runs every round; returns the JSON-able report."""
    conductor = Conductor(args)
    try:
        return _measure(conductor, args)
    finally:
        conductor.close()


def _measure(conductor, args):
    load_start = os.getloadavg()
    started = time.time()
    say('Preparing the data and listing the networks...')
    info = conductor.worker(['info'], ['-'])[0]
    names = list(info['networks'])
    if args.models:
        unknown = set(args.models.split(',')) - set(names)
        if unknown:
            raise SystemExit('unknown --models: %s (known: %s)' %
                             (', '.join(sorted(unknown)), ', '.join(names)))
        names = [n for n in names if n in args.models.split(',')]
    steps, capped = plan.plan_steps(info, args)
    rounds = []
    for r in range(args.rounds):
        say('Round %d of %d...' % (r + 1, args.rounds))
        record = {'import': {}, 'models': {name: {} for name in names}}
        if args.smoke:
            _smoke_round(conductor, names, steps, record)
        else:
            wall, rss, cpu = conductor.python(plan.IMPORT_STATEMENT)
            record['import'] = {'wall_s': wall, 'rss_mb': rss, 'cpu_s': cpu}
            for name in names:
                # Rotate the order from round to round, so that no kind
                # always runs first (or right after the heaviest one).
                kinds = plan.KINDS
                order = kinds[r % len(kinds):] + kinds[:r % len(kinds)]
                for kind in order:
                    say('  %s %s' % (name, kind))
                    cap = steps[name] if capped[name] else None
                    if kind.startswith('run'):
                        res = conductor.cli(name, cap,
                                            plan.steps_per_run(kind))
                        res['steps'] = steps[name]
                    else:
                        results, wall, rss, cpu = conductor.worker(
                            [kind], [name], {name: steps[name]})
                        res = results[0]
                        res.update(process_wall_s=wall, process_rss_mb=rss,
                                   process_cpu_s=cpu)
                    record['models'][name][kind] = res
        rounds.append(record)
    report = {
        'machine': _machine(), 'device': info['device'],
        'tensorflow': info['tensorflow'],
        'load_average': {'start': load_start, 'end': os.getloadavg()},
        'seconds': time.time() - started,
        'smoke': args.smoke, 'rounds': args.rounds,
        'steps': {n: steps[n] for n in names},
        'capped': {n: capped[n] for n in names},
        'step_cap': args.step_cap,
        'raw': rounds,
    }
    report['summary'] = summary.summarize(rounds, names)
    return report


def _smoke_round(conductor, names, steps, record):
    """Every row, quickly: a smoke run checks, it does not measure.

    One process for the in-process kinds of every network, one for Keras (it
    needs TF2 behaviour), the whole runs of every network (one per
    --steps_per_run); two at a time.
    """
    steps = {name: steps[name] for name in names}
    own = [kind for kind in plan.KINDS if kind.startswith('own')]
    whole = [kind for kind in plan.KINDS if kind.startswith('run')]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        workers = [pool.submit(conductor.worker, kinds, names, steps)
                   for kinds in (own + ['bare', 'bare1', 'data', 'estimator',
                                        'layers'],
                                 ['keras', 'keras1'])]
        runs = {(name, kind): pool.submit(conductor.cli, name, steps[name],
                                          plan.steps_per_run(kind))
                for name in names for kind in whole}
        imported = pool.submit(conductor.python, plan.IMPORT_STATEMENT)
        for worker in workers:
            for res in worker.result()[0]:
                record['models'][res['model']][res['kind']] = res
        for (name, kind), run in runs.items():
            record['models'][name][kind] = run.result()
        wall, rss, cpu = imported.result()
        record['import'] = {'wall_s': wall, 'rss_mb': rss, 'cpu_s': cpu}

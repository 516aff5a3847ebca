"""A worker process: runs the measurements --worker names and writes what
they measured to --result as JSON."""

import functools
import json
import os
import sys

from bench import estimator_row
from bench import floor
from bench import keras_peer
from bench import layers_row
from bench import own_loop
from bench import plan
from bench import project


def work_info(args):
    """Downloads/verifies the data once and describes what will be measured."""
    from mnist_tf1.platform import device
    from mnist_tf1 import input_data
    from mnist_tf1 import networks
    import tensorflow.compat.v1 as tf
    from absl import flags
    from mnist_tf1 import fully_connected_feed  # Defines the flags.
    del fully_connected_feed
    input_data.read_data_sets(args.data_dir,
                              source_url=args.data_source_url)
    listed = {}
    flag_values = flags.FLAGS
    flag_values(['benchmark'])
    for name in networks.NETWORKS:
        network = networks.get(name)
        defaults = {flag: flag_values[flag].default
                    for flag in ('max_steps', 'batch_size', 'learning_rate')}
        defaults.update(network.SPEC.defaults)
        listed[name] = {'max_steps': defaults['max_steps'],
                      'batch_size': defaults['batch_size'],
                      'one_hot': bool(network.SPEC.one_hot)}
    return {'networks': listed, 'device': device.describe(),
            'tensorflow': tf.__version__}


def _profiled(work, model, args, steps, name):
    """Runs a worker under cProfile; the stats go to --profile's folder.

    cProfile slows Python code down several times: its figures are for
    finding where the time goes, not for the table.
    """
    import cProfile
    os.makedirs(args.profile, exist_ok=True)
    profiler = cProfile.Profile()
    result = profiler.runcall(work, model, args, steps)
    path = os.path.join(args.profile, '%s-%d.prof' % (name, os.getpid()))
    profiler.dump_stats(path)
    result['profile'] = path
    return result


def work_cli(args):
    """The training program's own entry point, on smoke-sized data sets.

    Only for --smoke: the whole run is then the real program (the console
    script's run()) in its own process, evaluating SMOKE_EXAMPLES examples
    per set rather than 70,000, which the slow networks would take long over.
    """
    from mnist_tf1 import fully_connected_feed as ffd
    from mnist_tf1 import input_data
    input_data.read_data_sets = project.smoke_reader(
        input_data.read_data_sets)
    sys.argv = ['mnist-tf1-train'] + args.cli_args
    ffd.run()


WORKERS = {'own': own_loop.work_own, 'bare': floor.work_bare,
           'keras': keras_peer.work_keras, 'data': floor.work_data,
           'estimator': estimator_row.work_estimator,
           'layers': layers_row.work_layers,
           # A batch of one: what a step costs besides its arithmetic.
           'bare1': lambda *a: floor.work_bare(*a, batch_size=1),
           'keras1': lambda *a: keras_peer.work_keras(*a, batch_size=1)}
# The own loop with several steps per Session.run.
WORKERS.update({
    'own%d' % k: functools.partial(own_loop.work_own, steps_per_run=k)
    for k in plan.STEPS_PER_RUN})


def worker_main(args):
    """Runs the measurements named by --worker for each --models name."""
    results = []
    if args.worker == 'info':
        results = work_info(args)
    elif args.worker == 'cli':
        work_cli(args)
        return
    else:
        for model in args.models.split(','):
            for kind in args.worker.split(','):
                steps = args.steps.get(model) if args.steps else None
                if args.profile:
                    result = _profiled(WORKERS[kind], model, args, steps,
                                       '%s-%s' % (model, kind))
                else:
                    result = WORKERS[kind](model, args, steps)
                result.update(kind=kind, model=model)
                results.append(result)
    with open(args.result, 'w') as f:
        json.dump(results, f)

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
          peak resident memory, next to importing the training program (TensorFlow
          and the package) alone.

Each measurement runs in its own process; the rounds are interleaved (every
round measures everything once, in a rotating order) and the table gives
medians over the rounds, with each ratio taken within a round and the median
of those ratios reported, so that a busy machine slows both sides alike.

    python scripts/benchmark.py                  # 3 rounds, all networks
    python scripts/benchmark.py --models=mechanics101 --rounds=5
    python scripts/benchmark.py --smoke          # tiny, for CI: checks it runs

The table (markdown) goes to stdout, everything measured to --output (JSON).
MNIST comes through the project's own download code, from --data_source_url
(or $MNIST_TF1_DATA_SOURCE_URL, else the usual mirrors).
"""

import argparse
import concurrent.futures
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

# Workers and the real CLI run on the checkout this script belongs to.
_ENV = dict(os.environ)
_ENV['PYTHONPATH'] = os.pathsep.join(
    [REPO] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep)
              if p])

KINDS = ('own', 'bare', 'keras', 'data', 'run', 'bare1', 'keras1')
# What every training run starts with: the training program's import
# (TensorFlow, quietly, and the package). Importing mnist_tf1 alone no longer
# imports TensorFlow.
IMPORT_STATEMENT = 'import mnist_tf1.fully_connected_feed'
DEFAULT_STEP_CAP = 2000
SMOKE_STEPS = 20
# In --smoke, in-process measurements use the first examples of each set
# only, so that slow networks evaluate quickly; so does the whole run.
SMOKE_EXAMPLES = 500
EVAL_PASSES = 3

# Targets from issue 7 (ratios within one run, 2 CPU cores).
TARGET_OWN_VS_BARE = 1.10
TARGET_KERAS_VS_OWN = 5.0
TARGET_LOAD_S = 0.4
TARGET_EVAL_S = 0.3
TARGET_RUN_VS_FLOOR = 2.0
TARGET_RSS_MB = 900


# ---------------------------------------------------------------------------
# Workers: each runs in its own process and writes its results as JSON.
# ---------------------------------------------------------------------------

def _project_flags(model, args, steps, log_dir):
    """Parses the training program's absl flags as a default run would be."""
    from absl import flags
    from mnist_tf1 import fully_connected_feed  # Defines the flags.
    from mnist_tf1 import networks
    del fully_connected_feed  # Imported for its flags.
    flag_values = flags.FLAGS
    argv = ['benchmark', '--model=%s' % model,
            '--input_data_dir=%s' % args.data_dir,
            '--log_dir=%s' % log_dir,
            '--seed=%d' % args.seed]
    if args.data_source_url:
        argv.append('--data_source_url=%s' % args.data_source_url)
    if steps is not None:
        argv.append('--max_steps=%d' % steps)
    flag_values.unparse_flags()
    flag_values(argv)
    networks.apply_defaults(flag_values, networks.get(model))
    return flag_values


def _head(data_set, count, **options):
    """The first `count` examples of a uint8 DataSet, as a new DataSet."""
    from mnist_tf1 import input_data
    count = min(count, data_set.num_examples)
    return input_data.DataSet(data_set.images[:count],
                              data_set.labels[:count], **options)


def _smoke_reader(read):
    """Wraps read_data_sets so that every set keeps SMOKE_EXAMPLES examples."""
    import numpy as np
    from mnist_tf1 import input_data

    def read_head(*args, **kwargs):
        options = {'one_hot': kwargs.get('one_hot', False),
                   'dtype': kwargs.get('dtype', np.float32),
                   'seed': kwargs.get('seed')}
        kwargs['dtype'] = np.uint8
        sets = read(*args, **kwargs)
        return input_data.Datasets(*[_head(s, SMOKE_EXAMPLES, **options)
                                     for s in sets])
    return read_head


def _read_data(model, args, flag_values):
    from mnist_tf1 import input_data
    from mnist_tf1 import networks
    read = input_data.read_data_sets
    if args.smoke:
        read = _smoke_reader(read)
    return read(args.data_dir, one_hot=networks.get(model).SPEC.one_hot,
                validation_size=flag_values.validation_size, seed=args.seed,
                source_url=args.data_source_url)


def _build_graph(network, flag_values):
    """The training graph, built as run_training builds it.

    Returns:
      dict of the tensors the workers use, and `train_feed`: the extra values
      training steps feed (dropout keep probabilities), if the network has any.
    """
    import tensorflow.compat.v1 as tf
    from mnist_tf1 import fully_connected_feed as ffd
    from mnist_tf1 import networks
    tf.set_random_seed(flag_values.seed)
    images, labels = ffd.placeholder_inputs(None, network.SPEC.one_hot)
    logits = network.inference(
        images, *[flag_values[name].value for name in network.SPEC.hparams])
    loss = network.loss(logits, labels, *[
        flag_values[name].value
        for name in network.SPEC.loss_params])
    train_op = network.training(loss, flag_values.learning_rate)
    eval_correct = network.evaluation(logits, labels)
    train_feed = networks.train_feed(network, flag_values)
    return dict(images=images, labels=labels, loss=loss, train_op=train_op,
                eval_correct=eval_correct, train_feed=train_feed)


def _first_epoch(data_set, one_hot):
    """The whole set in the order of the first epoch of next_batch (same seed:
    the same batches as the training loop's first epoch), as plain arrays."""
    import numpy as np
    images, labels = data_set.next_batch(data_set.num_examples)
    images = np.ascontiguousarray(images, dtype=np.float32)
    labels = labels.astype(np.float32 if one_hot else np.int32)
    return images, labels


class _Stopwatch(object):
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


def work_own(model, args, steps):
    """The project's loop, as the CLI runs it, timed from inside.

    The loop's time runs from the first fill_feed_dict call to the end of
    run_training; within it, the time spent feeding, evaluating, saving
    checkpoints and writing summaries is added up apart, which leaves the
    training steps' Session.run calls (and the loop's own bookkeeping).
    """
    import tensorflow.compat.v1 as tf
    from mnist_tf1 import fully_connected_feed as ffd
    from mnist_tf1 import input_data
    log_dir = tempfile.mkdtemp(prefix='own-', dir=args.tmp)
    flag_values = _project_flags(model, args, steps, log_dir)
    writer = tf.summary.FileWriter  # The class, whose methods are timed.
    precisions = []

    def record_eval(*a, **k):
        precisions.append(do_eval(*a, **k))
        return precisions[-1]

    do_eval = ffd.do_eval
    read_data_sets = input_data.read_data_sets
    if args.smoke:
        input_data.read_data_sets = _smoke_reader(read_data_sets)
    ffd.do_eval = record_eval
    targets = [('feeding', ffd, 'fill_feed_dict'),
               ('evaluation', ffd, 'do_eval'),
               ('checkpoints', tf.train.Saver, 'save'),
               ('summaries', writer, 'add_summary'),
               ('summaries', writer, 'flush')]
    # TensorBoard's extras at each evaluation (confusion matrix, misclassified
    # digits) and at the end (projector), where the loop has them.
    board = ffd.run_summaries.RunSummaries
    targets += [('TensorBoard extras', board, 'add_evaluation'),
                ('TensorBoard extras', board, 'close')]
    stopwatch = _Stopwatch(targets)
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
            'loop_s': loop_s, 'step_us': loop_s / steps * 1e6,
            'step_cpu_us': loop_cpu_s / steps * 1e6,
            'eval_in_loop_s': stopwatch.seconds['evaluation'],
            'step_us_without_eval': (
                (loop_s - stopwatch.seconds['evaluation']) / steps * 1e6),
            'breakdown_us_per_step': per_step,
            'calls': stopwatch.calls,
            'test_precision': precisions[-1] if precisions else None}


def _converted_sets(data_sets, one_hot):
    """The sets as float32 images and labels, converted beforehand."""
    import numpy as np
    sets = []
    for data_set in data_sets:
        sets.append((np.ascontiguousarray(data_set.images, dtype=np.float32),
                     data_set.labels.astype(np.float32 if one_hot
                                            else np.int32)))
    return sets


def _bare_eval(sess, graph, sets, batch_size):
    """What do_eval computes for each set, bare: Session.run on slices."""
    counts = []
    for images, labels in sets:
        correct = 0
        for begin in range(0, len(images), batch_size):
            correct += sess.run(graph['eval_correct'], feed_dict={
                graph['images']: images[begin:begin + batch_size],
                graph['labels']: labels[begin:begin + batch_size]})
        counts.append(correct)
    return counts


def work_bare(model, args, steps, batch_size=None):
    """The floor: the same graph, plain Session.run, numpy slices.

    The session has the project's settings (device.session_config), so that
    the ratio of the two loops is about the loop alone: the feeding,
    summaries, checkpoints and evaluations around the Session.run calls.

    At the steps where the project's loop evaluates, the floor runs the same
    evaluations bare (Session.run on slices of the three sets, converted to
    float32 beforehand), timed apart from its training steps: the floor
    "with the tutorial's evaluations".

    Args:
      batch_size: train with this batch size instead of the network's (1:
        the fixed cost of a step, the arithmetic left out); no evaluations.
    """
    import tensorflow.compat.v1 as tf
    from mnist_tf1.platform import device
    from mnist_tf1 import networks
    network = networks.get(model)
    flag_values = _project_flags(model, args, steps, args.tmp)
    evaluate = batch_size is None
    batch_size = batch_size or flag_values.batch_size
    steps = flag_values.max_steps
    data_sets = _read_data(model, args, flag_values)
    images, labels = _first_epoch(data_sets.train, network.SPEC.one_hot)
    eval_sets = _converted_sets(data_sets, network.SPEC.one_hot) if evaluate else []
    batches_per_epoch = len(images) // batch_size
    with tf.Graph().as_default():
        graph = _build_graph(network, flag_values)
        images_pl, labels_pl = graph['images'], graph['labels']
        fetches = [graph['train_op'], graph['loss']]
        train_feed = graph['train_feed']
        sess = tf.Session(config=device.session_config())
        sess.run(tf.global_variables_initializer())
        eval_s = eval_cpu_s = 0.0
        start, start_cpu = time.perf_counter(), time.process_time()
        for step in range(steps):
            begin = (step % batches_per_epoch) * batch_size
            end = begin + batch_size
            feed_dict = {images_pl: images[begin:end],
                         labels_pl: labels[begin:end]}
            feed_dict.update(train_feed)
            sess.run(fetches, feed_dict=feed_dict)
            if eval_sets and ((step + 1) % flag_values.save_checkpoint_steps
                              == 0 or step + 1 == steps):
                eval_start = time.perf_counter()
                eval_start_cpu = time.process_time()
                _bare_eval(sess, graph, eval_sets, flag_values.eval_batch_size)
                eval_s += time.perf_counter() - eval_start
                eval_cpu_s += time.process_time() - eval_start_cpu
        loop_s = time.perf_counter() - start - eval_s
        loop_cpu_s = time.process_time() - start_cpu - eval_cpu_s
        test_set = data_sets.test
        correct, = _bare_eval(sess, graph, _converted_sets(
            [test_set], network.SPEC.one_hot), 2000)
        precision = correct / test_set.num_examples
        sess.close()
    result = {'steps': steps, 'batch_size': batch_size, 'loop_s': loop_s,
              'step_us': loop_s / steps * 1e6,
              'step_cpu_us': loop_cpu_s / steps * 1e6,
              'test_precision': precision}
    if evaluate:
        result.update(eval_in_loop_s=eval_s,
                      step_with_eval_us=(loop_s + eval_s) / steps * 1e6)
    return result


def work_data(model, args, steps):
    """Loading the four files, then do_eval over the three sets."""
    del steps  # Unused: evaluation does not train.
    import tensorflow.compat.v1 as tf
    from mnist_tf1.platform import device
    from mnist_tf1 import fully_connected_feed as ffd
    from mnist_tf1 import networks
    network = networks.get(model)
    flag_values = _project_flags(model, args, None, args.tmp)
    start = time.perf_counter()
    data_sets = _read_data(model, args, flag_values)
    load_s = time.perf_counter() - start
    examples = sum(s.num_examples for s in data_sets)
    passes = []
    with tf.Graph().as_default():
        graph = _build_graph(network, flag_values)
        # The project's session, as run_training makes it.
        sess = tf.Session(config=device.session_config())
        sess.run(tf.global_variables_initializer())
        for _ in range(1 if args.smoke else EVAL_PASSES):
            start = time.perf_counter()
            for data_set in data_sets:
                ffd.do_eval(sess, graph['eval_correct'], graph['images'],
                            graph['labels'], data_set)
            passes.append(time.perf_counter() - start)
        sess.close()
    return {'load_s': load_s, 'eval_examples': examples,
            'eval_batch_size': flag_values.eval_batch_size,
            'eval_passes_s': passes, 'eval_s': statistics.median(passes),
            'eval_first_s': passes[0]}


def _keras_model(name, hp, keras):
    """The network as tf.keras layers, or None when none is defined here.

    The architectures, initializers and optimizers of the tutorials (see
    ../shared/REFERENCE.md); learning rates and sizes from the network's own
    defaults (`hp`).
    """
    layers = keras.layers
    init = keras.initializers

    def dense(units, fan_in, **kwargs):
        # Mechanics 101's initializer: truncated normal, 1/sqrt(fan_in).
        return layers.Dense(units, kernel_initializer=init.TruncatedNormal(
            stddev=fan_in ** -0.5), **kwargs)

    lr = hp['learning_rate']
    if name == 'mechanics101':
        h1, h2 = hp.get('hidden1', 128), hp.get('hidden2', 32)
        stack = [dense(h1, 784, activation='relu'),
                 dense(h2, h1, activation='relu'), dense(10, h2)]
        optimizer = keras.optimizers.SGD(lr)
    elif name == 'softmax':
        stack = [layers.Dense(10, kernel_initializer=init.RandomNormal(
            stddev=1.0))]
        optimizer = keras.optimizers.SGD(lr)
    elif name == 'dropout_mlp':
        rate = 1.0 - hp.get('keep_prob', 0.2)
        normal = dict(kernel_initializer=init.TruncatedNormal(stddev=0.1),
                      bias_initializer=init.Constant(0.1))
        stack = [layers.Dense(hp.get('hidden1', 500), activation='softmax',
                              **normal),
                 layers.Dropout(rate),
                 layers.Dense(hp.get('hidden2', 100), activation='relu',
                              **normal),
                 layers.Dropout(rate), layers.Dense(10, **normal)]
        optimizer = keras.optimizers.Adam(lr)
    elif name == 'three_layer':
        normal = dict(kernel_initializer=init.RandomNormal(stddev=0.03),
                      bias_initializer=init.RandomNormal(stddev=0.03))
        stack = [layers.Dense(hp.get('hidden1', 300), activation='relu',
                              **normal),
                 layers.Dense(10, **normal)]
        optimizer = keras.optimizers.SGD(lr)
    elif name == 'deep_cnn':
        normal = dict(kernel_initializer=init.TruncatedNormal(stddev=0.1),
                      bias_initializer=init.Constant(0.1))
        stack = [layers.Reshape((28, 28, 1)),
                 layers.Conv2D(32, 5, padding='same', activation='relu',
                               **normal),
                 layers.MaxPooling2D(2),
                 layers.Conv2D(64, 5, padding='same', activation='relu',
                               **normal),
                 layers.MaxPooling2D(2), layers.Flatten(),
                 layers.Dense(1024, activation='relu', **normal),
                 layers.Dropout(1.0 - hp.get('keep_prob', 0.5)),
                 layers.Dense(10, **normal)]
        optimizer = keras.optimizers.Adam(lr)
    else:
        return None, None
    return keras.Sequential([keras.Input((784,))] + stack), optimizer


def work_keras(model, args, steps, batch_size=None):
    """The peer: tf.keras Model.fit, same architecture, data and batch size.

    Args:
      batch_size: train with this batch size instead of the network's (1:
        the fixed cost of a step, the arithmetic left out).
    """
    import numpy as np
    import tensorflow.compat.v1 as tf1
    from mnist_tf1 import networks
    network = networks.get(model)
    flag_values = _project_flags(model, args, steps, args.tmp)
    hp = {name: flag_values[name].value for name in flag_values
          if name in network.SPEC.defaults or name in network.SPEC.hparams}
    hp.setdefault('learning_rate', flag_values.learning_rate)
    batch_size = batch_size or flag_values.batch_size
    steps = flag_values.max_steps
    # The training command switched TensorFlow to graph mode; Keras needs TF2
    # behaviour back, which is allowed while no graph has been made in this
    # process (reading the data sets would make the default one: its DataSets
    # take their seed as TensorFlow 1.x's did, from the graph's).
    tf1.enable_v2_behavior()
    data_sets = _read_data(model, args, flag_values)
    images, labels = _first_epoch(data_sets.train, network.SPEC.one_hot)
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    keras = tf.keras
    keras.utils.set_random_seed(args.seed)
    net, optimizer = _keras_model(model, hp, keras)
    if net is None:
        return {'skipped': 'no tf.keras version of %s in benchmark.py' % model}
    if network.SPEC.one_hot:
        loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    net.compile(optimizer=optimizer, loss=loss, metrics=['accuracy'])

    class StepTimer(keras.callbacks.Callback):
        """Stamps the end of every batch; stops after `steps` batches."""

        def __init__(self):
            super().__init__()
            self.start = None
            self.ends = []

        def on_train_batch_begin(self, batch, logs=None):
            if self.start is None:
                self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(time.perf_counter())
            if len(self.ends) >= steps:
                self.model.stop_training = True

    timer = StepTimer()
    epochs = -(-steps * batch_size // len(images))
    # shuffle=False: the batches are the training loop's first epoch (the
    # arrays are already in that order), and later epochs repeat it.
    net.fit(images, labels, batch_size=batch_size, epochs=epochs,
            shuffle=False, verbose=0, callbacks=[timer])
    ends = timer.ends
    # The first step traces and compiles the step function (a second or so,
    # once per process); it is left out, in the peer's favour.
    step_us = (ends[-1] - ends[0]) / (len(ends) - 1) * 1e6
    test_images = np.asarray(data_sets.test.images, dtype=np.float32)
    test_labels = data_sets.test.labels.astype(
        np.float32 if network.SPEC.one_hot else np.int32)
    _, accuracy = net.evaluate(test_images, test_labels, batch_size=2000,
                               verbose=0)
    return {'steps': len(ends), 'batch_size': batch_size, 'step_us': step_us,
            'first_step_s': ends[0] - timer.start,
            'test_precision': float(accuracy)}


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
    input_data.read_data_sets = _smoke_reader(input_data.read_data_sets)
    sys.argv = ['mnist-tf1-train'] + args.cli_args
    ffd.run()


WORKERS = {'own': work_own, 'bare': work_bare, 'keras': work_keras,
           'data': work_data,
           # A batch of one: what a step costs besides its arithmetic.
           'bare1': lambda *a: work_bare(*a, batch_size=1),
           'keras1': lambda *a: work_keras(*a, batch_size=1)}


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


# ---------------------------------------------------------------------------
# The conductor: starts the processes, interleaves rounds, reports.
# ---------------------------------------------------------------------------

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
        argv = [sys.executable, os.path.abspath(__file__),
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

    def cli(self, model, steps):
        """The real training program, as a user runs it."""
        log_dir = os.path.join(self.tmp, 'run-%d' % next(self._numbers))
        flags = ['--model=%s' % model, '--input_data_dir=%s' % self.data_dir,
                 '--log_dir=%s' % log_dir]
        if steps is not None:
            flags.append('--max_steps=%d' % steps)
        if self.args.data_source_url:
            flags.append('--data_source_url=%s' % self.args.data_source_url)
        if self.args.smoke:
            argv = [sys.executable, os.path.abspath(__file__), '--worker=cli',
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
                'test_precision': precision, 'steps': steps}

    def close(self):
        if self.args.keep:
            print('Kept the work files in %s' % self.tmp, file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def _say(text):
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


def plan_steps(info, args):
    """Steps per network: its own max_steps, capped at --step_cap."""
    steps, capped = {}, {}
    for name, net in info['networks'].items():
        wanted = SMOKE_STEPS if args.smoke else min(net['max_steps'],
                                                     args.step_cap)
        steps[name] = wanted
        capped[name] = wanted != net['max_steps']
    return steps, capped


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
    _say('Preparing the data and listing the networks...')
    info = conductor.worker(['info'], ['-'])[0]
    names = list(info['networks'])
    if args.models:
        unknown = set(args.models.split(',')) - set(names)
        if unknown:
            raise SystemExit('unknown --models: %s (known: %s)' %
                             (', '.join(sorted(unknown)), ', '.join(names)))
        names = [n for n in names if n in args.models.split(',')]
    steps, capped = plan_steps(info, args)
    rounds = []
    for r in range(args.rounds):
        _say('Round %d of %d...' % (r + 1, args.rounds))
        record = {'import': {}, 'models': {name: {} for name in names}}
        if args.smoke:
            _smoke_round(conductor, names, steps, record)
        else:
            wall, rss, cpu = conductor.python(IMPORT_STATEMENT)
            record['import'] = {'wall_s': wall, 'rss_mb': rss, 'cpu_s': cpu}
            for name in names:
                # Rotate the order from round to round, so that no kind
                # always runs first (or right after the heaviest one).
                order = KINDS[r % len(KINDS):] + KINDS[:r % len(KINDS)]
                for kind in order:
                    _say('  %s %s' % (name, kind))
                    cap = steps[name] if capped[name] else None
                    if kind == 'run':
                        res = conductor.cli(name, cap)
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
    report['summary'] = summarize(rounds, names)
    return report


def _smoke_round(conductor, names, steps, record):
    """Every row, quickly: a smoke run checks, it does not measure.

    One process for the in-process kinds of every network, one for Keras (it
    needs TF2 behaviour), one whole run per network; two at a time.
    """
    steps = {name: steps[name] for name in names}
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        workers = [pool.submit(conductor.worker, kinds, names, steps)
                   for kinds in (['own', 'bare', 'bare1', 'data'],
                                 ['keras', 'keras1'])]
        runs = {name: pool.submit(conductor.cli, name, steps[name])
                for name in names}
        imported = pool.submit(conductor.python, IMPORT_STATEMENT)
        for worker in workers:
            for res in worker.result()[0]:
                record['models'][res['model']][res['kind']] = res
        for name, run in runs.items():
            record['models'][name]['run'] = run.result()
        wall, rss, cpu = imported.result()
        record['import'] = {'wall_s': wall, 'rss_mb': rss, 'cpu_s': cpu}


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


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
        keras_ok = all('step_us' in m['keras'] for m in per)
        fixed_ok = all('step_us' in m.get('bare1', {}) and
                       'step_us' in m.get('keras1', {}) for m in per)

        def ratio(num, den, rows=per):
            return _median(num(m) / den(m) for m in rows)

        steps = per[0]['bare']['steps']
        s = {
            'steps': steps,
            'batch_size': per[0]['bare']['batch_size'],
            'own_step_us': _median(m['own']['step_us'] for m in per),
            'own_step_us_without_eval': _median(
                m['own']['step_us_without_eval'] for m in per),
            'own_eval_in_loop_s': _median(m['own']['eval_in_loop_s']
                                          for m in per),
            'own_breakdown_us_per_step': {
                part: _median(m['own']['breakdown_us_per_step'][part]
                              for m in per)
                for part in per[0]['own']['breakdown_us_per_step']},
            # CPU time (all threads) per step: less swayed by a busy
            # machine than wall time, though not immune to it.
            'own_vs_bare_cpu': ratio(lambda m: m['own']['step_cpu_us'],
                                     lambda m: m['bare']['step_cpu_us']),
            'own_without_eval_vs_bare': ratio(
                lambda m: m['own']['step_us_without_eval'],
                lambda m: m['bare']['step_us']),
            'bare_step_us': _median(m['bare']['step_us'] for m in per),
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
            'bare1_step_us': (_median(m['bare1']['step_us'] for m in per)
                              if fixed_ok else None),
            'keras1_step_us': (_median(m['keras1']['step_us'] for m in per)
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
            'keras_step_us': (_median(m['keras']['step_us'] for m in per)
                              if keras_ok else None),
            'own_vs_bare': ratio(lambda m: m['own']['step_us'],
                                 lambda m: m['bare']['step_us']),
            'keras_vs_own': (ratio(lambda m: m['keras']['step_us'],
                                   lambda m: m['own']['step_us'])
                             if keras_ok else None),
            'load_s': _median(m['data']['load_s'] for m in per),
            'eval_s': _median(m['data']['eval_s'] for m in per),
            'eval_first_s': _median(m['data']['eval_first_s'] for m in per),
            'eval_examples': per[0]['data']['eval_examples'],
            'run_s': _median(m['run']['wall_s'] for m in per),
            'run_rss_mb': _median(m['run']['rss_mb'] for m in per),
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
                'own': _median(m['own']['test_precision'] for m in per),
                'bare': _median(m['bare']['test_precision'] for m in per),
                'keras': (_median(m['keras']['test_precision'] for m in per)
                          if keras_ok else None),
                'run': _median(m['run']['test_precision'] for m in per),
            },
        }
        summary['models'][name] = s
    return summary


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


def markdown(report, names=None):
    """The report's table, in markdown (for the terminal and the README).

    Args:
      report: what measure() returned (or its JSON file, loaded).
      names: the networks to show (default: all in the report).
    """
    summary = report['summary']
    machine = report['machine']
    load = report['load_average']
    lines = [
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
        '| | | |' % (IMPORT_STATEMENT, _fmt_s(summary['import_s']),
                     _fmt_cpu(summary.get('import_cpu_s'))),
        '| (all) | `%s`, peak RSS | %.0f MB | | | |'
        % (IMPORT_STATEMENT, summary['import_rss_mb']),
    ]
    def check(ok):
        # A smoke run is too small for its figures to meet or miss anything.
        return '' if report['smoke'] else _check(ok)

    for name, s in summary['models'].items():
        if names and name not in names:
            continue
        capped = report['capped'][name]
        steps = '%d steps%s, batch %d' % (
            s['steps'], ' (capped)' if capped else '', s['batch_size'])
        rows = [
            ('own training loop, per step (%s; evals, checkpoints, '
             'summaries, prints included)' % steps,
             _fmt_us(s['own_step_us']) + _fmt_p(s['precision']['own']),
             _fmt_x(s['own_vs_bare']) + ' bare (CPU time: %s)'
             % _fmt_x(s['own_vs_bare_cpu']),
             '≤ %.2f ×' % TARGET_OWN_VS_BARE,
             check(s['own_vs_bare'] <= TARGET_OWN_VS_BARE)),
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
             '≥ %.0f ×' % TARGET_KERAS_VS_OWN,
             check(None if s['keras_vs_own'] is None
                    else s['keras_vs_own'] >= TARGET_KERAS_VS_OWN)),
            ('  the same with a batch of 1',
             _fmt_us(s.get('keras1_step_us')),
             _fmt_x(s.get('keras1_vs_bare1')) + ' bare\'s', '', '')
            if s.get('keras1_vs_bare1') else None,
            ('  against the floor\'s arithmetic alone (bare less its batch '
             'of 1): the most any loop could reach', '',
             _fmt_x(s.get('keras_vs_arithmetic')), '', '')
            if s.get('keras_vs_arithmetic') else None,
            ('loading the four files (read_data_sets)', _fmt_s(s['load_s']),
             '', '≤ %.1f s' % TARGET_LOAD_S,
             check(s['load_s'] <= TARGET_LOAD_S)),
            ('do_eval over train+validation+test (%s examples)'
             % '{:,}'.format(s['eval_examples']), _fmt_s(s['eval_s']),
             'first pass %s' % _fmt_s(s['eval_first_s']),
             '≤ %.1f s' % TARGET_EVAL_S,
             check(s['eval_s'] <= TARGET_EVAL_S)),
            ('whole default run%s, process start to exit'
             % (' (%d steps)' % s['run_steps'] if capped or report['smoke']
                else ''),
             _fmt_s(s['run_s']) + _fmt_cpu(s.get('run_cpu_s')) +
             _fmt_p(s['precision']['run']),
             _fmt_x(s['run_vs_floor']) + ' (import + bare loop)',
             '≤ %.1f ×' % TARGET_RUN_VS_FLOOR,
             check(s['run_vs_floor'] <= TARGET_RUN_VS_FLOOR)),
            ('whole default run, peak RSS', '%.0f MB' % s['run_rss_mb'], '',
             '≤ %d MB' % TARGET_RSS_MB,
             check(s['run_rss_mb'] <= TARGET_RSS_MB)),
        ]
        for measure_, value, ratio_, target, verdict in filter(None, rows):
            lines.append('| %s | %s | %s | %s | %s | %s |' %
                         (name, measure_, value, ratio_, target, verdict))
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--rounds', type=int, default=3,
                        help='interleaved rounds (medians over them)')
    parser.add_argument('--models', default='',
                        help='comma-separated networks (default: all of '
                        'networks.NETWORKS)')
    parser.add_argument('--step_cap', type=int, default=DEFAULT_STEP_CAP,
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
        worker_main(args)
        return
    if args.table:
        with open(args.table) as f:
            print(markdown(json.load(f),
                           args.models.split(',') if args.models else None))
        return
    try:
        report = measure(args)
    except ProcessFailed as e:
        sys.exit('benchmark: a measurement failed: %s' % e)
    # The measurements are saved first: they took long to make.
    tmp_output = args.output + '.tmp'
    with open(tmp_output, 'w') as f:
        json.dump(report, f, indent=1)
    os.replace(tmp_output, args.output)
    print(markdown(report))
    _say('Wrote %s (%.0f s).' % (args.output, report['seconds']))


if __name__ == '__main__':
    main()

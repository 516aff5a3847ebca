"""Evaluates a training run's checkpoints, as the training loop does.

Restores a checkpoint into a freshly built graph (the architecture comes from
the flags the run recorded) and prints the tutorial's three blocks for the
training, validation and test sets, counted exactly as the training loop
counts them (training/evaluation.py's do_eval), so the
numbers for a checkpoint are the ones training printed when it saved it.

    mnist-tf1-eval --log_dir=/tmp/run1            # the latest good checkpoint
    mnist-tf1-eval --checkpoint_path=/tmp/run1/model.ckpt-1000
    mnist-tf1-eval --log_dir=/tmp/run1 --watch    # each new checkpoint

Each evaluation also writes `precision_at_1` for each set to
<log_dir>/eval/<set> at the checkpoint's global step, for TensorBoard.
"""

import os
import sys
import time

from absl import flags

from mnist_tf1.cli import tf_logging
tf_logging.start_command()  # A command: TensorFlow quiet, in graph mode.

import tensorflow.compat.v1 as tf  # pylint: disable=wrong-import-position

from mnist_tf1 import input_data
from mnist_tf1.cli import errors
from mnist_tf1.cli import flags as _flags  # noqa: F401  (defines them)
from mnist_tf1.networks import trained_model
from mnist_tf1.run_dir import checkpoints
from mnist_tf1.run_dir import recorded_flags
from mnist_tf1.run_dir import write_failures
from mnist_tf1.summaries import event_files
from mnist_tf1.summaries import graph_summaries
from mnist_tf1.summaries import tags
from mnist_tf1.training import evaluation

flags.DEFINE_boolean('watch', False,
                     'Keep evaluating each new checkpoint as training writes '
                     'them; stop when the run reaches its --max_steps, or '
                     'after --eval_timeout_secs with no new checkpoint.')
flags.DEFINE_float('eval_interval_secs', None,
                   'With --watch: seconds between looks for a new checkpoint '
                   '(default 10). Giving it implies --watch.')
flags.DEFINE_float('eval_timeout_secs', 600,
                   'With --watch: stop after this many seconds without a new '
                   'checkpoint.')

FLAGS = flags.FLAGS

DEFAULT_INTERVAL_SECS = 10.0

# Evaluations of finished checkpoints go in <log_dir>/eval/<set>, beside
# (not among) the training loop's own <log_dir>/<set>.
SUMMARY_DIR = 'eval'

flags.register_validator('eval_interval_secs', lambda v: v is None or v > 0,
                         message='--eval_interval_secs must be positive.')
flags.register_validator('eval_timeout_secs', lambda v: v is not None and v > 0,
                         message='--eval_timeout_secs must be positive.')


class Summaries(object):
    """precision_at_1 per set, in <log_dir>/eval/<set>, each step once.

    A step is written only when it is later than every step already in that
    folder, so that evaluating an older checkpoint again never sends a
    TensorBoard curve backwards.
    """

    def __init__(self, log_dir):
        self._log_dir = log_dir
        self._writers = {}
        self._last = {}
        for split in tags.SPLITS:
            steps = []
            folder = self.folder(split)
            if os.path.isdir(folder):
                for path, _ in event_files.event_files(folder):
                    steps += event_files.summary_steps(path, tags.PRECISION_TAG)
            self._last[split] = max(steps) if steps else None

    def folder(self, split):
        return os.path.join(self._log_dir, SUMMARY_DIR, split)

    def add(self, split, step, precision):
        """Writes one value; returns False when the step is not new."""
        last = self._last[split]
        if last is not None and step <= last:
            return False
        if split not in self._writers:
            self._writers[split] = event_files.FileWriter(self.folder(split))
        self._writers[split].add_summary(
            graph_summaries.scalar_summary(tags.PRECISION_TAG, precision),
            step)
        self._writers[split].flush()
        self._last[split] = step
        return True

    def close(self):
        for writer in self._writers.values():
            try:
                writer.close()
            except FileNotFoundError:
                # Each value was flushed and checked when added: a file
                # gone now went with its run, moved aside (--fresh).
                pass


class Evaluator(object):
    """The run's network, its data and its summaries, built once."""

    def __init__(self, log_dir):
        network, hparams, _ = trained_model.adopt_run_flags(FLAGS, log_dir)
        # The same call as the training loop's, with the run's own flags:
        # the same validation split, the same sets.
        self.data_sets = input_data.read_data_sets(
            FLAGS.input_data_dir, FLAGS.fake_data, one_hot=network.SPEC.one_hot,
            validation_size=FLAGS.validation_size, seed=FLAGS.seed,
            source_url=FLAGS.data_source_url)
        self.model = trained_model.Model(network, hparams, with_labels=True)
        self.summaries = Summaries(log_dir)

    def evaluate(self, prefix):
        """Restores a checkpoint and prints the three blocks.

        Returns:
          The checkpoint's global step.
        """
        self.model.restore(prefix)
        step = checkpoints.global_step(prefix)
        print('Evaluating %s (step %d).' % (prefix, step))
        for split, heading in tags.SPLIT_HEADINGS:
            print('%s Data Eval:' % heading)
            data_set = getattr(self.data_sets, split)
            precision = evaluation.do_eval(
                self.model.sess, self.model.eval_correct, self.model.images,
                self.model.labels, data_set, FLAGS.eval_batch_size)
            if data_set.num_examples:  # --validation_size=0: none to draw.
                self.summaries.add(split, step, precision)
        sys.stdout.flush()
        return step

    def close(self):
        self.summaries.close()
        self.model.close()


def evaluate_once(log_dir):
    # Refused before any work when there is no checkpoint.
    prefix = checkpoints.resolve(log_dir, FLAGS.checkpoint_path)
    evaluator = Evaluator(log_dir)
    try:
        while True:
            try:
                evaluator.evaluate(prefix)
                return
            except (errors.UserError, tf.errors.OpError, ValueError,
                    FileNotFoundError):
                if FLAGS.checkpoint_path or _still_there(prefix):
                    raise
            # A trainer still running deleted it meanwhile (--max_to_keep):
            # the newest there is now.
            prefix = checkpoints.resolve(log_dir)
    finally:
        evaluator.close()


def _still_there(prefix):
    return os.path.exists(prefix + '.index')


def _target_steps(log_dir):
    """The --max_steps the run recorded (re-read: a resumed run may raise
    it)."""
    try:
        recorded = recorded_flags.read(log_dir)
        return recorded_flags.value(FLAGS, recorded, 'max_steps', log_dir)
    except errors.UserError:
        return None  # Being rewritten, or edited: look again next time.


def _folder_id(path):
    """(device, inode) of the folder at path, or None when there is none."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def watch(log_dir, interval, timeout):
    """Evaluates each new checkpoint until the run is done, goes quiet, or
    is moved away (--fresh moves it aside and starts another there)."""
    watched = _folder_id(log_dir)
    evaluator = None
    last_step = None
    last_news = time.time()
    warned = set()

    def warn_once(message):
        if message not in warned:
            warned.add(message)
            errors.print_warning(message)

    print('Watching %s for new checkpoints (every %g s, stopping after %g s '
          'without one).' % (log_dir, interval, timeout))
    sys.stdout.flush()
    try:
        while True:
            if watched is None:
                # Started before the run: it watches the first to appear.
                watched = _folder_id(log_dir)
            if _folder_id(log_dir) != watched:
                print('%s is not the watched run any more (moved aside by '
                      '--fresh, or removed): stopping; watch again to follow '
                      'the run there now.' % log_dir)
                return 0
            prefix = checkpoints.latest(log_dir, warn=warn_once)
            step = checkpoints.step_of(prefix) if prefix else None
            if prefix and (last_step is None or step > last_step):
                if evaluator is None:
                    evaluator = Evaluator(log_dir)
                try:
                    last_step = evaluator.evaluate(prefix)
                except (errors.UserError, tf.errors.OpError, ValueError,
                        FileNotFoundError):
                    if _folder_id(log_dir) != watched:
                        continue  # Moved away meanwhile: said above.
                    if _still_there(prefix):
                        raise
                    continue  # Deleted by the trainer's --max_to_keep: next.
                last_news = time.time()
                target = _target_steps(log_dir)
                if target is not None and last_step >= target:
                    print('The run reached its --max_steps=%d: done.' % target)
                    return 0
            elif time.time() - last_news >= timeout:
                print('No new checkpoint in %s for %g s: stopping.' %
                      (log_dir, timeout))
                return 0
            sys.stdout.flush()
            time.sleep(min(interval,
                           max(0.0, timeout - (time.time() - last_news))))
    except KeyboardInterrupt:
        print('Stopped watching.')
        return 130
    finally:
        if evaluator is not None:
            evaluator.close()


def main(argv):
    if len(argv) > 1:
        raise errors.UserError('unexpected arguments %s; mnist-tf1-eval takes '
                               'only flags (see --helpfull)' %
                               ' '.join(argv[1:]))
    watching = FLAGS.watch or FLAGS.eval_interval_secs is not None
    if watching and FLAGS.checkpoint_path:
        raise errors.UserError('--checkpoint_path names one checkpoint but '
                               '--watch evaluates each new one; give one or '
                               'the other')
    log_dir = trained_model.run_dir(FLAGS)
    # The evaluations' summaries go into the run: a full disk there ends in
    # one line, as in training.
    with write_failures.explained(log_dir):
        if watching:
            return watch(log_dir, FLAGS.eval_interval_secs or
                         DEFAULT_INTERVAL_SECS, FLAGS.eval_timeout_secs)
        evaluate_once(log_dir)
    return 0


def run():
    """Console-script entry point: mnist-tf1-eval."""
    errors.run_cli(main)


if __name__ == '__main__':
    run()

"""Trains and Evaluates the MNIST network using a feed dictionary.

TensorFlow's Mechanics 101 program (fully_connected_feed.py), running on
today's TensorFlow through tf.compat.v1. Every network in networks/ trains
through this one loop.

    mnist-tf1-train                     # or: python -m mnist_tf1.fully_connected_feed
    mnist-tf1-train --max_steps=5000 --log_dir=/tmp/run1
"""

import os
import sys
import tempfile
import time

from absl import flags

from mnist_tf1.cli import tf_logging
tf_logging.start_command()  # A command: TensorFlow quiet, in graph mode.

import tensorflow.compat.v1 as tf  # pylint: disable=wrong-import-position

from mnist_tf1.run_dir import checkpoints
from mnist_tf1.platform import device
from mnist_tf1 import distributed
from mnist_tf1.cli import errors
from mnist_tf1.summaries import event_files
from mnist_tf1 import input_data
from mnist_tf1.cli import interruption
from mnist_tf1 import networks
from mnist_tf1 import mnist
from mnist_tf1.run_dir import lifecycle
from mnist_tf1.run_dir import recorded_flags
from mnist_tf1.summaries import run_summaries

# Basic model parameters as external flags.
flags.DEFINE_enum('model', 'mechanics101', sorted(networks.NETWORKS),
                  'Which tutorial network to train.')
flags.DEFINE_float('learning_rate', 0.01, 'Initial learning rate.')
flags.DEFINE_integer('max_steps', 2000, 'Number of steps to run trainer.')
flags.DEFINE_integer('hidden1', 128, 'Number of units in hidden layer 1.')
flags.DEFINE_integer('hidden2', 32, 'Number of units in hidden layer 2.')
flags.DEFINE_integer('batch_size', 100, 'Batch size.')
flags.DEFINE_integer('eval_batch_size', 2000,
                     'Examples per evaluation batch. Any size counts every '
                     'example of a set; larger is faster, up to memory '
                     '(deep_cnn: 500).')
flags.DEFINE_integer('validation_size', 5000,
                     'Training examples held out as the validation set.')
flags.DEFINE_string('input_data_dir', '/tmp/tensorflow/mnist/input_data',
                    'Directory to put the input data.')
flags.DEFINE_string('data_source_url', None,
                    'Where to download MNIST from (http(s)://, file:// or a '
                    'folder). Default: $MNIST_TF1_DATA_SOURCE_URL, else the '
                    'known mirrors in turn.')
# absl.logging defines --log_dir for its own log files, which this program
# never writes; the tutorial's --log_dir (checkpoints and summaries) takes the
# name over, as users know it.
if 'log_dir' in flags.FLAGS:
    delattr(flags.FLAGS, 'log_dir')
flags.DEFINE_string('log_dir', '/tmp/tensorflow/mnist/logs/fully_connected_feed',
                    'Directory to put the log data (checkpoints, summaries).')
flags.DEFINE_boolean('fake_data', False,
                     'If true, uses fake data for unit testing.')
flags.DEFINE_integer('seed', None,
                     'Random seed for weights and batch order; the same seed '
                     'gives the same losses run after run on the CPU.')
flags.DEFINE_boolean('log_device_placement', False,
                     'Log the device each op runs on.')
flags.DEFINE_boolean('tf_verbose', False,
                     "Show TensorFlow's own log messages (quiet by default).")
# Flags only some networks read (see networks/__init__.py); the others refuse them.
flags.DEFINE_float('keep_prob', None,
                   'Dropout keep probability while training (dropout_mlp '
                   '0.2, deep_cnn 0.5); evaluation keeps every unit.')
flags.DEFINE_boolean('print_cost', None,
                     "softmax: print the tutorial's 'Cost:' line every step "
                     '(on for softmax; --noprint_cost turns it off).')
flags.DEFINE_boolean('clipped_loss', None,
                     "three_layer: train on the tutorial's clipped-softmax "
                     'cross-entropy exactly as published instead of '
                     'softmax_cross_entropy_with_logits (default).')
flags.DEFINE_integer('save_checkpoint_steps', 1000,
                     'Save a checkpoint and evaluate every this many steps '
                     '(and at the last step).')
flags.DEFINE_integer('max_to_keep', 5,
                     'How many of the newest checkpoints to keep (0: all).')
flags.DEFINE_boolean('fresh', False,
                     'Start a new run even if --log_dir holds one. The '
                     'earlier run is moved aside to <log_dir>.<N>, never '
                     'deleted unless --delete_previous is given too.')
flags.DEFINE_boolean('delete_previous', False,
                     'With --fresh: delete the earlier run instead of moving '
                     'it aside.')
flags.DEFINE_integer('summary_steps', 100,
                     'Write the training summaries every this many steps.')
flags.DEFINE_integer('trace_steps', 0,
                     'Trace one step in every this many (time and memory '
                     'per op, in TensorBoard\'s graph page); 0: never.')

FLAGS = flags.FLAGS

for _name in ('max_steps', 'hidden1', 'hidden2', 'batch_size',
              'eval_batch_size', 'save_checkpoint_steps', 'summary_steps'):
    flags.register_validator(
        _name, lambda v: v is not None and v > 0,
        message='--%s must be a positive integer.' % _name)
flags.register_validator('learning_rate', lambda v: v > 0,
                         message='--learning_rate must be positive.')
flags.register_validator('keep_prob', lambda v: v is None or 0 < v <= 1,
                         message='--keep_prob must be in (0, 1].')
flags.register_validator('max_to_keep', lambda v: v is not None and v >= 0,
                         message='--max_to_keep must be 0 (keep all) or more.')
flags.register_validator('trace_steps', lambda v: v is not None and v >= 0,
                         message='--trace_steps must be 0 or more.')
flags.register_validator(
    'validation_size', lambda v: 0 <= v < input_data.TRAIN_EXAMPLES,
    message='--validation_size must be between 0 and %d (the training set '
    'has %d examples).' % (input_data.TRAIN_EXAMPLES - 1,
                           input_data.TRAIN_EXAMPLES))


def placeholder_inputs(batch_size, one_hot=False):
    """Generate placeholder variables to represent the input tensors.

    These placeholders are used as inputs by the rest of the model building
    code and will be fed from the downloaded data in the .run() loop, below.

    Args:
      batch_size: The batch size will be baked into both placeholders; None
        lets one graph take training batches and evaluation batches alike.
      one_hot: Whether labels are one-hot vectors rather than class ids.

    Returns:
      images_placeholder: Images placeholder.
      labels_placeholder: Labels placeholder.
    """
    # Note that the shapes of the placeholders match the shapes of the full
    # image and label tensors, except the first dimension is now batch_size
    # rather than the full size of the train or test data sets.
    images_placeholder = tf.placeholder(
        tf.float32, shape=(batch_size, mnist.IMAGE_PIXELS), name='images')
    if one_hot:
        labels_placeholder = tf.placeholder(
            tf.float32, shape=(batch_size, mnist.NUM_CLASSES), name='labels')
    else:
        labels_placeholder = tf.placeholder(
            tf.int32, shape=(batch_size,), name='labels')
    return images_placeholder, labels_placeholder


def fill_feed_dict(data_set, images_pl, labels_pl, train_feed=None):
    """Fills the feed_dict for training the given step.

    A feed_dict takes the form of:
    feed_dict = {
        <placeholder>: <tensor of values to be passed for placeholder>,
        ....
    }

    Args:
      data_set: The set of images and labels, from input_data.read_data_sets()
      images_pl: The images placeholder, from placeholder_inputs().
      labels_pl: The labels placeholder, from placeholder_inputs().
      train_feed: More {placeholder: value} for training steps only, from
        networks.train_feed() (a dropout keep probability).

    Returns:
      feed_dict: The feed dictionary mapping from placeholders to values.
    """
    # Create the feed_dict for the placeholders filled with the next
    # `batch size` examples.
    images_feed, labels_feed = data_set.next_batch(FLAGS.batch_size,
                                                   FLAGS.fake_data)
    feed_dict = {
        images_pl: images_feed,
        labels_pl: labels_feed,
    }
    feed_dict.update(train_feed or {})
    return feed_dict


def do_eval(sess, eval_correct, images_placeholder, labels_placeholder,
            data_set):
    """Runs one evaluation against the full epoch of data.

    Every example counts once, a last partial batch included, so "Num
    examples" is the size of the set whatever the batch size.

    Args:
      sess: The session in which the model has been trained.
      eval_correct: The Tensor that returns the number of correct predictions.
      images_placeholder: The images placeholder.
      labels_placeholder: The labels placeholder.
      data_set: The set of images and labels to evaluate, from
        input_data.read_data_sets().

    Returns:
      The precision @ 1 (a float in [0, 1]).
    """
    # And run one epoch of eval.
    true_count = 0  # Counts the number of correct predictions.
    num_examples = 0
    for images_feed, labels_feed in data_set.batches(FLAGS.eval_batch_size):
        true_count += sess.run(eval_correct, feed_dict={
            images_placeholder: images_feed,
            labels_placeholder: labels_feed,
        })
        num_examples += len(labels_feed)
    precision = float(true_count) / num_examples if num_examples else 0.0
    print('  Num examples: %d  Num correct: %d  Precision @ 1: %0.04f' %
          (num_examples, true_count, precision))
    return precision


def run_training(cluster=None):
    """Train MNIST for a number of steps, alone or as a cluster's worker.

    Args:
      cluster: this worker's distributed.Cluster, or None on one machine.

    Returns:
      The exit status: 0, or 128 + the signal number when a signal ended it.
    """
    network = networks.get(FLAGS.model)
    # Get the sets of images and labels for training, validation, and
    # test on MNIST.
    data_sets = input_data.read_data_sets(
        FLAGS.input_data_dir, FLAGS.fake_data, one_hot=network.ONE_HOT,
        validation_size=FLAGS.validation_size,
        seed=distributed.worker_seed(cluster, FLAGS.seed),
        source_url=FLAGS.data_source_url)
    # On a cluster, worker 0 alone writes checkpoints and summaries.
    is_chief = distributed.is_chief(cluster)

    # Tell TensorFlow that the model will be built into the default Graph
    # (on a cluster, with the variables on the parameter servers).
    with tf.Graph().as_default(), distributed.replicas(cluster), \
            checkpoints.global_step_as_saved(FLAGS.log_dir):
        if FLAGS.seed is not None:
            tf.set_random_seed(FLAGS.seed)
        # Generate placeholders for the images and labels.
        images_placeholder, labels_placeholder = placeholder_inputs(
            None, network.ONE_HOT)

        # Build a Graph that computes predictions from the inference model.
        logits = network.inference(
            images_placeholder, *[FLAGS[name].value for name in network.HPARAMS])

        # Add to the Graph the Ops for loss calculation.
        loss = network.loss(
            logits, labels_placeholder,
            *[FLAGS[name].value for name in network.LOSS_PARAMS])

        # Add to the Graph the Ops that calculate and apply gradients.
        with distributed.sync_replicas(cluster):
            train_op = network.training(loss, FLAGS.learning_rate)

        # Add the Op to compare the logits to the labels during evaluation.
        eval_correct = network.evaluation(logits, labels_placeholder)

        # Add what TensorBoard shows of any network: histograms of its
        # variables and layers, input digits, the learning rate.
        inspection = run_summaries.add_summaries(
            images_placeholder, logits, loss, FLAGS.learning_rate)

        # Build the summary Tensor based on the TF collection of Summaries.
        summary = tf.summary.merge_all()

        # Add the variable initializer Op.
        init = tf.global_variables_initializer()

        # Create a saver for writing training checkpoints.
        # (Relative paths in its `checkpoint` file: the run can be moved.)
        saver = tf.train.Saver(max_to_keep=FLAGS.max_to_keep,
                               save_relative_paths=True)

        global_step = tf.train.get_global_step()

        # What training steps feed besides the data (a dropout keep
        # probability), and the network's own tutorial lines, if any.
        train_feed = networks.train_feed(network, FLAGS)
        print_progress = networks.progress_printer(
            network, FLAGS, eval_correct,
            data_sets.train.num_examples // FLAGS.batch_size)

        # Create a session for running Ops on the Graph.
        sess = distributed.create_session(cluster, device.session_config(
            FLAGS.log_device_placement))

        # Run the Op to initialize the variables, or pick up where an earlier
        # run in this log_dir stopped (its latest whole checkpoint; on a
        # cluster the chief does, the other workers wait for it).
        restored = distributed.prepare_session(
            cluster, sess, global_step,
            lambda: checkpoints.restore_or_initialize(sess, saver, init,
                                                      FLAGS.log_dir))
        first_step = sess.run(global_step)
        if restored:
            print('Restored %s (step %d).' % (restored, first_step))
        if first_step >= FLAGS.max_steps:
            sess.close()
            return lifecycle.nothing_left(FLAGS.log_dir, first_step,
                                        FLAGS.max_steps)
        if is_chief:
            # The run's flags travel with it: a re-run, mnist-tf1-eval,
            # -predict and -export read its architecture from the log dir.
            recorded_flags.record(FLAGS.log_dir, FLAGS)
            # Summaries an interrupted run wrote past its last checkpoint are
            # for steps about to be run again: drop them, so no step appears
            # twice.
            event_files.drop_orphans(FLAGS.log_dir, first_step)

        # Instantiate a SummaryWriter to output summaries and the Graph, and
        # the writers for evaluations, HParams and the projector (on a
        # cluster, the chief alone writes them).
        if is_chief:
            summary_writer = tf.summary.FileWriter(FLAGS.log_dir, sess.graph)
            board = run_summaries.RunSummaries(
                FLAGS.log_dir, summary_writer, inspection, images_placeholder,
                FLAGS.eval_batch_size, FLAGS)
        else:
            summary_writer = distributed.NoSummaries()
            board = None
        throughput = run_summaries.Throughput(FLAGS.batch_size)

        # From here on Ctrl-C or SIGTERM stops the loop after the current step.
        stop = interruption.StopRequest()
        interrupted = False

        # Start the training loop.
        checkpoint_file = os.path.join(FLAGS.log_dir, 'model.ckpt')
        for step in distributed.steps(cluster, sess, global_step, first_step,
                                      FLAGS.max_steps):
            start_time = time.time()

            # Fill a feed dictionary with the actual set of images and labels
            # for this particular training step.
            feed_dict = fill_feed_dict(data_sets.train, images_placeholder,
                                       labels_placeholder, train_feed)

            # Run one step of the model. The return values are the activations
            # from the `train_op` (which is discarded) and the `loss` Op. To
            # inspect the values of your Ops or variables, you may include them
            # in the list passed to sess.run() and the value tensors will be
            # returned in the tuple from the call. On summary steps the summary
            # rides along in the same call rather than costing a second one.
            run_options, run_metadata = run_summaries.trace_options(
                step, FLAGS.trace_steps)
            if step % FLAGS.summary_steps == 0:
                _, loss_value, summary_str = sess.run(
                    [train_op, loss, summary], feed_dict=feed_dict,
                    options=run_options, run_metadata=run_metadata)
            else:
                _, loss_value = sess.run([train_op, loss], feed_dict=feed_dict,
                                         options=run_options,
                                         run_metadata=run_metadata)

            duration = time.time() - start_time
            throughput.add(duration)

            # Print an overview fairly often.
            if step % 100 == 0:
                # Print status to stdout.
                print('Step %d: loss = %.2f (%.3f sec)' %
                      (step, loss_value, duration))
            # Write the summaries every --summary_steps.
            if step % FLAGS.summary_steps == 0:
                # Update the events file.
                summary_writer.add_summary(summary_str, step)
                summary_writer.add_summary(throughput.summary(), step)
                summary_writer.flush()
            if run_metadata is not None:
                summary_writer.add_run_metadata(
                    run_metadata, run_summaries.trace_tag(step), step)

            # The network's own lines from its tutorial, if it has any.
            print_progress(sess, step, loss_value, feed_dict)

            # Save a checkpoint and evaluate the model periodically.
            if is_chief and ((step + 1) % FLAGS.save_checkpoint_steps == 0 or
                             (step + 1) == FLAGS.max_steps):
                saver.save(sess, checkpoint_file, global_step=global_step)
                # Evaluate against the training set.
                print('Training Data Eval:')
                train_precision = do_eval(sess, eval_correct,
                                          images_placeholder,
                                          labels_placeholder, data_sets.train)
                # Evaluate against the validation set.
                print('Validation Data Eval:')
                validation_precision = do_eval(
                    sess, eval_correct, images_placeholder,
                    labels_placeholder, data_sets.validation)
                # Evaluate against the test set.
                print('Test Data Eval:')
                test_precision = do_eval(sess, eval_correct,
                                         images_placeholder,
                                         labels_placeholder, data_sets.test)
                board.add_evaluation(
                    sess, step + 1, {'train': train_precision,
                                     'validation': validation_precision,
                                     'test': test_precision}, data_sets.test)

            # Stopped by a signal: keep every step done so far, then end.
            if stop.requested and (step + 1) < FLAGS.max_steps:
                if is_chief:
                    saved = checkpoints.save(sess, saver, FLAGS.log_dir,
                                             step + 1)
                    print('Stopped by %s at step %d; saved %s.' %
                          (stop.name, step + 1, saved))
                interrupted = True
                break

        stop.restore()
        if board is not None:
            board.close(sess, data_sets.test, finished=not interrupted)
        distributed.finish(cluster, sess, global_step)
        summary_writer.close()
        sess.close()
        # The shell's convention for a program ended by a signal: 128 + signum.
        return stop.exit_status if interrupted else 0


def check_log_dir(log_dir):
    """Refuses a log_dir that cannot be written, before any work starts."""
    try:
        os.makedirs(log_dir, exist_ok=True)
        with tempfile.TemporaryFile(dir=log_dir):
            pass
    except OSError as e:
        raise errors.UserError(
            'cannot write to --log_dir %s (%s); pick a writable directory' %
            (log_dir, e.strerror or e))


def main(_):
    # With --job_name (or TF_CONFIG) this process is one task of a cluster: a
    # parameter server serves, a worker trains; then the process exits.
    cluster = distributed.from_flags(FLAGS)
    if distributed.is_chief(cluster):
        # A re-run continues the run in --log_dir, with the flags it
        # recorded; --fresh starts a new one. Only the chief owns the run.
        lifecycle.start_or_continue(FLAGS)
    else:
        networks.apply_defaults(FLAGS, networks.get(FLAGS.model))
    if cluster is not None:
        distributed.run_task(cluster, lambda: train(cluster))
    return train(None)


def train(cluster):
    """Checks the log dir, names the device and trains."""
    if distributed.is_chief(cluster):
        check_log_dir(FLAGS.log_dir)
    print('Training %s on %s.' % (FLAGS.model, device.describe()))
    sys.stdout.flush()
    return run_training(cluster)


def run():
    """Console-script entry point: mnist-tf1-train."""
    errors.run_cli(main)


if __name__ == '__main__':
    run()

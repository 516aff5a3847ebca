"""Trains and Evaluates the MNIST network using a feed dictionary.

TensorFlow's Mechanics 101 program (fully_connected_feed.py), running on
today's TensorFlow through tf.compat.v1. Every network in networks/ trains
through this one loop.

    mnist-tf1-train                     # or: python -m mnist_tf1.fully_connected_feed
    mnist-tf1-train --max_steps=5000 --log_dir=/tmp/run1

The flags are defined in cli/flags.py, shared with mnist-tf1-eval, -predict
and -export, which read a run's flags back.
"""

import collections
import os
import sys
import time

from absl import flags

from mnist_tf1.cli import tf_logging
tf_logging.start_command()  # A command: TensorFlow quiet, in graph mode.

import tensorflow.compat.v1 as tf  # pylint: disable=wrong-import-position

from mnist_tf1 import input_data
from mnist_tf1 import networks
from mnist_tf1.cli import errors
from mnist_tf1.cli import flags as _flags  # noqa: F401  (defines them)
from mnist_tf1.cli import interruption
from mnist_tf1.cluster import flags as cluster_flags
from mnist_tf1.cluster import optimizer as cluster_optimizer
from mnist_tf1.cluster import placement
from mnist_tf1.cluster import roles
from mnist_tf1.cluster import session as cluster_session
from mnist_tf1.cluster import spec as cluster_spec
from mnist_tf1.cluster import steps as cluster_steps
from mnist_tf1.cluster import task as cluster_task
from mnist_tf1.networks import ops
from mnist_tf1.platform import device
from mnist_tf1.run_dir import checkpoints
from mnist_tf1.run_dir import lifecycle
from mnist_tf1.run_dir import save_schedule
from mnist_tf1.run_dir import write_failures
from mnist_tf1.summaries import event_files
from mnist_tf1.summaries import graph_summaries
from mnist_tf1.summaries import profiling
from mnist_tf1.summaries import run_summaries
from mnist_tf1.summaries import tags
from mnist_tf1.training import evaluation
from mnist_tf1.training import in_graph_steps
# The tutorial's placeholder_inputs(); the commands that rebuild a trained
# network use the same one.
from mnist_tf1.training.feeding import placeholder_inputs

# Where users outgrow one machine: --ps_hosts, --worker_hosts, --job_name, ...
cluster_flags.define()

FLAGS = flags.FLAGS

# The ops and tensors of the training graph, as build_graph() makes them.
TrainingGraph = collections.namedtuple('TrainingGraph', [
    'images_placeholder', 'labels_placeholder', 'logits', 'loss', 'train_op',
    'eval_correct', 'inspection', 'summary', 'init', 'saver', 'global_step'])


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
    """Runs one evaluation against the full epoch of data, in batches of
    --eval_batch_size, and prints the tutorial's line.

    Returns:
      The precision @ 1 (a float in [0, 1]).
    """
    return evaluation.do_eval(sess, eval_correct, images_placeholder,
                              labels_placeholder, data_set,
                              FLAGS.eval_batch_size)


def network_args(network):
    """(inference_args, loss_args): the flags the network's inference() takes
    after the images and its loss() after the logits and labels."""
    return ([FLAGS[name].value for name in network.SPEC.hparams],
            [FLAGS[name].value for name in network.SPEC.loss_params])


def build_graph(network, cluster):
    """Builds the tutorial's graph for `network` into the default Graph.

    Placeholders, inference, loss, training and evaluation (Mechanics 101's
    four functions), the summaries TensorBoard shows, the initializer and the
    Saver.

    Returns:
      A TrainingGraph.
    """
    if FLAGS.seed is not None:
        tf.set_random_seed(FLAGS.seed)
    # Generate placeholders for the images and labels.
    images_placeholder, labels_placeholder = placeholder_inputs(
        None, network.SPEC.one_hot)

    inference_args, loss_args = network_args(network)
    # Build a Graph that computes predictions from the inference model.
    logits = network.inference(images_placeholder, *inference_args)

    # Add to the Graph the Ops for loss calculation.
    loss = network.loss(logits, labels_placeholder, *loss_args)

    # Add to the Graph the Ops that calculate and apply gradients (the global
    # step of the dtype the run's checkpoints hold, if any; on a cluster,
    # through its step gate or synchronously).
    with cluster_optimizer.cluster_minimize(cluster), \
            checkpoints.global_step_as_saved(FLAGS.log_dir):
        train_op = network.training(loss, FLAGS.learning_rate)

    # Add the Op to compare the logits to the labels during evaluation.
    eval_correct = network.evaluation(logits, labels_placeholder)

    # Add what TensorBoard shows of any network: histograms of its variables
    # and layers, input digits, the learning rate.
    inspection = graph_summaries.add_summaries(
        images_placeholder, logits, loss, FLAGS.learning_rate)

    # Build the summary Tensor based on the TF collection of Summaries.
    summary = tf.summary.merge_all()

    # Add the variable initializer Op.
    init = tf.global_variables_initializer()

    # Create a saver for writing training checkpoints.
    # (Relative paths in its `checkpoint` file: the run can be moved.)
    saver = tf.train.Saver(max_to_keep=FLAGS.max_to_keep,
                           save_relative_paths=True)
    return TrainingGraph(images_placeholder, labels_placeholder, logits, loss,
                         train_op, eval_correct, inspection, summary, init,
                         saver, tf.train.get_global_step())


def start_session(graph, cluster):
    """Creates the session and initializes the variables, or picks up where
    an earlier run in --log_dir stopped (its latest whole checkpoint; on a
    cluster the chief does, the other workers wait for it).

    Returns:
      (sess, first_step): the session and the step training starts at.
    """
    sess = cluster_session.create_session(cluster, device.session_config(
        FLAGS.log_device_placement))
    restored = cluster_steps.prepare_session(
        cluster, sess,
        lambda: checkpoints.restore_or_initialize(sess, graph.saver,
                                                  graph.init, FLAGS.log_dir),
        FLAGS.max_steps)
    first_step = sess.run(graph.global_step)
    if restored:
        print('Restored %s (step %d).' % (restored, first_step))
    return sess, first_step


def open_writers(sess, graph, is_chief):
    """The SummaryWriter for the training summaries and the Graph, and the
    writers for evaluations, HParams and the projector.

    Returns:
      (summary_writer, board): on a cluster's other workers, a writer that
      writes nothing and no board (the chief alone writes).
    """
    if not is_chief:
        return roles.NoSummaries(), None
    summary_writer = event_files.FileWriter(FLAGS.log_dir, sess.graph)
    board = run_summaries.RunSummaries(
        FLAGS.log_dir, summary_writer, graph.inspection,
        graph.images_placeholder, FLAGS.eval_batch_size, FLAGS)
    return summary_writer, board


def run_step(sess, graph, feed_dict, steps, step, is_chief=True):
    """Runs one training step.

    The return values are the activations from the `train_op` (which is
    discarded) and the `loss` Op. To inspect the values of your Ops or
    variables, you may include them in the list passed to sess.run() and the
    value tensors will be returned in the tuple from the call. On summary
    steps the summary rides along in the same call rather than costing a
    second one; on a cluster only the chief, which writes them, fetches
    summaries and traces.

    Returns:
      (the step taken, loss_value, feed_dict, summary_str or None,
      run_metadata or None), as InGraphSteps.run() returns each step of a
      run. On a cluster a worker learns which step it took once taken: None
      when it took none (the chief holds the workers at a checkpoint, or the
      run is over).
    """
    run_options, run_metadata = profiling.trace_options(
        step, FLAGS.trace_steps if is_chief else 0)
    fetches = [graph.train_op, graph.loss]
    # Dropout's masks are drawn for the step (networks/ops.py: dropout()).
    feed_dict = ops.with_dropout_step(feed_dict, step)
    if is_chief and step % FLAGS.summary_steps == 0:
        fetches.append(graph.summary)
    values = sess.run(fetches, feed_dict=feed_dict, options=run_options,
                      run_metadata=run_metadata)
    summary_str = values[2] if len(values) > 2 else None
    return (steps.taken(step, values[0]), values[1], feed_dict, summary_str,
            run_metadata)


def evaluate(sess, graph, data_sets, board, global_step):
    """Evaluates the model of `global_step` against the three sets, and
    writes what TensorBoard shows of it."""
    precisions = {}
    for split, heading in tags.SPLIT_HEADINGS:
        # Evaluate against the training, validation and test sets.
        print('%s Data Eval:' % heading)
        data_set = getattr(data_sets, split)
        precision = do_eval(sess, graph.eval_correct,
                            graph.images_placeholder,
                            graph.labels_placeholder, data_set)
        if data_set.num_examples:  # --validation_size=0: nothing to draw.
            precisions[split] = precision
    board.add_evaluation(sess, global_step, precisions, data_sets.test)


def report_step(summary_writer, throughput, step, loss_value, duration,
                summary_str, run_metadata):
    """Prints the step's line every 100 steps and writes its summaries."""
    throughput.add(duration)
    # Print an overview fairly often.
    if step % 100 == 0:
        # Print status to stdout.
        print('Step %d: loss = %.2f (%.3f sec)' % (step, loss_value, duration))
    # Write the summaries every --summary_steps.
    if summary_str is not None:
        # Update the events file.
        summary_writer.add_summary(summary_str, step)
        summary_writer.add_summary(throughput.summary(), step)
        summary_writer.flush()
    if run_metadata is not None:
        summary_writer.add_run_metadata(
            run_metadata, profiling.trace_tag(step), step)


def run_training(cluster=None):
    """Train MNIST for a number of steps, alone or as a cluster's worker.

    Args:
      cluster: this worker's cluster.spec.Cluster, or None on one machine.

    Returns:
      The exit status: 0, or 128 + the signal number when a signal ended it.
    """
    network = networks.get(FLAGS.model)
    # Get the sets of images and labels for training, validation, and
    # test on MNIST.
    data_sets = input_data.read_data_sets(
        FLAGS.input_data_dir, FLAGS.fake_data, one_hot=network.SPEC.one_hot,
        validation_size=FLAGS.validation_size,
        seed=roles.worker_seed(cluster, FLAGS.seed),
        source_url=FLAGS.data_source_url)
    # On a cluster, worker 0 alone writes checkpoints and summaries.
    is_chief = roles.is_chief(cluster)

    # Tell TensorFlow that the model will be built into the default Graph
    # (on a cluster, with the variables on the parameter servers).
    with tf.Graph().as_default(), placement.replicas(cluster):
        graph = build_graph(network, cluster)

        # What training steps feed besides the data (a dropout keep
        # probability), and the network's own tutorial lines, if any.
        train_feed = networks.train_feed(network, FLAGS)
        print_progress = networks.progress_printer(
            network, FLAGS, graph.eval_correct,
            data_sets.train.num_examples // FLAGS.batch_size)

        # With --steps_per_run=K > 1, the training set in the graph and a
        # loop of up to K steps per Session.run (training/in_graph_steps.py).
        in_graph = None
        if FLAGS.steps_per_run > 1:
            in_graph = in_graph_steps.InGraphSteps(
                network, graph, network_args(network) + (FLAGS.learning_rate,),
                data_sets.train)

        # Create a session, and initialize the variables or restore them.
        sess, first_step = start_session(graph, cluster)
        if first_step >= FLAGS.max_steps:
            sess.close()
            return lifecycle.nothing_left(FLAGS.log_dir, first_step,
                                          FLAGS.max_steps)
        if in_graph is not None:
            in_graph.load(sess)
        if is_chief:
            # Its flags recorded, the summaries past its checkpoint dropped.
            lifecycle.claim_run(FLAGS.log_dir, FLAGS, first_step)

        # Instantiate a SummaryWriter to output summaries and the Graph.
        summary_writer, board = open_writers(sess, graph, is_chief)
        throughput = profiling.Throughput(FLAGS.batch_size)

        # From here on Ctrl-C or SIGTERM stops the loop after the current
        # Session.run (a step, or a run of --steps_per_run; on a cluster it
        # ends a call that hangs).
        stop = interruption.StopRequest()
        cluster_session.honour_stop(sess, stop)
        interrupted = False

        # Start the training loop: every step on one machine; on a cluster,
        # the steps this worker takes. Checkpoints as the schedule says.
        steps = cluster_steps.steps(
            cluster, sess, graph.global_step, first_step,
            save_schedule.SaveSchedule(
                FLAGS.save_checkpoint_steps, FLAGS.save_checkpoint_secs,
                FLAGS.max_steps, first_step))
        for run in in_graph_steps.training_runs(
                steps, in_graph, FLAGS.max_steps, FLAGS.steps_per_run):
            start_time = time.time()

            if in_graph is None:
                # Fill a feed dictionary with the actual set of images and
                # labels for this particular training step.
                feed_dict = fill_feed_dict(data_sets.train,
                                           graph.images_placeholder,
                                           graph.labels_placeholder,
                                           train_feed)

                # Run one step of the model.
                results = [run_step(sess, graph, feed_dict, steps, run,
                                    is_chief)]
            else:
                # Run the steps up to the next multiple of K in one call.
                results = in_graph.run(sess, run, FLAGS.batch_size,
                                       train_feed, FLAGS.summary_steps,
                                       FLAGS.trace_steps)
                for step in run:
                    steps.taken(step, None)

            # Each step's share of the time.
            duration = (time.time() - start_time) / len(results)
            for (step, loss_value, feed_dict, summary_str,
                 run_metadata) in results:
                if step is not None:
                    report_step(summary_writer, throughput, step, loss_value,
                                duration, summary_str, run_metadata)

                    # The network's own lines from its tutorial, if any.
                    print_progress(sess, step, loss_value, feed_dict)

            # Save a checkpoint and evaluate the model periodically.
            if is_chief and steps.save_due():
                saved_step = steps.checkpoint_step()
                checkpoint_file = os.path.join(FLAGS.log_dir, 'model.ckpt')
                graph.saver.save(sess, checkpoint_file, global_step=saved_step)
                # Saved: on a cluster the other workers go on meanwhile (at
                # --max_steps they are done: the finished model is evaluated).
                steps.saved(saved_step)
                evaluate(sess, graph, data_sets, board, saved_step)

            # Stopped by a signal: keep every step done so far, then end.
            if stop.requested and steps.global_step < FLAGS.max_steps:
                if is_chief:
                    at = steps.hold()
                    saved = checkpoints.save(sess, graph.saver, FLAGS.log_dir,
                                             at)
                    print('Stopped by %s at step %d; saved %s.' %
                          (stop.name, at, saved))
                interrupted = True
                break

        stop.restore()
        if board is not None:
            board.close(sess, data_sets.test, finished=not interrupted)
        steps.finish()
        summary_writer.close()
        sess.close()
        # The shell's convention for a program ended by a signal: 128 + signum.
        return stop.exit_status if interrupted else 0


def main(_):
    # With --job_name (or TF_CONFIG) this process is one task of a cluster: a
    # parameter server serves, a worker trains; then the process exits.
    cluster = cluster_spec.Cluster.from_flags(FLAGS)
    # A --steps_per_run the run cannot keep: refused before any work (and
    # again in train(), with the flags a continued run recorded).
    in_graph_steps.check(FLAGS.steps_per_run, cluster is not None,
                         FLAGS.summary_steps, FLAGS.save_checkpoint_steps)
    trainer_lock = None
    if roles.is_chief(cluster):
        # A re-run continues the run in --log_dir, with the flags it
        # recorded; --fresh starts a new one. Only the chief owns the run,
        # and no other trainer may use it meanwhile (it is locked).
        trainer_lock = lifecycle.start_or_continue(FLAGS)
    else:
        networks.apply_defaults(FLAGS, networks.get(FLAGS.model))
    if cluster is not None:
        cluster_task.run_task(
            cluster, lambda: train(cluster, trainer_lock),
            on_exit=(trainer_lock.release if trainer_lock is not None
                     else None))
    return train(None, trainer_lock)


def train(cluster, trainer_lock=None):
    """Checks --steps_per_run again (with the flags a continued run
    recorded), names the device and trains; then unlocks the log dir."""
    try:
        in_graph_steps.check(FLAGS.steps_per_run, cluster is not None,
                             FLAGS.summary_steps, FLAGS.save_checkpoint_steps)
        print('Training %s on %s.' % (FLAGS.model, device.describe()))
        sys.stdout.flush()
        # A full disk (or a quota, or a read-only file system) under the run:
        # one line naming the last complete checkpoint.
        with write_failures.explained(FLAGS.log_dir):
            return run_training(cluster)
    finally:
        if trainer_lock is not None:
            trainer_lock.release()


def run():
    """Console-script entry point: mnist-tf1-train."""
    errors.run_cli(main)


if __name__ == '__main__':
    run()

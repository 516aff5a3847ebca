"""The floor: a bare Session.run loop on the project's graph, fed by numpy
slices; and loading the data, then evaluating the three sets (in a worker
process)."""

import statistics
import time

from bench import plan
from bench import project


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
    from mnist_tf1.networks import ops
    network = networks.get(model)
    flag_values = project.project_flags(model, args, steps, args.tmp)
    evaluate = batch_size is None
    batch_size = batch_size or flag_values.batch_size
    steps = flag_values.max_steps
    data_sets = project.read_data(model, args, flag_values)
    one_hot = network.SPEC.one_hot
    images, labels = project.first_epoch(data_sets.train, one_hot)
    eval_sets = _converted_sets(data_sets, one_hot) if evaluate else []
    batches_per_epoch = len(images) // batch_size
    with tf.Graph().as_default():
        graph = project.build_graph(network, flag_values)
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
            # Dropout's masks drawn for the step, as the loop draws them.
            feed_dict = ops.with_dropout_step(feed_dict, step)
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
    flag_values = project.project_flags(model, args, None, args.tmp)
    start = time.perf_counter()
    data_sets = project.read_data(model, args, flag_values)
    load_s = time.perf_counter() - start
    examples = sum(s.num_examples for s in data_sets)
    passes = []
    with tf.Graph().as_default():
        graph = project.build_graph(network, flag_values)
        # The project's session, as run_training makes it.
        sess = tf.Session(config=device.session_config())
        sess.run(tf.global_variables_initializer())
        for _ in range(1 if args.smoke else plan.EVAL_PASSES):
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

"""Picks the device: a GPU when TensorFlow sees one, else the CPU."""

import tensorflow.compat.v1 as tf


def describe():
    """Returns a short phrase naming the device training will run on."""
    gpus = tf.config.list_physical_devices('GPU')
    if not gpus:
        return 'CPU (TensorFlow sees no GPU)'
    names = []
    for gpu in gpus:
        details = tf.config.experimental.get_device_details(gpu)
        names.append('%s (%s)' % (gpu.name.replace('/physical_device:', ''),
                                  details.get('device_name', 'GPU')))
    return 'GPU ' + ', '.join(names)


def session_config(log_device_placement=False):
    """A ConfigProto that uses a GPU when present and never fails without one.

    Args:
      log_device_placement: log which device each op is placed on.

    Returns:
      A tf.ConfigProto.
    """
    config = tf.ConfigProto(allow_soft_placement=True,
                            log_device_placement=log_device_placement)
    # Take GPU memory as needed rather than all of it up front, so that an
    # evaluation or a second run can share the card.
    config.gpu_options.allow_growth = True
    # Grappler optimizes the graph each time a new set of fetches is first
    # run (training step, summary step, evaluation, checkpoint: six in a
    # default run), by default in two passes. One pass gives these networks
    # the same optimized graph (the second only removes a stray NoOp in two
    # of them) and saves about 10 ms of CPU per new set of fetches (about 3%
    # of a default Mechanics 101 training loop; see scripts/benchmark.py).
    rewrite_options = config.graph_options.rewrite_options
    rewrite_options.meta_optimizer_iterations = rewrite_options.ONE
    # Run each step's ops in the thread that called Session.run (negative:
    # no inter-op thread pool; a local session only: cluster/config.py clears it
    # for a cluster). A training step is a chain of small ops, and handing
    # them to pool threads costs a thread wake-up each: without that, a
    # default Mechanics 101 loop took about 10% less CPU per step on a 2-core
    # virtual machine. Large ops (matmuls, convolutions) still spread over
    # the intra-op threads.
    config.inter_op_parallelism_threads = -1
    return config

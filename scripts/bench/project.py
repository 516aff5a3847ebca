"""The project's flags, data and graph, built in a worker process as the
training program builds them.

TensorFlow and the project are imported inside the functions: the conductor
process imports this package without them, and the Keras worker must switch
TensorFlow's behaviour before anything builds a graph.
"""

from bench import plan


def project_flags(model, args, steps, log_dir, steps_per_run=1):
    """Parses the training program's absl flags as a default run would be
    (with --steps_per_run=steps_per_run)."""
    from absl import flags
    from mnist_tf1 import fully_connected_feed  # Defines the flags.
    from mnist_tf1 import networks
    del fully_connected_feed  # Imported for its flags.
    flag_values = flags.FLAGS
    argv = ['benchmark', '--model=%s' % model,
            '--input_data_dir=%s' % args.data_dir,
            '--log_dir=%s' % log_dir,
            '--seed=%d' % args.seed, '--steps_per_run=%d' % steps_per_run]
    if args.data_source_url:
        argv.append('--data_source_url=%s' % args.data_source_url)
    if steps is not None:
        argv.append('--max_steps=%d' % steps)
    flag_values.unparse_flags()
    flag_values(argv)
    networks.apply_defaults(flag_values, networks.get(model))
    return flag_values


def head(data_set, count, **options):
    """The first `count` examples of a uint8 DataSet, as a new DataSet."""
    from mnist_tf1 import input_data
    count = min(count, data_set.num_examples)
    return input_data.DataSet(data_set.images[:count],
                              data_set.labels[:count], **options)


def smoke_reader(read):
    """Wraps read_data_sets so that every set keeps SMOKE_EXAMPLES examples."""
    import numpy as np
    from mnist_tf1 import input_data

    def read_head(*args, **kwargs):
        options = {'one_hot': kwargs.get('one_hot', False),
                   'dtype': kwargs.get('dtype', np.float32),
                   'seed': kwargs.get('seed')}
        kwargs['dtype'] = np.uint8
        sets = read(*args, **kwargs)
        return input_data.Datasets(*[head(s, plan.SMOKE_EXAMPLES, **options)
                                     for s in sets])
    return read_head


def read_data(model, args, flag_values):
    from mnist_tf1 import input_data
    from mnist_tf1 import networks
    read = input_data.read_data_sets
    if args.smoke:
        read = smoke_reader(read)
    return read(args.data_dir, one_hot=networks.get(model).SPEC.one_hot,
                validation_size=flag_values.validation_size, seed=args.seed,
                source_url=args.data_source_url)


def build_graph(network, flag_values):
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
    # (flag_values is the program's FLAGS, parsed by project_flags.)
    inference_args, loss_args = ffd.network_args(network)
    logits = network.inference(images, *inference_args)
    loss = network.loss(logits, labels, *loss_args)
    train_op = network.training(loss, flag_values.learning_rate)
    eval_correct = network.evaluation(logits, labels)
    train_feed = networks.train_feed(network, flag_values)
    return dict(images=images, labels=labels, loss=loss, train_op=train_op,
                eval_correct=eval_correct, train_feed=train_feed)


def first_epoch(data_set, one_hot):
    """The whole set in the order of the first epoch of next_batch (same seed:
    the same batches as the training loop's first epoch), as plain arrays."""
    import numpy as np
    images, labels = data_set.next_batch(data_set.num_examples)
    images = np.ascontiguousarray(images, dtype=np.float32)
    labels = labels.astype(np.float32 if one_hot else np.int32)
    return images, labels

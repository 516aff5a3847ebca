"""Where each part of tf.contrib went: the tables contrib.py reads.

The successors are the ones TensorFlow's own upgrade script named
(tensorflow/tools/compatibility: all_renames_v2.py's renames and
tf_upgrade_v2.py's argument changes), kept where the successor is in every
TensorFlow of the tested range; tests/test_contrib.py resolves every entry.
Google's tf_slim continues tf.contrib.slim and the rest of tf.contrib.layers.
A name in none of these tables ends in removed_names.py's one line.
"""

# tf.contrib.<key> -> tf.<value>, the 1.x API's name (so `compat.v1.nn.
# rnn_cell...` comes through keras2.py, with tf_keras).
RENAMES = {
    'rnn.RNNCell': 'compat.v1.nn.rnn_cell.RNNCell',
    'rnn.LSTMStateTuple': 'compat.v1.nn.rnn_cell.LSTMStateTuple',
    'rnn.BasicLSTMCell': 'compat.v1.nn.rnn_cell.BasicLSTMCell',
    'rnn.BasicRNNCell': 'compat.v1.nn.rnn_cell.BasicRNNCell',
    'rnn.GRUCell': 'compat.v1.nn.rnn_cell.GRUCell',
    'rnn.LSTMCell': 'compat.v1.nn.rnn_cell.LSTMCell',
    'rnn.MultiRNNCell': 'compat.v1.nn.rnn_cell.MultiRNNCell',
    'rnn.static_rnn': 'compat.v1.nn.static_rnn',
    'rnn.static_state_saving_rnn': 'compat.v1.nn.static_state_saving_rnn',
    'rnn.static_bidirectional_rnn': 'compat.v1.nn.static_bidirectional_rnn',
    'data.AUTOTUNE': 'data.experimental.AUTOTUNE',
    'data.Counter': 'data.experimental.Counter',
    'data.CsvDataset': 'data.experimental.CsvDataset',
    'data.Optional': 'data.experimental.Optional',
    'data.RandomDataset': 'data.experimental.RandomDataset',
    'data.Reducer': 'data.experimental.Reducer',
    'data.SqlDataset': 'data.experimental.SqlDataset',
    'data.TFRecordWriter': 'data.experimental.TFRecordWriter',
    'data.bucket_by_sequence_length':
        'data.experimental.bucket_by_sequence_length',
    'data.choose_from_datasets': 'data.experimental.choose_from_datasets',
    'data.copy_to_device': 'data.experimental.copy_to_device',
    'data.dense_to_sparse_batch': 'data.experimental.dense_to_sparse_batch',
    'data.enumerate_dataset': 'data.experimental.enumerate_dataset',
    'data.get_next_as_optional': 'data.experimental.get_next_as_optional',
    'data.get_single_element': 'data.experimental.get_single_element',
    'data.group_by_reducer': 'data.experimental.group_by_reducer',
    'data.group_by_window': 'data.experimental.group_by_window',
    'data.ignore_errors': 'data.experimental.ignore_errors',
    'data.make_batched_features_dataset':
        'data.experimental.make_batched_features_dataset',
    'data.make_csv_dataset': 'data.experimental.make_csv_dataset',
    'data.make_saveable_from_iterator':
        'data.experimental.make_saveable_from_iterator',
    'data.map_and_batch': 'data.experimental.map_and_batch',
    'data.parallel_interleave': 'data.experimental.parallel_interleave',
    'data.parse_example_dataset': 'data.experimental.parse_example_dataset',
    'data.prefetch_to_device': 'data.experimental.prefetch_to_device',
    'data.rejection_resample': 'data.experimental.rejection_resample',
    'data.sample_from_datasets': 'data.experimental.sample_from_datasets',
    'data.scan': 'data.experimental.scan',
    'data.shuffle_and_repeat': 'data.experimental.shuffle_and_repeat',
    'data.unbatch': 'data.experimental.unbatch',
    'data.unique': 'data.experimental.unique',
    'cluster_resolver.ClusterResolver':
        'distribute.cluster_resolver.ClusterResolver',
    'cluster_resolver.GceClusterResolver':
        'distribute.cluster_resolver.GCEClusterResolver',
    'cluster_resolver.KubernetesClusterResolver':
        'distribute.cluster_resolver.KubernetesClusterResolver',
    'cluster_resolver.SimpleClusterResolver':
        'distribute.cluster_resolver.SimpleClusterResolver',
    'cluster_resolver.SlurmClusterResolver':
        'distribute.cluster_resolver.SlurmClusterResolver',
    'cluster_resolver.TFConfigClusterResolver':
        'distribute.cluster_resolver.TFConfigClusterResolver',
    'distribute.CrossDeviceOps': 'distribute.CrossDeviceOps',
    'distribute.ReductionToOneDeviceCrossDeviceOps':
        'distribute.ReductionToOneDevice',
    'framework.CriticalSection': 'CriticalSection',
    'framework.is_tensor': 'is_tensor',
    'framework.load_variable': 'train.load_variable',
    'framework.sort': 'sort',
    'framework.argsort': 'argsort',
    'framework.nest.assert_same_structure': 'nest.assert_same_structure',
    'framework.nest.flatten': 'nest.flatten',
    'framework.nest.is_sequence': 'nest.is_nested',
    'framework.nest.map_structure': 'nest.map_structure',
    'framework.nest.pack_sequence_as': 'nest.pack_sequence_as',
    # Not in the upgrade script: the same classes under tf.nn.rnn_cell in
    # 1.x, and the functions TensorFlow 1.x's own deprecation notices named.
    'rnn.DropoutWrapper': 'compat.v1.nn.rnn_cell.DropoutWrapper',
    'framework.get_or_create_global_step': 'train.get_or_create_global_step',
    'framework.get_global_step': 'train.get_global_step',
    'batching.batch_function': 'nondifferentiable_batch_function',
    'util.constant_value': 'get_static_value',
    'summary.all_summary_ops': 'compat.v1.summary.all_v2_summary_ops',
    'summary.audio': 'compat.v2.summary.audio',
    'summary.create_file_writer': 'compat.v2.summary.create_file_writer',
    'summary.flush': 'compat.v2.summary.flush',
    'summary.generic': 'compat.v2.summary.write',
    'summary.histogram': 'compat.v2.summary.histogram',
    'summary.image': 'compat.v2.summary.image',
    'summary.initialize': 'compat.v1.summary.initialize',
    'summary.scalar': 'compat.v2.summary.scalar',
    'tpu.CrossShardOptimizer': 'compat.v1.tpu.CrossShardOptimizer',
    'tpu.batch_parallel': 'compat.v1.tpu.batch_parallel',
    'tpu.bfloat16_scope': 'compat.v1.tpu.bfloat16_scope',
    'tpu.core': 'compat.v1.tpu.core',
    'tpu.cross_replica_sum': 'compat.v1.tpu.cross_replica_sum',
    'tpu.initialize_system': 'compat.v1.tpu.initialize_system',
    'tpu.outside_compilation': 'compat.v1.tpu.outside_compilation',
    'tpu.replicate': 'compat.v1.tpu.replicate',
    'tpu.rewrite': 'compat.v1.tpu.rewrite',
    'tpu.shard': 'compat.v1.tpu.shard',
    'tpu.shutdown_system': 'compat.v1.tpu.shutdown_system',
    'training.checkpoints_iterator': 'train.checkpoints_iterator',
    'layers.recompute_grad': 'recompute_grad',
}

# Keyword arguments the upgrade script renamed in calls of these (to None:
# dropped), and whether it added `step=` (the global step) when missing.
KEYWORDS = {
    'summary.audio': ({'tensor': 'data', 'family': None}, True),
    'summary.create_file_writer': ({'name': None}, False),
    'summary.generic': ({'name': 'tag', 'tensor': 'data', 'family': None},
                        True),
    'summary.histogram': ({'tensor': 'data', 'family': None}, True),
    'summary.image': ({'tensor': 'data', 'bad_color': None,
                       'max_images': 'max_outputs', 'family': None}, True),
    'summary.scalar': ({'tensor': 'data', 'family': None}, True),
}

# Successors whose arguments differ more: functions of ours
# (contrib_functions.py) that take the 1.x arguments and call the successor
# the upgrade script wrote. tf.contrib.<key> -> (function, what it runs as).
FUNCTIONS = {
    'layers.xavier_initializer': (
        'xavier_initializer',
        "tf.variance_scaling_initializer(scale=1.0, mode='fan_avg')"),
    'layers.xavier_initializer_conv2d': (
        'xavier_initializer',
        "tf.variance_scaling_initializer(scale=1.0, mode='fan_avg')"),
    'layers.variance_scaling_initializer': (
        'variance_scaling_initializer', 'tf.variance_scaling_initializer'),
    'layers.l1_regularizer': (
        'l1_regularizer', 'scale * tf.reduce_sum(tf.abs(weights))'),
    'layers.l2_regularizer': (
        'l2_regularizer', 'scale * tf.nn.l2_loss(weights)'),
    'summary.always_record_summaries': (
        'always_record_summaries', 'tf.compat.v2.summary.record_if(True)'),
    'summary.never_record_summaries': (
        'never_record_summaries', 'tf.compat.v2.summary.record_if(False)'),
    'learn.datasets.load_dataset': (
        'load_dataset', "mnist_tf1.input_data.load_mnist for 'mnist'"),
}

# Whole modules: tf.contrib.<key> -> the module that continues it.
MODULES = {
    'slim': 'tf_slim',
    'learn.datasets.mnist': 'mnist_tf1.input_data',
    'learn.python.learn.datasets.mnist': 'mnist_tf1.input_data',
}

# tf.contrib.layers.<name> for any other name: tf_slim's.
LAYERS_FALLBACK = ('layers', 'tf_slim.layers')

"""The flags the commands share, defined in one place.

mnist-tf1-train defines them all; mnist-tf1-eval, -predict and -export read
a run's architecture and data flags back from its flags.txt into the same
definitions (run_dir/recorded_flags.py), so each command imports this module
for its flags, as the tutorial's programs defined theirs at the top. Only
command modules import it: it defines flags on import. Each command's own
flags (--watch, --top_k, --export_dir, ...) stay in its module.
"""

from absl import flags

from mnist_tf1 import input_data
from mnist_tf1 import networks

# Basic model parameters as external flags (fully_connected_feed.py's).
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
# Flags only some networks read (see networks/__init__.py); the others
# refuse them.
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
flags.DEFINE_float('save_checkpoint_secs', None,
                   'Also save a checkpoint and evaluate every this many '
                   'seconds (as TensorFlow 1.x\'s CheckpointSaverHook); '
                   'default: by steps only.')
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
flags.DEFINE_integer('steps_per_run', 1,
                     'Training steps per Session.run: 1 is the tutorial\'s '
                     'loop; K > 1 holds the training set in the graph and '
                     'runs K steps in a tf.while_loop, on the same batches '
                     '(K must divide --summary_steps, '
                     '--save_checkpoint_steps and 100).')
flags.DEFINE_integer('trace_steps', 0,
                     'Trace one step in every this many (time and memory '
                     'per op, in TensorBoard\'s graph page); 0: never.')


for _name in ('max_steps', 'hidden1', 'hidden2', 'batch_size',
              'eval_batch_size', 'save_checkpoint_steps', 'summary_steps',
              'steps_per_run'):
    flags.register_validator(
        _name, lambda v: v is not None and v > 0,
        message='--%s must be a positive integer.' % _name)
flags.register_validator('learning_rate', lambda v: v > 0,
                         message='--learning_rate must be positive.')
flags.register_validator('keep_prob', lambda v: v is None or 0 < v <= 1,
                         message='--keep_prob must be in (0, 1].')
flags.register_validator('max_to_keep', lambda v: v is not None and v >= 0,
                         message='--max_to_keep must be 0 (keep all) or more.')
flags.register_validator('save_checkpoint_secs',
                         lambda v: v is None or v > 0,
                         message='--save_checkpoint_secs must be positive.')
flags.register_validator('trace_steps', lambda v: v is not None and v >= 0,
                         message='--trace_steps must be 0 or more.')
flags.register_validator(
    'validation_size', lambda v: 0 <= v < input_data.TRAIN_EXAMPLES,
    message='--validation_size must be between 0 and %d (the training set '
    'has %d examples).' % (input_data.TRAIN_EXAMPLES - 1,
                           input_data.TRAIN_EXAMPLES))

# Which checkpoint the commands that read a trained run restore.
flags.DEFINE_string('checkpoint_path', None,
                    'A checkpoint to use (e.g. <log_dir>/model.ckpt-1000); '
                    'default: the latest good one in --log_dir.')

"""A trained network rebuilt from its run: recorded flags plus a checkpoint.

mnist-tf1-eval, mnist-tf1-predict and mnist-tf1-export all start the same
way: read the architecture (`--model` and the network's HPARAMS) from the
flags the training run recorded in its log dir, build that network's
inference graph afresh, and restore a checkpoint into it.
"""

import os

import tensorflow.compat.v1 as tf

from mnist_tf1 import networks
from mnist_tf1.cli import errors
from mnist_tf1.platform import device
from mnist_tf1.run_dir import checkpoints
from mnist_tf1.run_dir import recorded_flags
from mnist_tf1.training import feeding

_ADVICE = ('leave --%(name)s out: the architecture comes from the run itself')


def run_dir(flag_values):
    """The run's folder: --log_dir, or the folder of --checkpoint_path.

    Args:
      flag_values: the command's parsed FLAGS (--log_dir, --checkpoint_path).

    Raises:
      UserError: both are given and disagree, or --log_dir is a file.
    """
    checkpoint_path = flag_values.checkpoint_path
    if not checkpoint_path:
        log_dir = flag_values.log_dir
        if os.path.isfile(log_dir):
            raise errors.UserError(
                '--log_dir %s is a file, not a run\'s folder; give the folder '
                'mnist-tf1-train wrote the run to' % log_dir)
        return log_dir
    folder = os.path.dirname(checkpoints.strip_suffix(checkpoint_path)) or '.'
    if flag_values['log_dir'].present and (
            os.path.realpath(folder) !=
            os.path.realpath(flag_values.log_dir)):
        raise errors.UserError(
            '--checkpoint_path %s is not in --log_dir %s; give one of them, '
            'or a checkpoint of that run' %
            (checkpoint_path, flag_values.log_dir))
    return folder


def adopt_run_flags(flag_values, log_dir):
    """Sets the flags the user left out to the run's recorded values.

    Args:
      flag_values: the command's parsed FLAGS; changed in place.
      log_dir: the run's folder.

    Returns:
      (network, hparams, recorded): the network module, the values to pass to
      its inference() after the images, and the raw record (None for a run
      that recorded nothing, whose architecture then comes from the flags).

    Raises:
      UserError: a flag given on the command line contradicts the run.
    """
    recorded = recorded_flags.read(log_dir)
    recorded_flags.adopt(flag_values, recorded, log_dir, names=['model'],
                         fixed=['model'], advice=_ADVICE)
    network = networks.get(flag_values.model)
    if recorded is None:
        # A run from before flags were recorded: the network's tutorial
        # settings are the best guess; restore() names any mismatch.
        networks.apply_defaults(flag_values, network)
    recorded_flags.adopt(flag_values, recorded, log_dir,
                         fixed=['model'] + list(network.SPEC.hparams),
                         advice=_ADVICE)
    hparams = [flag_values[name].value for name in network.SPEC.hparams]
    return network, hparams, recorded


class Model(object):
    """One network's inference graph in its own Graph and Session.

    Attributes:
      graph, sess: the graph and a session on it.
      images: float32 [None, 784] placeholder, pixels in [0, 1].
      labels: the labels placeholder (class ids, or one-hot for ONE_HOT
        networks); only with_labels.
      logits, probabilities (softmax), classes (int64 argmax).
      eval_correct: number correct in a batch (network.evaluation); only
        with_labels.
      saver: restores the network's variables.
    """

    def __init__(self, network, hparams, with_labels=True):
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.images, labels = feeding.placeholder_inputs(
                None, network.SPEC.one_hot)
            self.logits = network.inference(self.images, *hparams)
            self.probabilities = tf.nn.softmax(self.logits,
                                               name='probabilities')
            self.classes = tf.argmax(self.logits, 1, name='classes')
            if with_labels:
                self.labels = labels
                self.eval_correct = network.evaluation(self.logits, labels)
            else:
                self.labels = self.eval_correct = None
            # Only the network's own variables: no optimizer slots, no
            # global_step (the checkpoint's step is read from its name).
            self.saver = tf.train.Saver(tf.global_variables())
        self.sess = tf.Session(graph=self.graph,
                               config=device.session_config())
        self.checkpoint = None

    def restore(self, prefix):
        """Loads a checkpoint's weights (UserError if they do not fit)."""
        checkpoints.restore(self.sess, self.saver, prefix)
        self.checkpoint = prefix

    def predict(self, images):
        """(classes [n], probabilities [n, 10]) for float32 images [n, 784]."""
        return self.sess.run([self.classes, self.probabilities],
                             feed_dict={self.images: images})

    def close(self):
        self.sess.close()


def load(flag_values, with_labels=False):
    """The run in --log_dir (or --checkpoint_path) with a checkpoint restored.

    Args:
      flag_values: the command's parsed FLAGS; the run's architecture flags
        are set on it (adopt_run_flags).
      with_labels: whether to build the labels and evaluation ops too.

    Returns:
      (model, network, prefix): the restored Model, its network module and
      the checkpoint's prefix.
    """
    log_dir = run_dir(flag_values)
    network, hparams, _ = adopt_run_flags(flag_values, log_dir)
    prefix = checkpoints.resolve(log_dir, flag_values.checkpoint_path)
    model = Model(network, hparams, with_labels=with_labels)
    model.restore(prefix)
    return model, network, prefix

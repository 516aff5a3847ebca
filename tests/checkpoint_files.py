"""What a run's checkpoints hold, read the way a test checks them."""

import os
import re

import tensorflow.compat.v1 as tf


def checkpoint_steps(log_dir):
    """The steps of the checkpoints in log_dir, in order."""
    return sorted(int(m.group(1)) for m in
                  (re.match(r'^model\.ckpt-(\d+)\.index$', n)
                   for n in os.listdir(log_dir)) if m)


def global_step(prefix):
    """The global step saved in the checkpoint `prefix`."""
    return int(tf.train.load_checkpoint(str(prefix)).get_tensor('global_step'))

"""tf.test.is_built_with_cuda() as TensorFlow 1.x's packages answered it.

TF 1.x's CPU package (`tensorflow`, not `tensorflow-gpu`) was built without
CUDA, and programs such as the official models' MNIST chose their data
format from the answer (channels_first with CUDA). Today's single package
is built with CUDA and says True on a machine without a GPU, where
channels_first convolutions fail. So your code is told what the 1.x
package for this machine would have said: True only where TensorFlow sees
a GPU; and the first time it differs from TensorFlow's own answer, a
warning on stderr says so once.
"""

import functools

import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors


def is_built_with_cuda():
    """True when TensorFlow is built with CUDA and sees a GPU here."""
    built = tf.test.is_built_with_cuda()
    answer = built and bool(tf.config.list_physical_devices('GPU'))
    if answer != built:
        _say_once()
    return answer


@functools.lru_cache(maxsize=1)
def _say_once():
    errors.print_warning(
        'tf.test.is_built_with_cuda() says False, as TensorFlow 1.x\'s CPU '
        'package did: this TensorFlow is built with CUDA but sees no GPU '
        'here')

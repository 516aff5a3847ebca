"""Your TensorFlow 1.x code as written: the names TensorFlow 2 took away.

One line at the top of a notebook or any Python session,

    import mnist_tf1.legacy

and from then on, in your own code (not in TensorFlow's, nor in any other
installed package's):

* `import tensorflow as tf` is the 1.x API: tf.compat.v1, with TensorFlow
  switched to graph mode (2.x behaviour off) at that first import;
* `from tensorflow.examples.tutorials.mnist import input_data` (and
  `mnist`) are this project's modules;
* tf.layers, tf.nn.rnn_cell and tf.keras are Keras 2, as in 1.x (keras2.py,
  from tf_keras), and the parts of tf.contrib with a successor run as it,
  said once on stderr (contrib.py);
* a name TensorFlow removed for good (tf.contrib.factorization,
  tf.train.SummaryWriter, tf.merge_all_summaries, ...) raises an
  AttributeError or ImportError whose one line names it and what replaces
  it.

`mnist-tf1-run PROGRAM.py` (run_program.py) runs a whole program this way.
How it works: import_hook.py; what is refused: removed_names.py; more in
docs/legacy-code.md.
"""

from mnist_tf1.legacy import import_hook

import_hook.install()

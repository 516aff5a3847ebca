"""The peer: tf.keras Model.fit on the same architectures, optimizers, batch
sizes and batches (in a worker process). The one place in the project where
tf.keras appears."""

import time

from bench import project


def keras_model(name, hp, keras):
    """The network as tf.keras layers, or None when none is defined here.

    The architectures, initializers and optimizers of the tutorials (see
    ../shared/REFERENCE.md); learning rates and sizes from the network's own
    defaults (`hp`).
    """
    layers = keras.layers
    init = keras.initializers

    def dense(units, fan_in, **kwargs):
        # Mechanics 101's initializer: truncated normal, 1/sqrt(fan_in).
        return layers.Dense(units, kernel_initializer=init.TruncatedNormal(
            stddev=fan_in ** -0.5), **kwargs)

    lr = hp['learning_rate']
    if name == 'mechanics101':
        h1, h2 = hp.get('hidden1', 128), hp.get('hidden2', 32)
        stack = [dense(h1, 784, activation='relu'),
                 dense(h2, h1, activation='relu'), dense(10, h2)]
        optimizer = keras.optimizers.SGD(lr)
    elif name == 'softmax':
        stack = [layers.Dense(10, kernel_initializer=init.RandomNormal(
            stddev=1.0))]
        optimizer = keras.optimizers.SGD(lr)
    elif name == 'dropout_mlp':
        rate = 1.0 - hp.get('keep_prob', 0.2)
        normal = dict(kernel_initializer=init.TruncatedNormal(stddev=0.1),
                      bias_initializer=init.Constant(0.1))
        stack = [layers.Dense(hp.get('hidden1', 500), activation='softmax',
                              **normal),
                 layers.Dropout(rate),
                 layers.Dense(hp.get('hidden2', 100), activation='relu',
                              **normal),
                 layers.Dropout(rate), layers.Dense(10, **normal)]
        optimizer = keras.optimizers.Adam(lr)
    elif name == 'three_layer':
        normal = dict(kernel_initializer=init.RandomNormal(stddev=0.03),
                      bias_initializer=init.RandomNormal(stddev=0.03))
        stack = [layers.Dense(hp.get('hidden1', 300), activation='relu',
                              **normal),
                 layers.Dense(10, **normal)]
        optimizer = keras.optimizers.SGD(lr)
    elif name == 'deep_cnn':
        normal = dict(kernel_initializer=init.TruncatedNormal(stddev=0.1),
                      bias_initializer=init.Constant(0.1))
        stack = [layers.Reshape((28, 28, 1)),
                 layers.Conv2D(32, 5, padding='same', activation='relu',
                               **normal),
                 layers.MaxPooling2D(2),
                 layers.Conv2D(64, 5, padding='same', activation='relu',
                               **normal),
                 layers.MaxPooling2D(2), layers.Flatten(),
                 layers.Dense(1024, activation='relu', **normal),
                 layers.Dropout(1.0 - hp.get('keep_prob', 0.5)),
                 layers.Dense(10, **normal)]
        optimizer = keras.optimizers.Adam(lr)
    else:
        return None, None
    return keras.Sequential([keras.Input((784,))] + stack), optimizer


def work_keras(model, args, steps, batch_size=None):
    """The peer: tf.keras Model.fit, same architecture, data and batch size.

    Args:
      batch_size: train with this batch size instead of the network's (1:
        the fixed cost of a step, the arithmetic left out).
    """
    import numpy as np
    import tensorflow.compat.v1 as tf1
    from mnist_tf1 import networks
    network = networks.get(model)
    flag_values = project.project_flags(model, args, steps, args.tmp)
    hp = {name: flag_values[name].value for name in flag_values
          if name in network.SPEC.defaults or name in network.SPEC.hparams}
    hp.setdefault('learning_rate', flag_values.learning_rate)
    batch_size = batch_size or flag_values.batch_size
    steps = flag_values.max_steps
    # The training command switched TensorFlow to graph mode; Keras needs TF2
    # behaviour back, which is allowed while no graph has been made in this
    # process (reading the data sets would make the default one: its DataSets
    # take their seed as TensorFlow 1.x's did, from the graph's).
    tf1.enable_v2_behavior()
    data_sets = project.read_data(model, args, flag_values)
    images, labels = project.first_epoch(data_sets.train, network.SPEC.one_hot)
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    keras = tf.keras
    keras.utils.set_random_seed(args.seed)
    net, optimizer = keras_model(model, hp, keras)
    if net is None:
        return {'skipped': 'no tf.keras version of %s in benchmark.py' % model}
    if network.SPEC.one_hot:
        loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    net.compile(optimizer=optimizer, loss=loss, metrics=['accuracy'])

    class StepTimer(keras.callbacks.Callback):
        """Stamps the end of every batch; stops after `steps` batches."""

        def __init__(self):
            super().__init__()
            self.start = None
            self.ends = []

        def on_train_batch_begin(self, batch, logs=None):
            if self.start is None:
                self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(time.perf_counter())
            if len(self.ends) >= steps:
                self.model.stop_training = True

    timer = StepTimer()
    epochs = -(-steps * batch_size // len(images))
    # shuffle=False: the batches are the training loop's first epoch (the
    # arrays are already in that order), and later epochs repeat it.
    net.fit(images, labels, batch_size=batch_size, epochs=epochs,
            shuffle=False, verbose=0, callbacks=[timer])
    ends = timer.ends
    # The first step traces and compiles the step function (a second or so,
    # once per process); it is left out, in the peer's favour.
    step_us = (ends[-1] - ends[0]) / (len(ends) - 1) * 1e6
    test_images = np.asarray(data_sets.test.images, dtype=np.float32)
    test_labels = data_sets.test.labels.astype(
        np.float32 if network.SPEC.one_hot else np.int32)
    _, accuracy = net.evaluate(test_images, test_labels, batch_size=2000,
                               verbose=0)
    return {'steps': len(ends), 'batch_size': batch_size, 'step_us': step_us,
            'first_step_s': ends[0] - timer.start,
            'test_precision': float(accuracy)}

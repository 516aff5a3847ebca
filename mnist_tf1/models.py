"""The networks `mnist-tf1-train --model` can train, by name.

Each network is a module with the Mechanics 101 functions `inference`,
`loss`, `training` and `evaluation`, plus:
  HPARAMS: names of the flags passed to inference() after the images.
  DEFAULTS: the tutorial's settings, applied to flags the user did not set.
  ONE_HOT: whether the network's labels are one-hot vectors.
"""

import importlib

# --model name -> module inside mnist_tf1.
NETWORKS = {
    'mechanics101': 'mnist',
}


def get(name):
    """Returns the module implementing network `name`."""
    return importlib.import_module('mnist_tf1.' + NETWORKS[name])


def apply_defaults(flag_values, network):
    """Sets the network's tutorial settings on the flags the user left alone.

    Args:
      flag_values: absl FlagValues (FLAGS), already parsed.
      network: a module from get().
    """
    for name, value in network.DEFAULTS.items():
        if not flag_values[name].present:
            flag_values[name].value = value

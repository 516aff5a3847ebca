"""The machine underneath: the device to train on, files written whole."""

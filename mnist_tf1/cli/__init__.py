"""What the commands share at the command line: one-line errors, quiet
TensorFlow, Ctrl-C and SIGTERM, the flags several commands define."""

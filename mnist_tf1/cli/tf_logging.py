"""Keeps TensorFlow's start-up log noise out of the commands' output.

TensorFlow prints C++ log lines (oneDNN notices, "could not find cuda
drivers", and depending on the version "Unable to register cuDNN factory" or
absl's "All log messages before absl::InitializeLog()") while it is imported,
before any flag has been parsed, and in 2.21 TF_CPP_MIN_LOG_LEVEL no longer
silences all of them. So each command (and only a command: importing a
library module changes nothing) calls start_command() before it imports
TensorFlow, which then loads with stderr pointed at /dev/null, unless the
user asked for the noise back with `--tf_verbose` (or MNIST_TF1_TF_VERBOSE=1
in the environment).
"""

import contextlib
import logging
import os
import sys

VERBOSE_FLAG = '--tf_verbose'
VERBOSE_ENV = 'MNIST_TF1_TF_VERBOSE'


def verbose_requested(argv=None):
    """True when the user asked for TensorFlow's own log lines."""
    argv = sys.argv if argv is None else argv
    if os.environ.get(VERBOSE_ENV, '') not in ('', '0', 'false', 'False'):
        return True
    # Flags are not parsed yet when TensorFlow is imported, so look at argv.
    return any(a in (VERBOSE_FLAG, VERBOSE_FLAG + '=true', VERBOSE_FLAG + '=1')
               for a in argv[1:])


@contextlib.contextmanager
def _stderr_muted():
    """Points file descriptor 2 at /dev/null; restores it even on error."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        # No usable stderr (some embedded interpreters): nothing to mute.
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow(verbose=None):
    """Imports tensorflow.compat.v1 in graph mode, quietly unless verbose.

    Args:
      verbose: True keeps TensorFlow's log lines; None reads argv/environment.

    Returns:
      The tensorflow.compat.v1 module.
    """
    if verbose is None:
        verbose = verbose_requested()
    if verbose:
        import tensorflow.compat.v1 as tf  # pylint: disable=g-import-not-at-top
    else:
        # Level 3: even the C++ ERROR lines at start-up ("failed call to cuInit"
        # on a machine without a GPU) are noise; real failures raise in Python.
        os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
        with _stderr_muted():
            import tensorflow.compat.v1 as tf  # pylint: disable=g-import-not-at-top
        tf.get_logger().setLevel(logging.ERROR)
    tf.disable_v2_behavior()
    return tf


def start_command(verbose=None):
    """What every command does first: imports TensorFlow as import_tensorflow()
    does (quiet unless verbose, graph mode).

    Ctrl-C in the seconds the import takes ends the program with one line and
    the shell's status, 130, as it does once the program runs
    (errors.run_cli).

    Args:
      verbose: True keeps TensorFlow's log lines; None reads argv/environment.

    Returns:
      The tensorflow.compat.v1 module.
    """
    try:
        return import_tensorflow(verbose)
    except KeyboardInterrupt:
        sys.stderr.write('mnist-tf1: stopped by Ctrl-C (while importing '
                         'TensorFlow)\n')
        sys.stdout.flush()
        sys.stderr.flush()
        # Not sys.exit: when the signal lands in Python code that TensorFlow's
        # extensions run through PyRun_* (pybind11's exec), CPython marks the
        # KeyboardInterrupt unhandled though we caught it, and at exit kills
        # itself with SIGINT: status -2, not 130. Nothing is open yet to close.
        os._exit(130)


class _NoDeprecationNotices(logging.Filter):
    """Drops the records TensorFlow's deprecation machinery logs."""

    # Every "... is deprecated" notice comes from one of these: the
    # decorators on deprecated functions, arguments and aliases, and the
    # wrapper that warns of names moved to tf.compat.v1.
    _SOURCES = (('python', 'util', 'deprecation.py'),
                ('python', 'util', 'module_wrapper.py'))

    def __init__(self, folder):
        super().__init__()
        self._paths = {os.path.join(folder, *parts) for parts in self._SOURCES}

    def filter(self, record):
        return record.pathname not in self._paths


def show_programs_records(tf):
    """For a program mnist-tf1-run runs: tf.logging shows what TensorFlow
    1.x showed, at the level the program sets (1.x's default: warnings),
    its own lines and TensorFlow's (a hook's loss lines, "Saving checkpoints
    for ...", a NaN loss's warning). Only TensorFlow 2's deprecation notices
    for the 1.x API the program is written in stay hidden, as in the
    commands.

    Args:
      tf: the tensorflow.compat.v1 module, as start_command() returned it.
    """
    logger = tf.get_logger()
    logger.setLevel(logging.NOTSET)
    logger.addFilter(_NoDeprecationNotices(
        os.path.dirname(sys.modules['tensorflow'].__file__)))
    if logger.handlers:
        # Its own handler writes 1.x's 'INFO:tensorflow:...' line; absl's,
        # which tf.app.run puts on the root logger, would write each again.
        logger.propagate = False


@contextlib.contextmanager
def stderr_muted(unless=False):
    """Mutes what C++ libraries write to stderr during a block (Python's own
    errors still raise); `unless=True` leaves stderr alone."""
    if unless:
        yield
        return
    with _stderr_muted():
        yield

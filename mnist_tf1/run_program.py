"""Runs your TensorFlow 1.x program as written, on today's TensorFlow.

    mnist-tf1-run PROGRAM.py [ARGS...]    # or: python -m mnist_tf1.run_program

The program runs as `python PROGRAM.py ARGS...` ran it under TensorFlow 1.x:
its own sys.argv, `__name__ == '__main__'`, its folder first on sys.path, its
exit status passed on. In its code (mnist_tf1/legacy/), `import tensorflow as
tf` is the 1.x API in graph mode, `from tensorflow.examples.tutorials.mnist
import input_data` (and `mnist`) are this project's modules, tf.app.flags and
tf.app.run work, tf.layers and tf.nn.rnn_cell are Keras 2's, and the parts of
tf.contrib with a successor run as it. A name TensorFlow removed for good (or
a Keras 2 name without tf_keras) ends the program with one line that names it
and what replaces it, and status 1; so do this project's one-line errors (a
download that fails, a damaged MNIST file).

Options, before PROGRAM.py: --tf_verbose shows TensorFlow's own log lines
(MNIST_TF1_TF_VERBOSE=1 does too).
"""

import os
import runpy
import sys
import traceback
import warnings

from absl import flags

from mnist_tf1.cli import errors
from mnist_tf1.cli import tf_logging

PROG = 'mnist-tf1-run'
USAGE = 'usage: %s [--tf_verbose] PROGRAM.py [ARGS...]\n' % PROG

# What tf_keras and tf_slim warn of each tf.layers or tf.nn.rnn_cell name.
_KERAS2_NOTICES = r'`[\w.]+` is deprecated and will be removed'

# The frames of this runner, left out of a program's traceback.
_RUNNER_FILES = frozenset([os.path.abspath(__file__),
                           os.path.abspath(runpy.__file__), '<frozen runpy>'])


def parse_args(argv):
    """(verbose, program, program_args) from this command's argv.

    Raises:
      SystemExit: no program, or not a file (status 2); --help (status 0).
    """
    args = list(argv[1:])
    verbose = tf_logging.verbose_requested([])  # The environment's say.
    while args and args[0].startswith('-'):
        option = args.pop(0)
        if option in ('-h', '--help'):
            sys.stdout.write(USAGE + '\n' + __doc__)
            sys.exit(0)
        if option != tf_logging.VERBOSE_FLAG:
            _fail('unknown option %s; options go before PROGRAM.py, the '
                  "program's own after it" % option, 2)
        verbose = True
    if not args:
        sys.stderr.write(USAGE)
        sys.exit(2)
    program, program_args = args[0], args[1:]
    if not os.path.isfile(program):
        _fail('cannot run %s: no such file; give the path of a Python '
              'program' % program, 2)
    return verbose, program, program_args


def _fail(message, status=1):
    """One line on stderr, then the exit status."""
    sys.stdout.flush()
    errors.print_error(message, PROG)
    sys.exit(status)


def prepare(verbose, program, program_args):
    """Makes this process what `python PROGRAM.py ARGS...` would be, with
    TensorFlow 1.x's names for the program's code."""
    tf = tf_logging.start_command(verbose)
    if not verbose:
        tf_logging.show_programs_records(tf)
        # Keras 2's notices that tf.layers and tf.nn.rnn_cell are
        # deprecated: the program is written in them on purpose.
        warnings.filterwarnings('ignore', _KERAS2_NOTICES, UserWarning)
    # The hooks: after TensorFlow itself is in, before the program.
    import mnist_tf1.legacy  # pylint: disable=g-import-not-at-top,unused-import
    # As cli/flags.py does for the commands: absl.logging's --log_dir (for
    # log files nobody here writes) would make a program's own `log_dir`
    # flag, common in TensorFlow 1.x programs, a DuplicateFlagError.
    if 'log_dir' in flags.FLAGS:
        delattr(flags.FLAGS, 'log_dir')
    sys.argv = [program] + program_args
    # Python puts the program's own folder first (here: this runner's).
    sys.path[0] = os.path.dirname(os.path.realpath(program))


def run_as_main(program):
    """Runs the program as __main__; returns the exit status of an ending
    that is not its own sys.exit() (which passes through)."""
    from mnist_tf1.legacy import removed_names  # pylint: disable=g-import-not-at-top
    try:
        runpy.run_path(os.path.abspath(program), run_name='__main__')
    except (removed_names.Removed, errors.UserError) as e:
        _fail('%s%s' % (_where(e), e))
    except KeyboardInterrupt:
        sys.stdout.flush()
        sys.stderr.write('%s: stopped by Ctrl-C\n' % PROG)
        return 130
    except BrokenPipeError:
        # As the commands do (errors.run_cli): the reader went away.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as e:  # pylint: disable=broad-except
        # As Python shows it: the program's frames, not this runner's.
        sys.stdout.flush()
        traceback.print_exception(type(e), e, _program_frames(e.__traceback__))
        return 1
    return 0


def _program_frames(tb):
    while tb is not None and tb.tb_frame.f_code.co_filename in _RUNNER_FILES:
        tb = tb.tb_next
    return tb


def _where(e):
    """'PROGRAM.py:12: ' for the program's line that raised e, or ''."""
    # pylint: disable=g-import-not-at-top
    from mnist_tf1.legacy import import_hook
    where = ''
    for frame, lineno in traceback.walk_tb(e.__traceback__):
        path = frame.f_code.co_filename
        if path not in _RUNNER_FILES and import_hook.is_user_file(path):
            relative = os.path.relpath(path)
            shown = path if relative.startswith(os.pardir) else relative
            where = '%s:%d: ' % (shown, lineno)
    return where


def main(argv):
    """Runs PROGRAM.py as asked by argv; returns the exit status."""
    verbose, program, program_args = parse_args(argv)
    prepare(verbose, program, program_args)
    return run_as_main(program)


def run():
    """Console-script entry point: mnist-tf1-run."""
    sys.exit(main(sys.argv))


if __name__ == '__main__':
    run()

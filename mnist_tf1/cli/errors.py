"""User-facing errors: one clear line, a non-zero exit, no traceback."""

import os
import re
import sys

# How a cluster's error says which task it comes from ('From /job:ps/...:',
# or 'UNAVAILABLE: From /job:...' when several are listed).
_FROM_TASK = re.compile(r'^([A-Z_]+: )?From /job:')


class UserError(Exception):
    """A problem the user can fix: a bad file, a bad flag, a missing checkpoint.

    The message is one line that says what went wrong, where, and what to do.
    """


class UserValueError(UserError, ValueError):
    """A UserError that programs written for TensorFlow 1.x catch as ValueError.

    Where the original input_data.py raised ValueError (a wrong magic number,
    a validation size that does not fit), ours says more, in one line, and
    `except ValueError` in such a program still catches it.
    """


def program_name():
    """The name the user ran the program by, for the start of its lines."""
    return sys.argv[0].rsplit('/', 1)[-1] if sys.argv else 'mnist-tf1'


def print_error(message, program=None):
    """Writes `<program>: error: <message>` on stderr: the one form every
    user error takes, whether it ends the program or not.

    Args:
      message: the one line.
      program: the name to start with; default: the one the user ran.
    """
    sys.stderr.write('%s: error: %s\n' % (program or program_name(), message))
    sys.stderr.flush()


def print_warning(message):
    """Writes `warning: <message>` on stderr; the program goes on."""
    sys.stderr.write('warning: %s\n' % message)
    sys.stderr.flush()


def run_cli(main, argv=None):
    """Runs an absl `main`, turning a UserError into one line on stderr.

    Args:
      main: the program's main(argv) function.
      argv: optional argument list (defaults to sys.argv).
    """
    # Imported here so that importing this module stays cheap for tests.
    from absl import app

    def _main(args):
        _warn_if_untested_tensorflow()
        try:
            return main(args)
        except UserError as e:
            print_error(e)
            # os._exit is not needed: absl's app.run turns SystemExit into the
            # exit status without printing a traceback.
            sys.exit(1)
        except KeyboardInterrupt:
            # Ctrl-C outside the training loop (which stops at a step and
            # saves it: interruption.py): while downloading, building,
            # evaluating. What was being written is cleaned up on the way out
            # (temporary files); say so in one line, with the shell's status.
            sys.stderr.write('%s: stopped by Ctrl-C\n' % program_name())
            sys.stderr.flush()
            sys.exit(130)
        except BrokenPipeError:
            # The reader of our output went away (`mnist-tf1-train | head`):
            # stop as a program killed by SIGPIPE would, without a traceback.
            # Python would still try to flush stdout at exit and complain.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(141)

    app.run(_main, argv=argv)


def _warn_if_untested_tensorflow():
    # Imported here: the commands have TensorFlow loaded by now, and
    # importing this module stays cheap.
    import tensorflow as tf
    from mnist_tf1.platform import tf_versions
    message = tf_versions.untested_warning(tf.__version__)
    if message:
        print_warning(message)


def tf_reason(e, limit=200):
    """The line of a TensorFlow error that says what went wrong.

    A session's errors start with 'Graph execution error:' and a traceback of
    where the op was defined; the reason is the last plain line. An error
    from another task of a cluster says where it comes from ('From
    /job:ps/...:') and then why, followed by gRPC's details: the line after.
    """
    text = getattr(e, 'message', None) or str(e)
    lines = [l.strip() for l in text.splitlines()
             if l.strip() and not l[:1].isspace()
             and not l.startswith(('Graph execution error', '=====',
                                   'Detected at node', 'Node:'))]
    for where, why in zip(lines, lines[1:]):
        if _FROM_TASK.match(where):
            return why[:limit]
    return (lines[-1] if lines else type(e).__name__)[:limit]

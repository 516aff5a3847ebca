"""The flags a training run used, recorded in its log dir and read back.

mnist-tf1-train writes its flags into `<log_dir>/flags.txt`, an absl flagfile
(one `--name=value` per line), so that the run carries its own architecture:
a resumed run, mnist-tf1-eval, mnist-tf1-predict and mnist-tf1-export read
`--model` and the network's layer sizes from it and the user never repeats
them. The same file reruns the recipe elsewhere:

    mnist-tf1-train --flagfile=/tmp/run1/flags.txt --log_dir=/tmp/run2
"""

import os

from absl import flags

from mnist_tf1.cli import errors
from mnist_tf1.platform import atomic_write

FILENAME = 'flags.txt'

# Flags about one invocation, not about the run: never recorded, never
# inherited. (--log_dir is where the record lives; the run may be moved.)
NOT_RECORDED = frozenset([
    'log_dir', 'fresh', 'delete_previous', 'tf_verbose',
    'log_device_placement', 'flagfile', 'checkpoint_path',
    # Which task of which cluster a process is belongs to that process, not
    # to the run: the recipe reruns on one machine or on another cluster.
    'ps_hosts', 'worker_hosts', 'job_name', 'task_index', 'sync_replicas',
    'replicas_to_aggregate', 'cluster_timeout', 'cluster_ports_closed',
])

_HEADER = ('# The flags of the mnist-tf1-train run in this folder (an absl '
           'flagfile).\n'
           '# Written by mnist-tf1-train; mnist-tf1-eval, -predict and -export '
           'read the\n'
           '# architecture from it. To rerun the recipe elsewhere:\n'
           '#   mnist-tf1-train --flagfile=THIS_FILE --log_dir=NEW_DIR\n')

# The mnist_tf1 package folder (this module is in mnist_tf1/run_dir/).
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def path(log_dir):
    """Where a run in log_dir records its flags."""
    return os.path.join(log_dir, FILENAME)


def _defined_here(module_name):
    """True for flags defined by this package (the training program's own).

    absl names the module that defined a flag by its import name, or by the
    script's path when it ran as __main__ (python -m mnist_tf1.xxx).
    """
    if module_name == 'mnist_tf1' or module_name.startswith('mnist_tf1.'):
        return True
    return (module_name.endswith('.py') and
            os.path.dirname(os.path.abspath(module_name)) == _PACKAGE_DIR)


def recorded_names(flag_values):
    """Names of the flags a run records: this package's, less NOT_RECORDED."""
    names = set()
    for module_name, module_flags in flag_values.flags_by_module_dict().items():
        if _defined_here(module_name):
            names.update(f.name for f in module_flags)
    return sorted(names - NOT_RECORDED)


def record(log_dir, flag_values):
    """Writes the run's flags to <log_dir>/flags.txt, whole or not at all.

    Args:
      log_dir: the run's folder (exists).
      flag_values: parsed absl FlagValues holding the values the run uses.

    Returns:
      The path written.
    """
    lines = []
    for name in recorded_names(flag_values):
        flag = flag_values[name]
        if flag.value is None:
            continue
        if isinstance(flag.value, bool):
            # --name=true/false rather than --noname: one spelling per flag.
            lines.append('--%s=%s' % (name, 'true' if flag.value else 'false'))
        else:
            lines.append(flag.serialize())
    target = path(log_dir)
    atomic_write.write(target, (_HEADER + '\n'.join(lines) + '\n').encode())
    return target


def read(log_dir):
    """Reads the flags recorded in log_dir.

    Returns:
      {name: raw value string}, or None when the folder holds no record (no
      run yet, or a run from before records). A bare boolean (`--name` or
      `--noname`, as a user may write) maps to None; adopt() resolves it.

    Raises:
      UserError: the record exists but cannot be read.
    """
    flagfile = path(log_dir)
    if not os.path.isfile(flagfile):
        return None
    damage = _damage(flagfile)
    if damage:
        raise errors.UserError(
            '%s is damaged (%s); restore it, or delete it and give the run\'s '
            '--model and layer sizes yourself' % (flagfile, damage))
    try:
        # absl's own flagfile reader: comments, blank lines, nested
        # --flagfile lines are handled as they are on the command line.
        args = flags.FlagValues().read_flags_from_files(
            ['--flagfile=' + flagfile], force_gnu=True)
    except (flags.Error, OSError) as e:
        raise errors.UserError('cannot read %s (%s); fix or delete it' %
                               (flagfile, e))
    recorded = {}
    for arg in args:
        if not arg.startswith('--'):
            raise errors.UserError('%s has a line that is not a flag: %r; fix '
                                   'or delete it' % (flagfile, arg))
        name, eq, value = arg[2:].partition('=')
        recorded[name] = value if eq else None
    return recorded


def _damage(flagfile):
    """What is wrong with a flags.txt as record() writes it, or None.

    record() writes whole, text, ending in a newline; a user's edits keep
    that. Anything else was damaged on disk or cut short.
    """
    try:
        with open(flagfile, 'rb') as f:
            data = f.read()
    except OSError as e:
        return 'cannot read it: %s' % (e.strerror or e)
    if not data:
        return 'it is empty'
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        return 'it is not text'
    if '\0' in text:
        return 'it is not text'
    if not text.endswith('\n'):
        return 'it is cut short: its last line has no end'
    return None


def _resolve_booleans(flag_values, recorded):
    """Turns bare `--name` / `--noname` entries into name: 'true'/'false'."""
    resolved = {}
    for name, raw in recorded.items():
        if raw is None:
            if name not in flag_values and name.startswith('no'):
                name, raw = name[2:], 'false'
            else:
                raw = 'true'
        resolved[name] = raw
    return resolved


def value(flag_values, recorded, name, log_dir):
    """The recorded value of one flag, typed by its parser; None if absent."""
    recorded = _resolve_booleans(flag_values, recorded or {})
    if name not in recorded or name not in flag_values:
        return None
    return _typed(flag_values, name, recorded[name], path(log_dir))


def _typed(flag_values, name, raw, source):
    try:
        return flag_values[name].parser.parse(raw)
    except (ValueError, TypeError, flags.Error) as e:
        raise errors.UserError('%s records --%s=%s, which is not valid here '
                               '(%s); fix or delete that line' %
                               (source, name, raw, e))


def adopt(flag_values, recorded, log_dir, names=None, fixed=(), advice=''):
    """Gives the flags the user left alone the run's recorded values.

    A flag the user did set keeps the user's value, except a `fixed` one (the
    architecture): that one must agree with the record.

    Args:
      flag_values: parsed absl FlagValues.
      recorded: from read(); None does nothing.
      log_dir: the run's folder, for messages.
      names: adopt only these names (default: every recorded flag this
        program defines; others are ignored).
      fixed: names whose value the user may not change.
      advice: what to do instead, ending the one-line error; '%(name)s'
        in it stands for the flag's name.

    Raises:
      UserError: a fixed flag given on the command line contradicts the run.
    """
    if not recorded:
        return
    recorded = _resolve_booleans(flag_values, recorded)
    source = path(log_dir)
    for name in sorted(recorded if names is None else names):
        if name not in recorded or name not in flag_values:
            continue
        if name in NOT_RECORDED:
            continue
        value = _typed(flag_values, name, recorded[name], source)
        flag = flag_values[name]
        if not flag.present:
            flag.value = value
        elif name in fixed and flag.value != value:
            raise errors.UserError(
                '--%s=%s contradicts the run in %s, which was trained with '
                '--%s=%s (recorded in %s)%s' %
                (name, flag.serialize().partition('=')[2] or flag.value,
                 log_dir, name, recorded[name], source,
                 '; ' + advice % {'name': name} if advice else ''))

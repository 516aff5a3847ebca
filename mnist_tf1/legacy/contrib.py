"""The `tf.contrib` your 1.x code gets: its parts that have a successor.

`tf.contrib.<name>` (and `import tensorflow.contrib.<name>`, through
import_hook.py) is the successor contrib_renames.py names for it, said once
on stderr in one line (`tf.contrib.rnn.BasicLSTMCell runs as
tf.compat.v1.nn.rnn_cell.BasicLSTMCell`); a name with none raises
removed_names' one line. CONTRIB is tf.contrib itself (successors.py's
entry); its parts are ContribModules made on first use.
"""

import functools
import importlib
import sys
import types

from mnist_tf1.cli import errors
from mnist_tf1.legacy import contrib_renames
from mnist_tf1.legacy import removed_names


def _names_under(dotted):
    """True when a table has a name under tf.contrib.<dotted>."""
    prefix = dotted + '.'
    tables = (contrib_renames.RENAMES, contrib_renames.FUNCTIONS,
              contrib_renames.MODULES)
    return any(key.startswith(prefix) for table in tables for key in table)


@functools.lru_cache(maxsize=None)
def say_once(old, new):
    """Writes `<old> runs as <new>` on stderr, the first time only."""
    errors.print_warning('%s runs as %s' % (old, new))


def _tf_name(dotted):
    """tf.<dotted> in the 1.x API (tf1_module: Keras 2 names included)."""
    from mnist_tf1.legacy import tf1_module  # pylint: disable=g-import-not-at-top
    value = tf1_module.get()
    for part in dotted.split('.'):
        value = getattr(value, part)
    return value


def _with_keywords(function, renames, add_step):
    """`function` taking the keyword arguments the 1.x name took."""

    @functools.wraps(function)
    def call(*args, **kwargs):
        for old, new in renames.items():
            if old in kwargs:
                value = kwargs.pop(old)
                if new is not None:
                    kwargs[new] = value
        if add_step and kwargs.get('step') is None:
            kwargs['step'] = _tf_name('train.get_or_create_global_step')()
        return function(*args, **kwargs)
    return call


def successor(dotted):
    """What tf.contrib.<dotted> runs as: (value, its name), or None.

    Only names with a successor of their own; a namespace (tf.contrib.rnn)
    is not one.
    """
    if dotted in contrib_renames.RENAMES:
        target = contrib_renames.RENAMES[dotted]
        value = _tf_name(target)
        if dotted in contrib_renames.KEYWORDS:
            value = _with_keywords(value, *contrib_renames.KEYWORDS[dotted])
        return value, 'tf.' + target
    if dotted in contrib_renames.FUNCTIONS:
        function, runs_as = contrib_renames.FUNCTIONS[dotted]
        module = importlib.import_module('mnist_tf1.legacy.contrib_functions')
        return getattr(module, function), runs_as
    if dotted in contrib_renames.MODULES:
        module_name = contrib_renames.MODULES[dotted]
        return _import(dotted, module_name), module_name
    parent, _, name = dotted.rpartition('.')
    layers, slim_layers = contrib_renames.LAYERS_FALLBACK
    if parent == layers:
        value = getattr(_import(dotted, slim_layers), name, None)
        if value is not None:
            return value, '%s.%s' % (slim_layers, name)
    return None


class SuccessorMissing(removed_names.Removed, AttributeError):
    """A tf.contrib name whose successor's package is not installed."""


def _import(dotted, module_name):
    """The successor's module; one line when tf_slim is missing."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if (e.name or '').partition('.')[0] != 'tf_slim':
            raise
        raise SuccessorMissing(
            "tf.contrib.%s runs as %s, which is not installed; install it: "
            "pip install 'tf_slim>=1.1,<2'" % (dotted, module_name)) from None


def resolve(dotted, frame=None):
    """tf.contrib.<dotted> for your code, said once when substituted.

    Args:
      dotted: the name under tf.contrib, e.g. 'rnn.BasicLSTMCell'.
      frame: the frame of the code that asked, whose line says the whole
        name in the one line of a name with no successor.

    Raises:
      removed_names.RemovedAttribute: a name with no successor.
    """
    found = successor(dotted)
    if found is not None:
        value, name = found
        say_once('tf.contrib.' + dotted, name)
        return value
    if _names_under(dotted):
        return ContribModule(dotted)
    spelled = 'contrib.' + dotted
    if frame is not None:
        spelled = removed_names.spelled_out(spelled, frame.f_code.co_filename,
                                            frame.f_lineno)
    raise removed_names.RemovedAttribute(removed_names.message(
        'tf.' + spelled, removed_names.lookup(spelled)))


class ContribModule(types.ModuleType):
    """tf.contrib, or a part of it that holds successors (tf.contrib.rnn)."""

    def __init__(self, dotted=''):
        super().__init__('tensorflow.contrib' + ('.' + dotted if dotted
                                                 else ''))
        self.__dict__['_contrib_path'] = dotted + '.' if dotted else ''
        # A package, so that `import tensorflow.contrib.rnn` looks inside.
        self.__path__ = []

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        # sys._getframe(1): the code that asked, not this method.
        value = resolve(self.__dict__['_contrib_path'] + name,
                        sys._getframe(1))
        self.__dict__[name] = value
        return value

    def __repr__(self):
        return '<TensorFlow 1.x module %r (its successors)>' % self.__name__


CONTRIB = ContribModule()


def module_for_import(name):
    """The module `import <name>` gets, for a name under tensorflow.contrib.

    Raises:
      removed_names.RemovedModule: no successor, or not a module.
    """
    dotted = name[len('tensorflow.contrib') + 1:]
    if not dotted:
        return CONTRIB
    try:
        value = getattr(CONTRIB, dotted.split('.')[0])
        for part in dotted.split('.')[1:]:
            value = getattr(value, part)
    except SuccessorMissing as e:
        raise removed_names.RemovedModule(str(e)) from None
    except removed_names.Removed:
        value = None
    if isinstance(value, types.ModuleType):
        return value
    raise removed_names.RemovedModule(removed_names.message(
        name, removed_names.lookup('contrib.' + dotted)))


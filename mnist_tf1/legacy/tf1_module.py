"""The module your code's `import tensorflow as tf` gets: the 1.x API.

It is tensorflow.compat.v1 under the name `tensorflow` (every attribute is
the compat.v1 one, looked up when used, unless successors.py provides it),
with TensorFlow in graph mode, and with the names TensorFlow removed
(removed_names.py) refused in one line that says what replaces them. It is a module of its own: TensorFlow's
modules, `sys.modules['tensorflow']` included, are left as they are.
"""

import functools
import importlib
import logging
import sys
import types

from mnist_tf1.legacy import removed_names
from mnist_tf1.legacy import successors

_module = None


def made():
    """Whether get() has made the module (and switched to graph mode)."""
    return _module is not None


def get():
    """The 1.x `tensorflow` module; the first call switches TensorFlow to
    graph mode (2.x behaviour off), as TensorFlow 1.x programs expect."""
    global _module
    if _module is None:
        v1 = importlib.import_module('tensorflow.compat.v1')
        logger = v1.get_logger()
        level = logger.level
        # Its own deprecation warning about itself is no news to the user.
        logger.setLevel(logging.ERROR)
        try:
            v1.disable_v2_behavior()
        finally:
            logger.setLevel(level)
        _module = Tf1Module(v1)
    return _module


class Tf1Module(types.ModuleType):
    """A TensorFlow 1.x API module (or submodule) standing for `target`."""

    def __init__(self, target, path=''):
        """Args:
          target: the tf.compat.v1 module (or one of its submodules).
          path: its dotted name under `tf.`, with a trailing '.' ('' for tf).
        """
        super().__init__('tensorflow' + ('.' + path[:-1] if path else ''),
                         getattr(target, '__doc__', None))
        self.__dict__['_tf1_target'] = target
        self.__dict__['_tf1_path'] = path

    def __getattr__(self, name):
        target = self.__dict__['_tf1_target']
        dotted = self.__dict__['_tf1_path'] + name
        provided = successors.lookup(dotted)
        if provided is not None:
            self.__dict__[name] = provided
            return provided
        try:
            value = getattr(target, name)
        except AttributeError:
            # A package imported as such (tensorflow.examples,
            # tensorflow.python): tensorflow.<name>, as in TensorFlow 1.x.
            value = (sys.modules.get('tensorflow.' + name) if not
                     self.__dict__['_tf1_path'] else None)
            if value is None:
                # sys._getframe(1): the code that asked, not this method.
                raise _refusal(self.__name__, name, dotted,
                               sys._getframe(1)) from None
            return value
        if isinstance(value, types.ModuleType):
            if (removed_names.has_entries_under(dotted) or
                    successors.has_entries_under(dotted)):
                value = Tf1Module(value, dotted + '.')
                self.__dict__[name] = value
        elif dotted in removed_names.BY_NAME_ONLY:
            value = _by_name_only(value, dotted)
            self.__dict__[name] = value
        return value

    def __dir__(self):
        return dir(self.__dict__['_tf1_target'])

    def __repr__(self):
        return '<TensorFlow 1.x API module %r (tensorflow.compat.v1)>' % (
            self.__name__)


def _refusal(module_name, name, dotted, frame):
    """The AttributeError for `tf.<dotted>`: a one-line RemovedAttribute
    when it is a name TensorFlow removed, else Python's plain one."""
    spelled = removed_names.spelled_out(dotted, frame.f_code.co_filename,
                                        frame.f_lineno)
    entry = removed_names.lookup(spelled) or removed_names.lookup(dotted)
    if entry is None:
        return AttributeError("module '%s' (TensorFlow 1.x API) has no "
                              "attribute '%s'" % (module_name, name))
    return removed_names.RemovedAttribute(
        removed_names.message('tf.' + spelled, entry))


def _by_name_only(function, dotted):
    """`function`, refusing positional arguments as TensorFlow 1.x did."""

    @functools.wraps(function)
    def call(*args, **kwargs):
        if args:
            raise removed_names.RefusedCall(
                'tf.%s takes its arguments by name since TensorFlow 1.0 (a '
                'call in the old order would swap labels and logits); write '
                'tf.%s(labels=..., logits=...)' % (dotted, dotted))
        return function(**kwargs)
    return call

"""Where `import tensorflow` and TensorFlow 1.x's module names lead.

Two hooks, put in place by install():

* A finder, first on sys.meta_path, for module names TensorFlow 2 does not
  have: `tensorflow.examples.tutorials.mnist` with its `input_data` and
  `mnist` (this project's modules), and `tensorflow.contrib...` (the
  successor contrib.py names, or a RemovedModule that names the
  replacement). TensorFlow never imports these names itself, so its own
  imports go on exactly as before.
* A wrapper around builtins.__import__ that answers `import tensorflow` (and
  `from tensorflow import ...`) in your code with the 1.x API
  (tf1_module.py). Code of an installed package (TensorFlow, Keras,
  TensorBoard, anything under site-packages) and of Python itself gets
  TensorFlow as always: `sys.modules['tensorflow']` is never replaced, and
  `import tensorflow.compat.v2` or importlib.import_module('tensorflow')
  still reach TensorFlow 2's API from anywhere.
"""

import builtins
import functools
import importlib
import importlib.abc
import importlib.machinery
import os
import sys
import sysconfig

from mnist_tf1.legacy import contrib
from mnist_tf1.legacy import removed_names
from mnist_tf1.legacy import tf1_module

_MNIST_PACKAGE = 'tensorflow.examples.tutorials.mnist'
# TensorFlow 1.x module name -> this project's module.
ALIASES = {
    _MNIST_PACKAGE + '.input_data': 'mnist_tf1.input_data',
    _MNIST_PACKAGE + '.mnist': 'mnist_tf1.mnist',
}
_PACKAGES = ('tensorflow.examples', 'tensorflow.examples.tutorials',
             _MNIST_PACKAGE)
_CONTRIB = 'tensorflow.contrib'

# Top-level packages whose `import tensorflow` always means TensorFlow
# itself, wherever they are installed (this one included: it imports
# tensorflow.compat.v1 by that name anyway).
_TENSORFLOWS_OWN = frozenset(['tensorflow', 'keras', 'tf_keras', 'tensorboard',
                              'tensorboard_data_server', 'mnist_tf1'])

# builtins.__import__ as install() found it: _import hands everything on to it.
_next_import = None
_finder = None


def install():
    """Puts both hooks in place; installing twice changes nothing."""
    global _next_import, _finder
    if _finder is None:
        _finder = _Finder()
        sys.meta_path.insert(0, _finder)
    if _next_import is None:
        _next_import = builtins.__import__
        builtins.__import__ = _import


def uninstall():
    """Takes both hooks away (the modules already imported stay)."""
    global _next_import, _finder
    if _finder is not None:
        sys.meta_path.remove(_finder)
        _finder = None
    # If something wrapped builtins.__import__ after us, _import stays in its
    # chain, handing everything on while uninstalled.
    if builtins.__import__ is _import:
        builtins.__import__ = _next_import
        _next_import = None


def installed():
    """True while the hooks are in place."""
    return _finder is not None


def _import(name, globals=None, locals=None, fromlist=(), level=0):  # pylint: disable=redefined-builtin
    """builtins.__import__, but for `tensorflow` in your code."""
    if level == 0 and installed():
        if name == 'tensorflow' and is_user_code(globals):
            module = tf1_module.get()
            for attribute in fromlist or ():
                _check_import_from(module, attribute)
            return module
        if (name.startswith('tensorflow.') and not fromlist and
                tf1_module.made() and is_user_code(globals)):
            # `import tensorflow.examples.tutorials.mnist.input_data` binds
            # `tensorflow`, as `import tensorflow` did before it: to the 1.x
            # API, not to TensorFlow 2. (Without one before it, as in
            # `import tensorflow.compat.v2 as tf2`, TensorFlow 2 it is, and
            # no switch to graph mode.)
            _next_import(name, globals, locals, fromlist, level)
            return tf1_module.get()
    return _next_import(name, globals, locals, fromlist, level)


def _check_import_from(module, attribute):
    """`from tensorflow import <removed>`: refused as an import."""
    if attribute == '*':
        return
    try:
        getattr(module, attribute)
    except removed_names.Removed as e:
        raise removed_names.RemovedModule(str(e)) from None
    except AttributeError:
        pass  # The import statement raises Python's own ImportError.


def is_user_code(module_globals):
    """True for the globals of your code: a program, a notebook, a module
    of your own; False for an installed package or Python's library."""
    if not module_globals:
        return False
    name = module_globals.get('__name__') or ''
    if name.partition('.')[0] in _TENSORFLOWS_OWN:
        return False
    path = module_globals.get('__file__')
    return not path or is_user_file(path)


@functools.lru_cache(maxsize=None)
def is_user_file(path):
    """False for a file of an installed package, of Python's library or of
    this package; True for the rest (your code)."""
    if path.startswith('<frozen '):
        return False  # Python's own, e.g. <frozen importlib._bootstrap>.
    real = os.path.realpath(path)
    if {'site-packages', 'dist-packages'} & set(real.split(os.sep)):
        return False
    return not any(real.startswith(folder + os.sep)
                   for folder in _not_user_dirs())


@functools.lru_cache(maxsize=1)
def _not_user_dirs():
    paths = sysconfig.get_paths()
    folders = {os.path.realpath(paths[key]) for key in ('stdlib', 'platstdlib')}
    # This package, wherever it is (a checkout on PYTHONPATH included).
    folders.add(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
    return tuple(sorted(folders))


class _Finder(importlib.abc.MetaPathFinder):
    """Finds TensorFlow 1.x's module names that TensorFlow 2 lacks."""

    def find_spec(self, fullname, path=None, target=None):
        del path, target  # Unused.
        if fullname in _PACKAGES:
            return importlib.machinery.ModuleSpec(fullname, _PackageLoader(),
                                                  is_package=True)
        if fullname == _CONTRIB or fullname.startswith(_CONTRIB + '.'):
            # Its successor, found now: a name with none raises here.
            module = contrib.module_for_import(fullname)
            return importlib.machinery.ModuleSpec(
                fullname, _ExistingLoader(module),
                is_package=hasattr(module, '__path__'))
        return None


class _PackageLoader(importlib.abc.Loader):
    """Makes the tensorflow.examples... packages: empty, but for the
    tutorials' mnist package, which holds this project's two modules."""

    def create_module(self, spec):
        return None  # The default: an empty module.

    def exec_module(self, module):
        if module.__name__ != _MNIST_PACKAGE:
            return
        # Registered under their old names now, as modules of the package:
        # `import tensorflow.examples.tutorials.mnist.input_data` finds them
        # in sys.modules and they keep their own names and specs.
        for old_name, name in ALIASES.items():
            aliased = importlib.import_module(name)
            sys.modules[old_name] = aliased
            setattr(module, old_name.rpartition('.')[2], aliased)


class _ExistingLoader(importlib.abc.Loader):
    """Gives the import system a module that exists already (a successor
    under tensorflow.contrib's name); it keeps its own name and spec."""

    def __init__(self, module):
        self._module = module
        self._own_spec = getattr(module, '__spec__', None)

    def create_module(self, spec):
        return self._module

    def exec_module(self, module):
        # The import system gave it the spec of its name here: tf_slim and
        # input_data stay themselves (their spec names their own file).
        if self._own_spec is not None:
            module.__spec__ = self._own_spec

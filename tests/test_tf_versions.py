"""platform/tf_versions: the tested TensorFlow range, and the one line a
command prints on a TensorFlow outside it.

These run on whatever TensorFlow is installed (CI: the newest and the oldest
of the range) and assert what the package does on that version.
"""

import subprocess
import sys

import pytest

import mnist_tf1  # noqa: F401  (imports TensorFlow in graph mode, quietly)
import tensorflow as tf
from packaging.version import Version

from mnist_tf1.platform import tf_versions
from test_packaging import declared_tensorflow

OLDEST = '%d.%d' % tf_versions.OLDEST
NEWEST = '%d.%d' % tf_versions.NEWEST
JUST_BELOW = '%d.%d' % (tf_versions.OLDEST[0], tf_versions.OLDEST[1] - 1)
JUST_ABOVE = '%d.%d' % (tf_versions.NEWEST[0], tf_versions.NEWEST[1] + 1)


@pytest.mark.parametrize('version,relation', [
    (OLDEST + '.0', None),
    (OLDEST + '.1', None),
    (NEWEST + '.0', None),
    (NEWEST + '.9rc1', None),
    (JUST_BELOW + '.1', 'older than'),
    ('1.15.5', 'older than'),
    (JUST_ABOVE + '.0', 'newer than'),
    (JUST_ABOVE + '.0rc1', 'newer than'),
    (JUST_ABOVE + '.0-dev20260101', 'newer than'),
    ('3.0.0', 'newer than'),
    ('unknown', 'not one of'),
])
def test_untested_warning_names_the_version_the_range_and_the_doc(
        version, relation):
    warning = tf_versions.untested_warning(version)
    if relation is None:
        assert warning is None
    else:
        assert warning.startswith('TensorFlow %s is %s the versions '
                                  % (version, relation))
        assert '(%s to %s)' % (OLDEST, NEWEST) in warning
        assert warning.endswith('see docs/tensorflow-versions.md')
        assert '\n' not in warning


def test_the_installed_tensorflow_is_judged_as_setup_cfg_declares_it():
    """The installed TensorFlow gets the warning exactly when setup.cfg does
    not declare it. (On an undeclared one, the tests of quiet runs then fail
    until the range is widened: docs/tensorflow-versions.md.)"""
    warning = tf_versions.untested_warning(tf.__version__)
    if Version(tf.__version__) in declared_tensorflow():
        assert warning is None
    else:
        assert warning.startswith('TensorFlow %s is ' % tf.__version__)


@pytest.mark.slow
def test_a_command_on_an_untested_tensorflow_warns_once_and_runs():
    """The warning comes from run_cli, which every command goes through: a
    command started on (a TensorFlow that says it is) the next release. On
    the installed one, a run's stderr stays empty (test_train_cli)."""
    code = '\n'.join([
        # As a command starts: TensorFlow imported quietly, then run_cli.
        'from mnist_tf1.cli import tf_logging',
        'tf_logging.start_command()',
        'import tensorflow',
        'tensorflow.__version__ = %r' % (JUST_ABOVE + '.0'),
        'from mnist_tf1.cli import errors',
        'errors.run_cli(lambda argv: print("ran"), ["mnist-tf1-train"])'])
    result = subprocess.run([sys.executable, '-c', code], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout == 'ran\n'
    assert result.stderr == 'warning: %s\n' % (
        tf_versions.untested_warning(JUST_ABOVE + '.0'))

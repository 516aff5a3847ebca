"""The TensorFlow versions this package is tested with, and what differs.

setup.cfg declares the same range (tests/test_packaging.py checks that they
agree); CI runs the whole suite on NEWEST and a short one on OLDEST, pinned
in scripts/oldest-constraints.txt. docs/tensorflow-versions.md says how the
range is widened.

Within the range the programs behave alike: the tests found nothing that
needs handling by version (TensorFlow's start-up log lines differ from one
version to the next, and cli/tf_logging.py silences them all alike). What
does depend on the version is said here, once: outside the range, each
command starts with one warning line.
"""

import re

# (major, minor) of the oldest and the newest tested TensorFlow release.
OLDEST = (2, 15)
NEWEST = (2, 21)

DOC = 'docs/tensorflow-versions.md'


def release(version):
    """(major, minor) of a TensorFlow version string, or None.

    Args:
      version: e.g. '2.16.2', '2.22.0rc1', '2.22.0-dev20260101'.
    """
    match = re.match(r'(\d+)\.(\d+)', version)
    return (int(match.group(1)), int(match.group(2))) if match else None


def untested_warning(version):
    """The warning for a TensorFlow outside the tested range, else None.

    Args:
      version: the TensorFlow version string (tf.__version__).

    Returns:
      One line (no newline) that says which version, the tested range and
      where to read what to do; None for a version in the range.
    """
    found = release(version)
    if found is not None and OLDEST <= found <= NEWEST:
        return None
    if found is not None and found > NEWEST:
        relation = 'newer than'
    elif found is not None:
        relation = 'older than'
    else:
        relation = 'not one of'
    return ('TensorFlow %s is %s the versions mnist-tf1 is tested with '
            '(%d.%d to %d.%d); it may well work, and if something fails, see '
            '%s' % (version, relation, OLDEST[0], OLDEST[1], NEWEST[0],
                    NEWEST[1], DOC))

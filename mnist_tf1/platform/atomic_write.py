"""Files that appear whole or not at all.

Written under a hidden temporary name in the target's folder, synced, then
renamed over the target: a reader (or a run killed half-way) sees the old
file or the new one, never part of one.
"""

import os
import tempfile


def usual_mode():
    """The mode open() gives a new file under the current umask."""
    # os.umask can only be read by setting it; put it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def write(path, data):
    """Writes the bytes `data` to `path`, whole or not at all.

    Creates the folder if needed. The file gets the usual mode (mkstemp makes
    it private). On any failure, Ctrl-C included, the temporary file is
    removed and the target left as it was.
    """
    folder = os.path.dirname(path) or '.'
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder,
                               prefix='.%s.' % os.path.basename(path))
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, usual_mode())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise

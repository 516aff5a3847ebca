"""Files that appear whole or not at all.

Written under a hidden temporary name in the target's folder, synced, then
renamed over the target: a reader (or a run killed half-way) sees the old
file or the new one, never part of one.
"""

import contextlib
import os
import tempfile


def usual_mode():
    """The mode open() gives a new file under the current umask."""
    # os.umask can only be read by setting it; put it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def replacing(path, mode=None):
    """Yields a temporary path beside `path`; renames it over `path` when
    the block ends normally.

    For writers that need a file name (TensorFlow's record writer, a
    download). The block writes the temporary file and syncs it if it cares
    to. On any failure, Ctrl-C included, the temporary file is
    removed and the target left as it was.

    Args:
      path: the file to write.
      mode: the new file's permission bits; default: the usual mode for a new
        file (mkstemp makes it private).

    Raises:
      OSError: the temporary file cannot be made (a folder that cannot be
        written), or the rename failed.
    """
    folder = os.path.dirname(path) or '.'
    fd, tmp = tempfile.mkstemp(dir=folder,
                               prefix='.%s.' % os.path.basename(path))
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, usual_mode() if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def write(path, data):
    """Writes the bytes `data` to `path`, whole or not at all.

    Creates the folder if needed.

    Raises:
      OSError: the file cannot be written (a full disk...); its filename is
        `path`, whichever step failed, so that the user is told which file.
    """
    try:
        os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
        with replacing(path) as tmp:
            with open(tmp, 'wb') as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
    except OSError as e:
        if e.filename == path:
            raise
        raise OSError(e.errno, e.strerror or str(e), path) from e

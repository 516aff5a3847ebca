"""Fetches the four canonical MNIST files, checked against pinned digests.

The TensorFlow 1.x tutorials downloaded MNIST from a single URL and trusted
whatever came back. Here every file, whether just downloaded or already on disk,
must match its pinned SHA-256 before it is used, mirrors are tried in order, and
a failed download never leaves a partial file behind.

A source is a base URL or folder to which the file name is appended:
`https://...`, `http://...`, `file:///abs/dir/`, or a plain local directory.
"""

import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request

from mnist_tf1.cli.errors import UserError
from mnist_tf1.platform import atomic_write

# File name -> SHA-256 of the canonical file (the same bytes as the original
# distribution on yann.lecun.com).
FILES = {
    'train-images-idx3-ubyte.gz':
        '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
    'train-labels-idx1-ubyte.gz':
        '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
    't10k-images-idx3-ubyte.gz':
        '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
    't10k-labels-idx1-ubyte.gz':
        'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
}

# File name -> size in bytes; lets a download stop as soon as a mirror sends
# more than the real file (an endless or wrong response must not fill the disk).
SIZES = {
    'train-images-idx3-ubyte.gz': 9912422,
    'train-labels-idx1-ubyte.gz': 28881,
    't10k-images-idx3-ubyte.gz': 1648877,
    't10k-labels-idx1-ubyte.gz': 4542,
}

# Tried in order. The first is the one TensorFlow's own input_data.py used;
# yann.lecun.com is last because it often refuses automated downloads now.
DEFAULT_MIRRORS = (
    'https://storage.googleapis.com/cvdf-datasets/mnist/',
    'https://ossci-datasets.s3.amazonaws.com/mnist/',
    'http://yann.lecun.com/exdb/mnist/',
)

# When set (and no explicit source is given), replaces DEFAULT_MIRRORS.
SOURCE_URL_ENV = 'MNIST_TF1_DATA_SOURCE_URL'

_CHUNK = 1 << 16


class _SourceError(Exception):
    """One mirror failed; the message is a short reason. Never leaves here."""


def _one_line(text):
    return ' '.join(str(text).split())


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _check_name(filename):
    if filename not in FILES:
        raise ValueError('unknown MNIST file %r; expected one of: %s' %
                         (filename, ', '.join(sorted(FILES))))


def verify(path, filename):
    """Checks that the file at `path` is the canonical MNIST `filename`.

    The file is never modified or removed: it may be the user's own copy.

    Args:
      path: the file to check.
      filename: which MNIST file it should be (a key of FILES).

    Returns:
      path, when its SHA-256 matches the pinned one.

    Raises:
      UserError: the file cannot be read or its digest does not match.
      ValueError: `filename` is not one of the four MNIST files.
    """
    _check_name(filename)
    try:
        actual = _sha256(path)
        size = os.path.getsize(path)
    except OSError as e:
        raise UserError('cannot read %s (%s); fix its permissions or move it '
                        'away so that it can be downloaded again' %
                        (path, _one_line(e.strerror or e)))
    if actual != FILES[filename]:
        raise UserError(
            '%s is not the canonical %s (%d bytes, SHA-256 %s..., expected '
            '%s...); it was left untouched: move it away so that it can be '
            'downloaded again' %
            (path, filename, size, actual[:16], FILES[filename][:16]))
    return path


def mirrors(source_url=None):
    """Returns the sources to try, in order.

    Args:
      source_url: an explicit source (string) or sequence of sources; wins over
        the environment variable and the default mirrors.

    Returns:
      A list of source strings.
    """
    if source_url:
        if isinstance(source_url, str):
            return [source_url]
        return list(source_url)
    from_env = os.environ.get(SOURCE_URL_ENV, '').strip()
    if from_env:
        return [from_env]
    return list(DEFAULT_MIRRORS)


def _location(source, filename):
    """Joins a source (URL or folder) and a file name."""
    if '://' in source:
        return source.rstrip('/') + '/' + filename
    return os.path.join(os.path.expanduser(source), filename)


def _open_source(location, timeout):
    if '://' in location:
        return urllib.request.urlopen(location, timeout=timeout)
    return open(location, 'rb')


def _reason(e):
    """A short, one-line reason for a failed source."""
    if isinstance(e, urllib.error.HTTPError):
        return 'HTTP %s %s' % (e.code, _one_line(e.reason))
    if isinstance(e, urllib.error.URLError):
        reason = e.reason
        if isinstance(reason, OSError) and reason.strerror:
            return _one_line(reason.strerror)
        return _one_line(reason)
    if isinstance(e, OSError) and e.strerror:
        return _one_line(e.strerror)
    return _one_line('%s: %s' % (type(e).__name__, e) if str(e)
                     else type(e).__name__)


def _fetch(location, filename, filepath, timeout):
    """Downloads one file from one source into place, atomically.

    Raises:
      _SourceError: this source failed (the next one may work).
      UserError: the destination folder cannot be written (no source will).
    """
    try:
        # Written beside filepath and renamed over it once verified; on any
        # failure, Ctrl-C included, nothing is left there.
        with atomic_write.replacing(filepath) as tmp_path:
            with open(tmp_path, 'wb') as out:
                size, digest = _copy(location, filename, out, filepath,
                                     timeout)
            if digest != FILES[filename]:
                raise _SourceError('wrong content (%d bytes, SHA-256 %s...)'
                                   % (size, digest[:16]))
    except OSError as e:
        # The body turns its own failures into _SourceError or UserError:
        # what is left is making the temporary file or renaming it.
        raise UserError('cannot write into %s (%s); choose a writable data '
                        'directory' % (os.path.dirname(filepath) or '.',
                                       _one_line(e.strerror or e)))
    return size


def _copy(location, filename, out, filepath, timeout):
    """Copies the source into `out`, synced; returns (bytes, SHA-256 hex).

    Raises:
      _SourceError: the source failed or sent more than the real file.
      UserError: `out` cannot be written.
    """
    digest = hashlib.sha256()
    size = 0
    limit = SIZES[filename]
    try:
        with _open_source(location, timeout) as response:
            while True:
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise _SourceError(
                        'sent more than the %d bytes of the real file' %
                        limit)
                digest.update(chunk)
                # Written inside the read loop, so a failed write (disk
                # full) would look like a source failure: _write turns it
                # into a UserError instead.
                _write(out, chunk, filepath)
    except (OSError, http.client.HTTPException, ValueError) as e:
        raise _SourceError(_reason(e))
    _write(out, b'', filepath, sync=True)
    return size, digest.hexdigest()


def _write(out, data, filepath, sync=False):
    """Writes into the temporary file of filepath; UserError on failure."""
    try:
        if data:
            out.write(data)
        if sync:
            out.flush()
            os.fsync(out.fileno())
    except OSError as e:
        raise UserError('cannot write %s (%s); nothing was left there: free '
                        'some space or choose another data directory' %
                        (filepath, _one_line(e.strerror or e)))


def maybe_download(filename, work_directory, source_url=None, timeout=30):
    """Returns the path of a verified MNIST file, downloading it if needed.

    A file already in `work_directory` is used when its SHA-256 matches, and is
    never overwritten or removed when it does not. Otherwise the sources are
    tried in order: `source_url` if given, else $MNIST_TF1_DATA_SOURCE_URL if
    set, else DEFAULT_MIRRORS. Each download goes to a temporary file in
    `work_directory`, is verified, and only then renamed into place.

    Args:
      filename: one of the four MNIST file names (a key of FILES).
      work_directory: the folder that holds (or will hold) the file; created
        if missing.
      source_url: optional base URL or folder (or a sequence of them) from
        which `filename` is fetched; the file name is appended.
      timeout: seconds to wait for a network response.

    Returns:
      The path of the verified file.

    Raises:
      UserError: the existing file is wrong, the folder cannot be written, or
        every source failed.
      ValueError: `filename` is not one of the four MNIST files.
    """
    _check_name(filename)
    work_directory = os.path.expanduser(work_directory)
    filepath = os.path.join(work_directory, filename)
    if os.path.lexists(filepath):
        return verify(filepath, filename)
    if work_directory:
        try:
            os.makedirs(work_directory, exist_ok=True)
        except OSError as e:
            raise UserError('cannot create the data directory %s (%s); choose '
                            'another one' %
                            (work_directory, _one_line(e.strerror or e)))
    failures = []
    sources = mirrors(source_url)
    for i, source in enumerate(sources):
        location = _location(source, filename)
        try:
            size = _fetch(location, filename, filepath, timeout)
        except _SourceError as e:
            failures.append('%s (%s)' % (location, e))
            # Said only when moving on, so that a failure of the last source
            # is reported once, by the UserError below.
            if i + 1 < len(sources):
                print('Could not download %s (%s); trying the next source.' %
                      (location, e), file=sys.stderr)
            continue
        print('Successfully downloaded %s %d bytes.' % (filename, size))
        return filepath
    raise UserError(
        'could not download %s into %s: tried %s; point --data_source_url (or '
        '%s) at a URL or folder that has the MNIST files, or put the files '
        'into %s yourself' %
        (filename, work_directory, '; '.join(failures) or 'no sources',
         SOURCE_URL_ENV, work_directory))

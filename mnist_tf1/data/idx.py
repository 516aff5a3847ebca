"""MNIST's file format: IDX arrays of unsigned bytes inside gzip.

The reader under input_data.py's extract_images and extract_labels. It
rejects bad files (HTML pages saved under an MNIST name, truncated or corrupt
gzip, wrong magic numbers, headers that disagree with the data) with one
clear UserError line, and a header can never make it allocate more memory
than the data actually present. Where TensorFlow 1.x's reader raised
ValueError (a wrong magic number, data that do not fit the header), the error
is a ValueError too.
"""

import math
import zlib

import numpy as np

from mnist_tf1.cli import errors

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049

# The most decompressed data each kind of file may hold. The real files are
# 47 MB (images) and 60 kB (labels); the limits only stop a corrupt header
# from making the reader try to hold gigabytes.
MAX_IMAGE_BYTES = 256 << 20
MAX_LABEL_BYTES = 64 << 20

_GZIP_WBITS = 16 + zlib.MAX_WBITS  # zlib: expect a gzip header and trailer.
_GZIP_MAGIC = b'\x1f\x8b'
_CHUNK = 1 << 20


def name_of(f):
    """The path a file object was opened with, or '<stream>'."""
    name = getattr(f, 'name', None)
    return name if isinstance(name, str) else '<stream>'


def _not_gzip_reason(head):
    """Says what a file that is not gzip seems to be instead."""
    if not head:
        return 'is empty'
    text = head.lstrip().lower()
    if text.startswith((b'<!doctype', b'<html', b'<?xml', b'<head', b'<body')):
        return ('is not a gzip file but an HTML page (probably an error page '
                'saved under this name)')
    if head[:4] in (b'\x00\x00\x08\x03', b'\x00\x00\x08\x01'):
        return 'is not gzip-compressed (it looks like an uncompressed IDX file)'
    return 'is not a gzip file (it starts with %r)' % head[:8]


class _Gunzip(object):
    """Decompresses a gzip file a bounded amount at a time.

    `zlib.decompressobj(...).decompress(data, max_length)` never returns more
    than asked for, so memory follows what the caller asks for, which the
    callers bound by the header's sizes after checking them.
    """

    def __init__(self, f):
        self._f = f
        self._name = name_of(f)
        head = f.read(512)
        if head[:2] != _GZIP_MAGIC:
            raise errors.UserError('%s %s; delete it and download it again'
                                   % (self._name, _not_gzip_reason(head)))
        self._pending = head  # Compressed bytes not yet given to zlib.
        self._inflater = zlib.decompressobj(_GZIP_WBITS)
        self._done = False

    def _fail(self, what):
        raise errors.UserError('%s is %s; delete it and download it again'
                               % (self._name, what))

    def _next_member(self, rest):
        """After a gzip member ends: skip zero padding, start the next one."""
        # Like Python's gzip module: zero padding is allowed after a member,
        # and another member may follow it; anything else is corruption.
        while True:
            rest = rest.lstrip(b'\0')
            if len(rest) >= 2:
                break
            more = self._f.read(_CHUNK)
            if not more:
                break
            rest += more
        if not rest:
            self._done = True
        elif rest[:2] != _GZIP_MAGIC:
            self._fail('corrupt (unexpected bytes after the end of the gzip '
                       'data)')
        else:
            self._pending = rest
            self._inflater = zlib.decompressobj(_GZIP_WBITS)

    def read(self, size):
        """Returns the next `size` decompressed bytes, fewer only at the end.

        Raises:
          UserError: the gzip data is truncated or corrupt.
        """
        parts = []
        remaining = size
        while remaining > 0 and not self._done:
            data = self._pending or self._f.read(_CHUNK)
            self._pending = b''
            if not data:
                self._fail('truncated (the gzip data ends early)')
            try:
                out = self._inflater.decompress(data, remaining)
            except zlib.error as e:
                self._fail('corrupt (gzip: %s)' % e)
            parts.append(out)
            remaining -= len(out)
            self._pending = self._inflater.unconsumed_tail
            if self._inflater.eof:
                self._next_member(self._inflater.unused_data)
        return b''.join(parts)


def read_idx(f, magic, kind, ndims, max_bytes):
    """Reads one IDX file of unsigned bytes from a gzip file object.

    Returns:
      (dims, payload): the header's dimensions and exactly prod(dims) bytes.
    """
    name = name_of(f)
    stream = _Gunzip(f)
    header_size = 4 * (1 + ndims)
    # The magic number first: a label file passed as images should be named
    # as such, not reported as a short header.
    header = stream.read(4)
    if len(header) == 4:
        found = int.from_bytes(header, 'big')
        if found != magic:
            hint = ''
            if found in (IMAGE_MAGIC, LABEL_MAGIC):
                hint = ' (it is an MNIST %s file)' % (
                    'image' if found == IMAGE_MAGIC else 'label')
            raise errors.UserValueError(
                '%s has magic number %d, expected %d for an MNIST %s file%s; '
                'check the file name or download it again' %
                (name, found, magic, kind, hint))
        header += stream.read(header_size - 4)
    if len(header) < header_size:
        raise errors.UserValueError(
            '%s is not an MNIST %s file: its header is %d bytes, expected %d; '
            'delete it and download it again' %
            (name, kind, len(header), header_size))
    dims = [int.from_bytes(header[i:i + 4], 'big')
            for i in range(4, header_size, 4)]
    count, item_size = dims[0], math.prod(dims[1:])
    expected = count * item_size  # Python ints: no overflow.
    # The count and the size of one item are checked too: with a zero count,
    # huge rows and columns would pass the total yet break numpy's reshape.
    if max(expected, count, item_size) > max_bytes:
        raise errors.UserValueError(
            '%s has a corrupt header: it declares %s %s data, more than the '
            '%d MiB this reader accepts; delete it and download it again' %
            (name, 'x'.join(str(d) for d in dims), kind, max_bytes >> 20))
    # One byte more than declared, so that trailing data is noticed.
    payload = stream.read(expected + 1)
    if len(payload) != expected:
        raise errors.UserValueError(
            '%s is corrupt: its header declares %s (%d bytes) but it holds %s '
            'bytes of data; delete it and download it again' %
            (name, 'x'.join(str(d) for d in dims), expected,
             len(payload) if len(payload) < expected
             else 'more than %d' % expected))
    return dims, payload


def read_images(f):
    """The images of an MNIST image file: uint8 [index, y, x, depth].

    Read-only: a view on the file's bytes, as TensorFlow 1.x returned them.

    Raises:
      UserError: the file is not a well-formed MNIST image file.
    """
    (num_images, rows, cols), payload = read_idx(
        f, IMAGE_MAGIC, 'image', 3, MAX_IMAGE_BYTES)
    data = np.frombuffer(payload, dtype=np.uint8)
    return data.reshape(num_images, rows, cols, 1)


def read_labels(f, num_classes=10):
    """The labels of an MNIST label file: read-only uint8 [index].

    Raises:
      UserError: the file is not a well-formed MNIST label file, or holds a
        label not below num_classes.
    """
    (unused_num_items,), payload = read_idx(
        f, LABEL_MAGIC, 'label', 1, MAX_LABEL_BYTES)
    labels = np.frombuffer(payload, dtype=np.uint8)
    if labels.size and labels.max() >= num_classes:
        index = int(np.argmax(labels >= num_classes))
        raise errors.UserValueError(
            '%s has label %d at index %d, outside 0-%d; delete it and '
            'download it again' %
            (name_of(f), labels[index], index, num_classes - 1))
    return labels

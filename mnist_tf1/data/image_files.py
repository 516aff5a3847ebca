"""Image files to MNIST's form, with TensorFlow's own image ops.

MNIST's digits were "size normalized to fit in a 20x20 pixel box while
preserving their aspect ratio" (anti-aliased, so with grey levels), then
"centered in a 28x28 image by computing the center of mass of the pixels",
white on black. A user's picture is brought to the same form:

  1. decoded (PNG, 1 to 16 bit, any colour type; or JPEG, turned upright as
     its EXIF orientation says), as grey + alpha; transparent parts become
     the paper, whichever colour the ink is not;
  2. shrunk to at most 512 pixels a side first, so big photos stay cheap;
  3. turned white-on-black if the paper (the image's border) is light;
  4. stretched so the paper (and its noise) is 0 and the strongest ink 1;
  5. cropped to the ink, resized so its longer side is 20 pixels;
  6. placed in a 28x28 field with its centre of mass at pixel (14, 14),
     where MNIST's own digits have theirs.

An MNIST digit written out as a PNG comes back (near enough) unchanged.
"""

import os

import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors
from mnist_tf1.cli import tf_logging

MAX_FILE_BYTES = 20 << 20
MAX_PIXELS = 25000000
WORK_SIDE = 512
BOX = 20
SIZE = 28
# MNIST's centre of mass sits at (14.0, 14.0) in pixel indices (measured
# over the 10,000 test images: mean 13.99, 14.01).
CENTRE = 14.0
# Below this contrast between paper and ink there is no digit to read.
MIN_CONTRAST = 0.1
# Pixels above this (after stretching to [0, 1]) are ink for the crop.
INK = 0.1

_PNG = b'\x89PNG\r\n\x1a\n'
_JPEG = b'\xff\xd8\xff'
_OTHER_FORMATS = (
    (b'GIF87a', 'GIF'), (b'GIF89a', 'GIF'), (b'BM', 'BMP'),
    (b'II*\x00', 'TIFF'), (b'MM\x00*', 'TIFF'), (b'RIFF', 'WebP or other RIFF'),
)
# JPEG start-of-frame markers (they carry the size): C0-CF but C4, C8, CC.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _kind(data, name):
    """'png' or 'jpeg' from the file's first bytes."""
    if not data:
        raise errors.UserError('%s is empty; give a PNG or JPEG image' % name)
    if data.startswith(_PNG):
        return 'png'
    if data.startswith(_JPEG):
        return 'jpeg'
    for magic, what in _OTHER_FORMATS:
        if data.startswith(magic):
            raise errors.UserError('%s is a %s image; only PNG and JPEG are '
                                   'read: convert it first' % (name, what))
    raise errors.UserError('%s is not a PNG or JPEG image (it starts with '
                           '%r); give a PNG or JPEG file' % (name, data[:8]))


def _jpeg_segments(data):
    """Yields (marker, start) of a JPEG's segments up to its frame header:
    data[start:start + 2] is the segment's length field."""
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return
        marker = data[i + 1]
        if marker == 0xFF:  # Fill byte.
            i += 1
            continue
        if marker in (0x01,) or 0xD0 <= marker <= 0xD9:  # No length field.
            i += 2
            continue
        yield marker, i + 2
        if marker in _SOF:
            return
        i += 2 + int.from_bytes(data[i + 2:i + 4], 'big')


def _jpeg_size(data):
    """(width, height) from a JPEG's frame header, or None if there is none."""
    for marker, start in _jpeg_segments(data):
        if marker in _SOF:
            if start + 7 > len(data):
                return None
            return (int.from_bytes(data[start + 5:start + 7], 'big'),
                    int.from_bytes(data[start + 3:start + 5], 'big'))
    return None


def _jpeg_orientation(data):
    """The EXIF orientation of a JPEG (1-8; 1, upright, when it has none):
    how a phone camera says to turn its pixels for viewing."""
    for marker, start in _jpeg_segments(data):
        tiff = start + 8  # After the length and b'Exif\0\0'.
        if marker != 0xE1 or data[start + 2:tiff] != b'Exif\0\0':
            continue
        order = {b'II': 'little', b'MM': 'big'}.get(data[tiff:tiff + 2])
        if order is None:
            return 1

        def number(at, size):
            return int.from_bytes(data[tiff + at:tiff + at + size], order)

        ifd = number(4, 4)
        for entry in range(number(ifd, 2)):
            at = ifd + 2 + 12 * entry
            if number(at, 2) == 0x0112:  # Orientation, a SHORT.
                value = number(at + 8, 2)
                return value if 1 <= value <= 8 else 1
        return 1
    return 1


def dimensions(data, kind, name):
    """(width, height) from the file's header, without decoding it."""
    if kind == 'png':
        if len(data) < 24 or data[12:16] != b'IHDR':
            raise errors.UserError('%s is a damaged PNG image (no image '
                                   'header); give a complete file' % name)
        return (int.from_bytes(data[16:20], 'big'),
                int.from_bytes(data[20:24], 'big'))
    size = _jpeg_size(data)
    if size is None:
        raise errors.UserError('%s is a damaged JPEG image (no frame header); '
                               'give a complete file' % name)
    return size


def read(path):
    """Reads an image file, refusing what cannot be a usable image.

    Returns:
      (data, kind): the file's bytes and 'png' or 'jpeg'.

    Raises:
      UserError: the file is missing, empty, too large, not a PNG or JPEG,
        or its header says it is empty or huge.
    """
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise errors.UserError(
                '%s is %.1f MB, more than the %d MB this program reads; scale '
                'it down first' % (path, size / 1e6, MAX_FILE_BYTES >> 20))
        with open(path, 'rb') as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise errors.UserError('cannot read %s (%s)' %
                               (path, e.strerror or e))
    kind = _kind(data, path)
    width, height = dimensions(data, kind, path)
    if width == 0 or height == 0:
        raise errors.UserError('%s is a %s image of %dx%d pixels: there is '
                               'nothing in it' % (path, kind.upper(), width,
                                                  height))
    if width * height > MAX_PIXELS:
        raise errors.UserError(
            '%s is %dx%d pixels, more than the %d million pixels this program '
            'reads; scale it down first' %
            (path, width, height, MAX_PIXELS // 1000000))
    return data, kind


def _decode(contents, is_png):
    """Encoded bytes -> float32 [h, w, 2]: grey and alpha, in [0, 1]."""
    def png():
        # uint16 keeps 16-bit PNGs' precision and widens 8-bit ones exactly.
        # Decoded in the file's own channels (grey, grey + alpha, RGB or
        # RGBA; a palette as RGB or RGBA) and widened here: asked for four,
        # TensorFlow gives 1-, 2- and 4-bit PNGs a near-zero alpha.
        image = tf.image.convert_image_dtype(
            tf.io.decode_png(contents, channels=0, dtype=tf.uint16),
            tf.float32)
        channels = tf.shape(image)[2]
        rgb = tf.cond(channels < 3,
                      lambda: tf.tile(image[:, :, :1], [1, 1, 3]),
                      lambda: image[:, :, :3])
        alpha = tf.cond(tf.equal(channels % 2, 0),
                        lambda: image[:, :, -1:],
                        lambda: tf.ones_like(image[:, :, :1]))
        return tf.concat([rgb, alpha], axis=2)

    def jpeg():
        rgb = tf.image.convert_image_dtype(
            tf.io.decode_jpeg(contents, channels=3), tf.float32)
        return tf.concat([rgb, tf.ones_like(rgb[:, :, :1])], axis=2)

    rgba = tf.cond(is_png, png, jpeg)
    rgba.set_shape([None, None, 4])
    grey = tf.image.rgb_to_grayscale(rgba[:, :, :3])
    return tf.concat([grey, rgba[:, :, 3:]], axis=2)


def _upright(image, orientation):
    """The image turned as its EXIF orientation (1-8) says to view it."""
    turns = [
        lambda: image,                                    # 1: as stored.
        lambda: tf.image.flip_left_right(image),          # 2: mirrored.
        lambda: tf.image.rot90(image, 2),                 # 3: upside down.
        lambda: tf.image.flip_up_down(image),             # 4: mirrored so.
        lambda: tf.image.transpose(image),                # 5
        lambda: tf.image.rot90(image, 3),                 # 6: 90 clockwise.
        lambda: tf.image.rot90(tf.image.transpose(image), 2),  # 7
        lambda: tf.image.rot90(image, 1),                 # 8: 90 counter-.
    ]
    return tf.switch_case(orientation - 1, turns)


def _resize(image, size):
    """Resizes [h, w, c] to size: area averaging to shrink (every pixel
    counts), bilinear to enlarge (smooth strokes rather than blocks)."""
    shape = tf.shape(image)
    shrink = tf.logical_and(size[0] <= shape[0], size[1] <= shape[1])
    batch = image[None]
    return tf.cond(
        shrink,
        lambda: tf.image.resize_area(batch, size)[0],
        lambda: tf.image.resize_bilinear(batch, size,
                                         half_pixel_centers=True)[0])


def _shrink(image, side):
    """Shrinks an image to at most `side` pixels a side, keeping its shape."""
    shape = tf.shape(image)
    longer = tf.cast(tf.maximum(shape[0], shape[1]), tf.float32)
    scale = tf.minimum(1.0, side / longer)
    size = tf.cast(tf.maximum(
        tf.round(tf.cast(shape[:2], tf.float32) * scale), 1.0), tf.int32)
    return tf.cond(scale < 1.0, lambda: _resize(image, size), lambda: image)


def _white_on_black(grey_alpha):
    """grey + alpha -> (ink [h, w] in [0, 1] on 0 paper, contrast)."""
    grey, alpha = grey_alpha[:, :, 0], grey_alpha[:, :, 1]
    # Transparent parts become paper: white under dark ink, black under
    # light ink (the ink being what is opaque).
    visible = tf.reduce_sum(alpha)
    ink_level = tf.reduce_sum(grey * alpha) / tf.maximum(visible, 1e-6)
    paper = tf.where_v2(ink_level < 0.5, 1.0, 0.0)
    grey = grey * alpha + paper * (1.0 - alpha)
    # The border is paper: when it is light, the digit is dark on light.
    # Its median, not its mean: a digit cropped tight to its ink has some
    # ink on the border too, which would pull a mean towards the ink.
    border = tf.concat([grey[0, :], grey[-1, :], grey[:, 0], grey[:, -1]], 0)
    background = _median(border)
    light = background > 0.5
    grey = tf.where_v2(light, 1.0 - grey, grey)
    border = tf.where_v2(light, 1.0 - border, border)
    background = tf.where_v2(light, 1.0 - background, background)
    # Paper is rarely flat (a photo, JPEG ripples): what varies no more than
    # the border does is paper too, the border's spread measured as robustly
    # (its median absolute deviation, scaled to a standard deviation's
    # size). MNIST's own borders are flat zeros.
    spread = 1.4826 * _median(tf.abs(border - background))
    floor = background + 3.0 * spread
    top = tf.reduce_max(grey)
    contrast = top - floor
    ink = tf.clip_by_value((grey - floor) / tf.maximum(contrast, 1e-6),
                           0.0, 1.0)
    return ink, contrast


def _median(values):
    """The median of a 1-D tensor (the upper one of an even count)."""
    return tf.sort(values)[tf.size(values) // 2]


def _fit_box(ink):
    """Crops to the ink and resizes it so its longer side is BOX pixels."""
    where = tf.where(ink > INK)
    top, left = tf.reduce_min(where[:, 0]), tf.reduce_min(where[:, 1])
    bottom, right = tf.reduce_max(where[:, 0]), tf.reduce_max(where[:, 1])
    crop = ink[top:bottom + 1, left:right + 1]
    height = tf.cast(bottom - top + 1, tf.float32)
    width = tf.cast(right - left + 1, tf.float32)
    scale = BOX / tf.maximum(height, width)
    size = tf.cast(tf.maximum(tf.round(tf.stack([height, width]) * scale),
                              1.0), tf.int32)
    digit = _resize(crop[:, :, None], size)
    digit = tf.clip_by_value(digit, 0.0, 1.0)
    # Shrinking thins strokes out; MNIST's strokes are full strength.
    return digit / tf.maximum(tf.reduce_max(digit), 1e-6)


def _centre_by_mass(digit):
    """Places a digit [h, w, 1] in SIZE x SIZE with its centre of mass at
    CENTRE (whole-pixel shifts, as MNIST's were)."""
    shape = tf.shape(digit)
    pixels = digit[:, :, 0]
    mass = tf.maximum(tf.reduce_sum(pixels), 1e-6)
    rows = tf.cast(tf.range(shape[0]), tf.float32)
    cols = tf.cast(tf.range(shape[1]), tf.float32)
    centre_row = tf.reduce_sum(pixels * rows[:, None]) / mass
    centre_col = tf.reduce_sum(pixels * cols[None, :]) / mass
    offset_row = tf.cast(tf.round(CENTRE - centre_row), tf.int32)
    offset_col = tf.cast(tf.round(CENTRE - centre_col), tf.int32)
    # On a canvas twice the size, any offset of a BOX-sized digit fits;
    # the middle SIZE x SIZE is the result.
    canvas = tf.image.pad_to_bounding_box(
        digit, offset_row + SIZE // 2, offset_col + SIZE // 2,
        2 * SIZE, 2 * SIZE)
    return tf.image.crop_to_bounding_box(canvas, SIZE // 2, SIZE // 2,
                                         SIZE, SIZE)


class MnistForm(object):
    """The preprocessing graph: one encoded image in, 784 pixels out.

    Build it inside the graph it should live in; call it with a session on
    that graph.
    """

    def __init__(self, verbose=False):
        self.verbose = verbose
        self.contents = tf.placeholder(tf.string, [], name='image_file')
        self.is_png = tf.placeholder(tf.bool, [], name='image_is_png')
        self.orientation = tf.placeholder_with_default(
            1, [], name='image_orientation')
        with tf.name_scope('mnist_form'):
            grey_alpha = _shrink(_upright(_decode(self.contents, self.is_png),
                                          self.orientation), WORK_SIDE)
            ink, self.contrast = _white_on_black(grey_alpha)
            self.has_digit = self.contrast > MIN_CONTRAST
            self.pixels = tf.cond(
                self.has_digit,
                lambda: tf.reshape(_centre_by_mass(_fit_box(ink)),
                                   [SIZE * SIZE]),
                lambda: tf.zeros([SIZE * SIZE]))

    def __call__(self, sess, data, kind, name):
        """Float32 [784] in [0, 1], white digit on black, for one file.

        Raises:
          UserError: the image cannot be decoded or shows no digit.
        """
        try:
            # libjpeg writes its complaints about a damaged file straight to
            # stderr; the one-line error below says it better.
            with tf_logging.stderr_muted(unless=self.verbose):
                pixels, has_digit = sess.run(
                    [self.pixels, self.has_digit],
                    feed_dict={self.contents: data,
                               self.is_png: kind == 'png',
                               self.orientation: (1 if kind == 'png' else
                                                  _jpeg_orientation(data))})
        except tf.errors.OpError as e:
            raise errors.UserError('%s is a damaged %s image (%s); give a '
                                   'complete file' %
                                   (name, kind.upper(), errors.tf_reason(e)))
        if not has_digit:
            raise errors.UserError('%s shows no digit (it is one flat colour); '
                                   'give a picture of a digit' % name)
        return pixels

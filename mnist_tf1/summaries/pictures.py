"""Draws small pictures for TensorBoard with numpy alone: digit grids,
captions in a 3x5 pixel font, PNG encoding.

TensorBoard's image dashboard and the projector's sprite take PNG files; the
training graph should not grow ops just to draw them, and the project takes
no imaging library, so the few pixels needed are set here.
"""

import functools
import struct
import zlib

import numpy as np

# 3x5 glyphs, one string of 0/1 per row, for the characters captions use.
_GLYPHS = {
    '0': ('111', '101', '101', '101', '111'),
    '1': ('010', '110', '010', '010', '111'),
    '2': ('111', '001', '111', '100', '111'),
    '3': ('111', '001', '111', '001', '111'),
    '4': ('101', '101', '111', '001', '001'),
    '5': ('111', '100', '111', '001', '111'),
    '6': ('111', '100', '111', '101', '111'),
    '7': ('111', '001', '010', '010', '010'),
    '8': ('111', '101', '111', '101', '111'),
    '9': ('111', '101', '111', '001', '111'),
    'P': ('111', '101', '111', '100', '100'),
    'T': ('111', '010', '010', '010', '010'),
    ' ': ('000', '000', '000', '000', '000'),
}
GLYPH_WIDTH, GLYPH_HEIGHT = 3, 5

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)


def text_width(text, scale=1):
    """Pixels `text` takes when drawn at `scale` (one column between glyphs)."""
    if not text:
        return 0
    return (len(text) * (GLYPH_WIDTH + 1) - 1) * scale


@functools.lru_cache(maxsize=None)
def _glyph_mask(char, scale):
    """The glyph as a boolean mask, each font pixel scale x scale."""
    glyph = np.array([[c == '1' for c in row] for row in _GLYPHS[char]])
    return np.kron(glyph, np.ones((scale, scale), dtype=bool))


def draw_text(canvas, text, top, left, color, scale=1):
    """Draws `text` into an RGB canvas [height, width, 3] in place.

    Args:
      canvas: uint8 array [height, width, 3].
      text: characters from the font (digits, 'P', 'T', space).
      top, left: pixel of the first glyph's top-left corner.
      color: (r, g, b).
      scale: each font pixel becomes scale x scale pixels.

    Raises:
      KeyError: a character the font does not have.
    """
    for i, char in enumerate(text):
        mask = _glyph_mask(char, scale)
        x = left + i * (GLYPH_WIDTH + 1) * scale
        region = canvas[top:top + mask.shape[0], x:x + mask.shape[1]]
        # Clip at the canvas edge rather than fail.
        region[mask[:region.shape[0], :region.shape[1]]] = color


def digits_to_uint8(images, size=28):
    """Flat images in [0, 1] (or uint8), [n, size*size], as uint8 [n, size,
    size]."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = np.clip(np.rint(images * 255.0), 0, 255).astype(np.uint8)
    return images.reshape(-1, size, size)


def grid(tiles, columns, background=0):
    """Lays tiles [n, h, w(, c)] out in rows of `columns`, the last row padded.

    Returns:
      An array [rows*h, columns*w(, c)] of the tiles' dtype.
    """
    tiles = np.asarray(tiles)
    n, height, width = tiles.shape[:3]
    rows = max(1, -(-n // columns))
    out = np.full((rows * height, columns * width) + tiles.shape[3:],
                  background, dtype=tiles.dtype)
    for i in range(n):
        r, c = divmod(i, columns)
        out[r * height:(r + 1) * height, c * width:(c + 1) * width] = tiles[i]
    return out


def encode_png(pixels):
    """Encodes uint8 pixels [h, w] (grey) or [h, w, 3] (RGB) as PNG bytes."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    if pixels.ndim == 2:
        color_type = 0
    elif pixels.ndim == 3 and pixels.shape[2] == 3:
        color_type = 2
    else:
        raise ValueError('expected [h, w] or [h, w, 3] pixels, got %s' %
                         (pixels.shape,))
    height, width = pixels.shape[:2]
    # Filter type 0 (none) before every row.
    rows = pixels.reshape(height, -1)
    raw = np.hstack([np.zeros((height, 1), dtype=np.uint8), rows]).tobytes()

    def chunk(kind, data):
        body = kind + data
        return (struct.pack('>I', len(data)) + body +
                struct.pack('>I', zlib.crc32(body) & 0xffffffff))

    header = struct.pack('>IIBBBBB', width, height, 8, color_type, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) +
            chunk(b'IDAT', zlib.compress(raw, 6)) + chunk(b'IEND', b''))

"""mnist-tf1-predict on real MNIST test digits written out as image files."""

import json
import os
import re
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

import tensorflow.compat.v1 as tf

from mnist_tf1 import input_data

# Every test here starts the programs (the slow tier; see conftest.py).
pytestmark = pytest.mark.slow

PREDICT = [sys.executable, '-m', 'mnist_tf1.predict']


def predict(*args, timeout=600):
    return subprocess.run(PREDICT + list(args), capture_output=True,
                          text=True, timeout=timeout)


def load_test_set(data_dir):
    with open('%s/%s' % (data_dir, input_data.TEST_IMAGES), 'rb') as f:
        images = input_data.extract_images(f)
    with open('%s/%s' % (data_dir, input_data.TEST_LABELS), 'rb') as f:
        labels = input_data.extract_labels(f)
    return images, labels


class Encoder(object):
    """TensorFlow's own encoders and resizer, in a graph of their own."""

    def __init__(self):
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.pixels = tf.placeholder(tf.uint8, [None, None, None])
            self.png = tf.image.encode_png(self.pixels)
            self.jpeg = tf.image.encode_jpeg(self.pixels, quality=90)
            self.size = tf.placeholder(tf.int32, [2])
            self.resized = tf.cast(tf.clip_by_value(tf.round(
                tf.image.resize_bilinear(
                    tf.cast(self.pixels[None], tf.float32), self.size,
                    half_pixel_centers=True)[0]), 0, 255), tf.uint8)
        self.sess = tf.Session(graph=self.graph)

    def encode(self, pixels, kind='png'):
        return self.sess.run(self.png if kind == 'png' else self.jpeg,
                             {self.pixels: pixels})

    def resize(self, pixels, height, width):
        return self.sess.run(self.resized, {self.pixels: pixels,
                                            self.size: [height, width]})


def variants(encoder, digit):
    """The ways a user might hand over one MNIST digit [28, 28, 1] uint8."""
    yield 'plain.png', encoder.encode(digit)
    # Dark digit on white paper.
    yield 'inverted.png', encoder.encode(255 - digit)
    # Enlarged 3x, off-centre on a large white page.
    page = np.full((300, 400, 1), 255, np.uint8)
    page[40:124, 250:334] = encoder.resize(255 - digit, 84, 84)
    yield 'page.png', encoder.encode(page)
    # Shrunk to 20x20, the MNIST way round.
    yield 'small.png', encoder.encode(encoder.resize(digit, 20, 20))
    # Blue ink on cream paper, as a JPEG.
    ink = digit.astype(np.float32) / 255
    paper = np.array([250, 240, 210], np.float32)
    blue = np.array([20, 40, 160], np.float32)
    colour = paper * (1 - ink) + blue * ink
    yield 'colour.jpg', encoder.encode(colour.astype(np.uint8), 'jpeg')
    # Cropped tight to its ink, dark on white: ink on the border too.
    rows, cols = np.nonzero(digit[:, :, 0] > 0)
    tight = digit[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    yield 'tight.png', encoder.encode(255 - tight)
    # Black ink on a transparent canvas (RGBA).
    rgba = np.concatenate([np.zeros_like(digit)] * 3 + [digit], axis=2)
    yield 'transparent.png', encoder.encode(rgba)


def low_bit_png(indices, bit_depth, palette=None):
    """A PNG of `indices` [h, w] at 1, 2 or 4 bits a pixel: grey levels, or
    entries of `palette` [(r, g, b)] (a palette PNG), written by hand:
    TensorFlow's encoder writes 8 and 16 bits only."""
    def chunk(kind, data):
        body = kind + data
        return (struct.pack('>I', len(data)) + body +
                struct.pack('>I', zlib.crc32(body)))
    height, width = indices.shape
    per_byte = 8 // bit_depth
    rows = b''
    for row in indices.astype(np.uint8):
        padded = np.zeros(-(-width // per_byte) * per_byte, np.uint8)
        padded[:width] = row
        packed = np.zeros(len(padded) // per_byte, np.uint8)
        for i in range(per_byte):
            packed |= padded[i::per_byte] << (8 - bit_depth * (i + 1))
        rows += b'\0' + packed.tobytes()
    colour_type = 0 if palette is None else 3
    png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack(
        '>IIBBBBB', width, height, bit_depth, colour_type, 0, 0, 0))
    if palette is not None:
        png += chunk(b'PLTE', bytes(np.array(palette, np.uint8).ravel()))
    return png + chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b'')


def test_one_two_and_four_bit_pngs_read_as_their_eight_bit_twin(
        trained_run, mnist_data_dir, tmp_path):
    # Black on white as a scanner saves line art: 1-bit grey, and palettes
    # of 2 and 4 bits. Each must read as the same picture at 8 bits.
    log_dir, _ = trained_run
    images, _ = load_test_set(mnist_data_dir)
    ink = images[0][:, :, 0] >= 128
    page = np.ones((40, 40), np.uint8)
    page[6:34, 6:34] = 1 - ink
    files = {'8bit.png': Encoder().encode(page[:, :, None] * 255),
             '1bit.png': low_bit_png(page, 1)}
    for bits in (2, 4):
        # Ink is entry 0 (black), paper entry 1 (white).
        palette = [(0, 0, 0), (255, 255, 255)] + [(128, 0, 0)] * (
            2 ** bits - 2)
        files['%dbit_palette.png' % bits] = low_bit_png(page, bits, palette)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    result = predict('--log_dir=%s' % log_dir, '--json',
                     *[str(tmp_path / name) for name in sorted(files)])
    assert result.returncode == 0, result.stderr
    got = {os.path.basename(p['file']): (p['digit'], p['probability'])
           for p in json.loads(result.stdout)['predictions']}
    for name in files:
        assert got[name][0] == got['8bit.png'][0], got
        assert got[name][1] == pytest.approx(got['8bit.png'][1], abs=1e-4)


def with_exif_orientation(jpeg, orientation):
    """The JPEG with an EXIF segment saying `orientation` (1-8), as a phone
    camera writes it: the pixels as the sensor saw them, and how to turn
    them for viewing."""
    tiff = (b'MM\0\x2a' + struct.pack('>I', 8) +  # Big-endian, IFD0 at 8.
            struct.pack('>H', 1) +  # One entry: Orientation, SHORT, 1.
            struct.pack('>HHIHH', 0x0112, 3, 1, orientation, 0) +
            struct.pack('>I', 0))
    body = b'Exif\0\0' + tiff
    return (jpeg[:2] + b'\xff\xe1' + struct.pack('>H', len(body) + 2) +
            body + jpeg[2:])


# For each EXIF orientation, how the sensor's pixels came from the upright
# picture (the inverse of the turn the orientation asks for).
STORED_AS = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, 1),
    7: lambda a: np.rot90(a, 2).transpose(1, 0, 2),
    8: lambda a: np.rot90(a, -1),
}


def test_a_jpeg_is_read_upright_as_its_exif_orientation_says(
        trained_run, mnist_data_dir, tmp_path):
    log_dir, _ = trained_run
    images, labels = load_test_set(mnist_data_dir)
    encoder = Encoder()
    # MNIST test image 0 (a 7), dark on a white page of 8x8 JPEG blocks.
    page = np.full((48, 48, 1), 255, np.uint8)
    page[10:38, 10:38] = 255 - images[0]
    names = []
    for orientation, stored in STORED_AS.items():
        name = tmp_path / ('photo_%d.jpg' % orientation)
        name.write_bytes(with_exif_orientation(
            encoder.encode(np.ascontiguousarray(stored(page)), 'jpeg'),
            orientation))
        names.append(str(name))
    result = predict('--log_dir=%s' % log_dir, '--json', *names)
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)['predictions']
    assert [a['digit'] for a in answers] == [labels[0]] * 8, answers
    upright = answers[0]['probability']
    for answer in answers:
        assert answer['probability'] == pytest.approx(upright, abs=0.05)


@pytest.fixture(scope='module')
def digit_files(trained_run, mnist_data_dir, tmp_path_factory):
    """[(path, label, test index)]: every variant of, for each digit, the
    first test image the trained run reads right with probability >= 0.9
    (Mechanics 101 misreads about one test image in ten, in any form)."""
    log_dir, _ = trained_run
    images, labels = load_test_set(mnist_data_dir)
    direct = predict('--log_dir=%s' % log_dir, '--json',
                     *['--mnist_test_index=%d' % i for i in range(200)])
    assert direct.returncode == 0, direct.stderr
    chosen = {}
    for entry in json.loads(direct.stdout)['predictions']:
        if (entry['digit'] == entry['label'] and entry['probability'] >= 0.9
                and entry['label'] not in chosen):
            chosen[entry['label']] = entry['mnist_test_index']
    assert sorted(chosen) == list(range(10))
    folder = tmp_path_factory.mktemp('digits')
    encoder = Encoder()
    files = []
    for digit, index in sorted(chosen.items()):
        for name, data in variants(encoder, images[index]):
            path = folder / ('%d_%s' % (digit, name))
            path.write_bytes(data)
            files.append((str(path), digit, index))
    return files


def test_predict_reads_real_digits_in_every_form(trained_run, digit_files):
    log_dir, _ = trained_run
    result = predict('--log_dir=%s' % log_dir, '--json',
                     *[path for path, _, _ in digit_files])
    assert result.returncode == 0, result.stderr
    assert result.stderr == ''
    answer = json.loads(result.stdout)
    assert answer['checkpoint'] == str(log_dir / 'model.ckpt-2000')
    assert answer['step'] == 2000
    got = {p['file']: p['digit'] for p in answer['predictions']}
    wrong = {path: got[path] for path, digit, _ in digit_files
             if got[path] != digit}
    # Every form but the shrunk one keeps the digit as legible as MNIST's;
    # shrunk to 20x20 and back, a digit or two may blur into another.
    assert [p for p in wrong if not p.endswith('small.png')] == [], wrong
    assert len(wrong) <= 2, wrong
    # The MNIST form of a plain MNIST digit is (near enough) that digit: the
    # answer is the one for the test image itself. (Not always bit for bit:
    # the crop drops the faintest fringe pixels, and a digit whose centre of
    # mass is off by more than half a pixel moves one.)
    indices = sorted({i for _, _, i in digit_files})
    direct = predict('--log_dir=%s' % log_dir, '--json',
                     *['--mnist_test_index=%d' % i for i in indices])
    assert direct.returncode == 0, direct.stderr
    by_index = {p['mnist_test_index']: p
                for p in json.loads(direct.stdout)['predictions']}
    for entry in answer['predictions']:
        if entry['file'].endswith('plain.png'):
            index = [i for p, _, i in digit_files if p == entry['file']][0]
            assert entry['digit'] == by_index[index]['digit']
            assert entry['probability'] == pytest.approx(
                by_index[index]['probability'], abs=0.05)


def test_text_output_and_top_k(trained_run, digit_files):
    log_dir, _ = trained_run
    path, digit, index = [f for f in digit_files
                          if f[0].endswith('0_inverted.png')][0]
    result = predict('--log_dir=%s' % log_dir, '--top_k=3', path,
                     '--mnist_test_index=%d' % index)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == 'Using %s (step 2000).' % (log_dir / 'model.ckpt-2000')
    pattern = (r'^%s: (\d) \(probability (0\.\d{4}|1\.0000)\); next (\d) '
               r'\((\d\.\d{4})\), (\d) \((\d\.\d{4})\)$')
    m = re.match(pattern % re.escape(path), lines[1])
    assert m, lines[1]
    assert int(m.group(1)) == 0
    p1, p2, p3 = float(m.group(2)), float(m.group(4)), float(m.group(6))
    assert p1 >= p2 >= p3 and p1 + p2 + p3 <= 1.0001
    assert len({m.group(1), m.group(3), m.group(5)}) == 3
    m = re.match(pattern % re.escape('MNIST test image %d (label 0)' % index),
                 lines[2])
    assert m, lines[2]


def test_bad_files_get_one_line_each_and_the_others_their_answers(
        trained_run, digit_files, tmp_path):
    log_dir, _ = trained_run
    good, digit, _ = [f for f in digit_files if f[0].endswith('3_plain.png')][0]
    notes = tmp_path / 'notes.txt'
    notes.write_text('this is not an image\n')
    empty = tmp_path / 'empty.png'
    empty.write_bytes(b'')
    # A PNG header claiming 100000 x 100000 pixels.
    huge = tmp_path / 'huge.png'
    huge.write_bytes(b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR' +
                     (100000).to_bytes(4, 'big') * 2 + b'\x08\x00\x00\x00\x00')
    broken = tmp_path / 'broken.png'
    broken.write_bytes(open(good, 'rb').read()[:60])
    jpeg = [f[0] for f in digit_files if f[0].endswith('colour.jpg')][0]
    cut = tmp_path / 'cut.jpg'
    cut.write_bytes(open(jpeg, 'rb').read()[:400])
    blank = tmp_path / 'blank.png'
    blank.write_bytes(Encoder().encode(np.full((50, 50, 1), 255, np.uint8)))
    big = tmp_path / 'big.png'
    with open(big, 'wb') as f:
        f.truncate(21 * 1000 * 1000)  # Sparse: no disk space taken.
    missing = tmp_path / 'missing.png'
    files = [notes, good, empty, huge, broken, cut, blank, big, missing]

    result = predict('--log_dir=%s' % log_dir, *map(str, files))
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    assert result.stdout.splitlines()[1].startswith('%s: %d (probability' %
                                                   (good, digit))
    # One line per bad file and nothing else (libjpeg's own complaint about
    # the cut JPEG included).
    errors = result.stderr.splitlines()
    assert len(errors) == 8, result.stderr
    expected = [
        (notes, 'is not a PNG or JPEG image'),
        (empty, 'is empty'),
        (huge, 'is 100000x100000 pixels, more than the 25 million'),
        (broken, 'is a damaged PNG image'),
        (cut, 'is a damaged JPEG image (jpeg::Uncompress failed'),
        (blank, 'shows no digit'),
        (big, 'is 21.0 MB, more than the 20 MB'),
        (missing, 'cannot read %s (No such file or directory)' % missing),
    ]
    for line, (path, words) in zip(errors, expected):
        assert ': error: ' in line and str(path) in line and words in line, \
            (line, words)

    # The same in JSON: one entry per input, in order.
    as_json = predict('--log_dir=%s' % log_dir, '--json', *map(str, files))
    assert as_json.returncode == 1
    entries = json.loads(as_json.stdout)['predictions']
    assert [e['file'] for e in entries] == list(map(str, files))
    assert [('error' in e) for e in entries] == [True, False] + [True] * 7
    assert entries[1]['digit'] == digit and len(entries[1]['top_k']) == 1


def test_without_inputs_or_with_a_bad_index_it_says_what_to_give(trained_run):
    log_dir, _ = trained_run
    nothing = predict('--log_dir=%s' % log_dir)
    assert nothing.returncode == 1
    assert 'nothing to predict: give image files' in nothing.stderr
    outside = predict('--log_dir=%s' % log_dir, '--mnist_test_index=10000',
                      '--mnist_test_index=1')
    assert outside.returncode == 1
    assert '--mnist_test_index=10000 is outside the test set; give 0 to 9999' \
        in outside.stderr
    assert outside.stdout.splitlines()[1].startswith(
        'MNIST test image 1 (label 2): ')

"""Asks a trained run which digit an image shows.

    mnist-tf1-predict --log_dir=/tmp/run1 seven.png photo.jpg
    mnist-tf1-predict --log_dir=/tmp/run1 --top_k=3 seven.png
    mnist-tf1-predict --log_dir=/tmp/run1 --json seven.png
    mnist-tf1-predict --log_dir=/tmp/run1 --mnist_test_index=0

PNG and JPEG files of any size, grey or colour, dark digit on light paper or
the MNIST way round, are brought to MNIST's form first (images.py). A file
that cannot be read gets one line on stderr and the others still get their
answers; the exit status is then 1.
"""

import contextlib
import json
import sys

from absl import flags
import numpy as np

from mnist_tf1.cli import tf_logging
tf_logging.start_command()  # A command: TensorFlow quiet, in graph mode.

# pylint: disable=wrong-import-position
from mnist_tf1 import input_data
from mnist_tf1.cli import errors
from mnist_tf1.cli import flags as _flags  # noqa: F401  (defines them)
from mnist_tf1.data import download
from mnist_tf1.data import idx
from mnist_tf1.data import image_files
from mnist_tf1.networks import trained_model
from mnist_tf1.run_dir import checkpoints

flags.DEFINE_integer('top_k', 1, 'How many of the likeliest digits to show '
                     '(1-10).', lower_bound=1, upper_bound=10)
flags.DEFINE_boolean('json', False,
                     'Print one JSON document instead of text lines.')
flags.DEFINE_multi_integer('mnist_test_index', [],
                           'Also ask about MNIST test image N (0-9999); '
                           'repeatable.')

FLAGS = flags.FLAGS


def _test_set():
    """MNIST's test images (uint8 [10000, 28, 28, 1]) and labels."""
    # Progress lines (downloads) go to stderr: stdout is for the answers.
    with contextlib.redirect_stdout(sys.stderr):
        paths = [download.maybe_download(name, FLAGS.input_data_dir,
                                         FLAGS.data_source_url)
                 for name in (input_data.TEST_IMAGES, input_data.TEST_LABELS)]
    # The parser itself: input_data.extract_*() would print the tutorial's
    # "Extracting" lines.
    with open(paths[0], 'rb') as f:
        test_images = idx.read_images(f)
    with open(paths[1], 'rb') as f:
        test_labels = idx.read_labels(f)
    return test_images, test_labels


def gather(files, indices, model):
    """Reads every input; returns (entries, rows).

    entries: one dict per input, in order; a good one has 'row' (its index
    in rows), a bad one 'error'. rows: float32 [n, 784] in MNIST's form.
    """
    entries, rows = [], []
    if files:
        with model.graph.as_default():
            form = image_files.MnistForm(
                verbose=tf_logging.verbose_requested() or FLAGS.tf_verbose)
        for path in files:
            entry = {'file': path}
            try:
                data, kind = image_files.read(path)
                rows.append(form(model.sess, data, kind, path))
                entry['row'] = len(rows) - 1
            except errors.UserError as e:
                entry['error'] = str(e)
            entries.append(entry)
    if indices:
        test_images, test_labels = _test_set()
        for index in indices:
            entry = {'mnist_test_index': index}
            if 0 <= index < len(test_images):
                entry['label'] = int(test_labels[index])
                # Scaled as the training batches are (bit for bit).
                rows.append(test_images[index].reshape(-1).astype(np.float32)
                            * input_data.PIXEL_SCALE)
                entry['row'] = len(rows) - 1
            else:
                entry['error'] = ('--mnist_test_index=%d is outside the test '
                                  'set; give 0 to %d' %
                                  (index, len(test_images) - 1))
            entries.append(entry)
    return entries, np.array(rows, dtype=np.float32).reshape(-1, 784)


def _text(entry):
    if 'file' in entry:
        what = entry['file']
    else:
        what = 'MNIST test image %d (label %d)' % (entry['mnist_test_index'],
                                                   entry['label'])
    best = entry['top_k'][0]
    line = '%s: %d (probability %.4f)' % (what, best['digit'],
                                          best['probability'])
    if len(entry['top_k']) > 1:
        line += '; next ' + ', '.join('%d (%.4f)' % (o['digit'],
                                                      o['probability'])
                                      for o in entry['top_k'][1:])
    return line


def main(argv):
    files = argv[1:]
    if not files and not FLAGS.mnist_test_index:
        raise errors.UserError('nothing to predict: give image files (PNG or '
                               'JPEG) or --mnist_test_index=N')
    model, _, prefix = trained_model.load(FLAGS, with_labels=False)
    step = checkpoints.global_step(prefix)
    entries, rows = gather(files, FLAGS.mnist_test_index, model)
    if len(rows):
        _, probabilities = model.predict(rows)
    model.close()

    for entry in entries:
        if 'row' in entry:
            p = probabilities[entry.pop('row')]
            order = np.argsort(-p, kind='stable')[:FLAGS.top_k]
            entry['digit'] = int(order[0])
            entry['probability'] = float(p[order[0]])
            entry['top_k'] = [{'digit': int(d), 'probability': float(p[d])}
                              for d in order]
    if FLAGS.json:
        json.dump({'checkpoint': prefix, 'step': step, 'predictions': entries},
                  sys.stdout, indent=2)
        sys.stdout.write('\n')
    else:
        print('Using %s (step %d).' % (prefix, step))
    for entry in entries:
        if 'error' in entry:
            errors.print_error(entry['error'])
        elif not FLAGS.json:
            print(_text(entry))
    return 1 if any('error' in e for e in entries) else 0


def run():
    """Console-script entry point: mnist-tf1-predict."""
    errors.run_cli(main)


if __name__ == '__main__':
    run()

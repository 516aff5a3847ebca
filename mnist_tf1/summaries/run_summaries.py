"""What a training run writes for TensorBoard beside its per-step summaries.

In `<log_dir>/train`, `<log_dir>/validation` and `<log_dir>/test`, at the
global step of each evaluation: `precision_at_1`, so TensorBoard overlays
the three curves; in `test` also the misclassified digits (`misclassified`)
and the confusion matrix (`confusion_matrix`), see confusion.py. In
`<log_dir>` itself: the HParams experiment and session (hparams.py), and at
the end the embedding projector of the last hidden layer (projector.py).
The per-step summary ops are graph_summaries.py's.
"""


import os

import numpy as np

from mnist_tf1.summaries import confusion
from mnist_tf1.summaries import event_files
from mnist_tf1.summaries import graph_summaries
from mnist_tf1.summaries import hparams
from mnist_tf1.summaries import projector
from mnist_tf1.summaries import tags


def predict(sess, tensors, images_placeholder, data_set, batch_size,
            limit=None):
    """Runs `tensors` over a set's images in file order, in batches.

    Returns:
      ([one array per tensor], images, labels), each over the first `limit`
      examples (all when None).
    """
    outputs, images, labels = [[] for _ in tensors], [], []
    count = 0
    for images_feed, labels_feed in data_set.batches(batch_size):
        if limit is not None:
            images_feed = images_feed[:limit - count]
            labels_feed = labels_feed[:limit - count]
        for out, value in zip(outputs, sess.run(
                tensors, feed_dict={images_placeholder: images_feed})):
            out.append(value)
        images.append(images_feed)
        labels.append(labels_feed)
        count += len(labels_feed)
        if limit is not None and count >= limit:
            break
    return ([np.concatenate(out) for out in outputs], np.concatenate(images),
            np.concatenate(labels))


class RunSummaries(object):
    """The writers beside the training writer, and what goes in them.

    Writes the HParams experiment and session start when made, the
    evaluations (add_evaluation) while training, and the projector and the
    HParams session end at the end (close).
    """

    def __init__(self, log_dir, summary_writer, inspection, images_placeholder,
                 eval_batch_size, flag_values):
        """Opens one writer per evaluated set and starts the HParams session.

        Args:
          log_dir: the run's log dir.
          summary_writer: the training FileWriter at log_dir.
          inspection: what add_summaries() returned.
          images_placeholder: the images placeholder.
          eval_batch_size: batch size for the extra evaluation passes.
          flag_values: the parsed absl FLAGS, for the HParams.
        """
        self._log_dir = log_dir
        self._summary_writer = summary_writer
        self._inspection = inspection
        self._images = images_placeholder
        self._batch_size = eval_batch_size
        self.writers = {split: event_files.FileWriter(os.path.join(log_dir,
                                                                   split))
                        for split in tags.SPLITS}
        flags = hparams.project_flags(flag_values)
        metrics = [(split, tags.PRECISION_TAG) for split in tags.SPLITS]
        metrics.append(('', inspection.loss_tag))
        summary_writer.add_summary(hparams.experiment_summary(flags, metrics))
        summary_writer.add_summary(hparams.session_start_summary(flags))
        summary_writer.flush()

    def add_evaluation(self, sess, global_step, precisions, test_set):
        """Writes one evaluation: the precisions, and for the test set the
        misclassified digits and the confusion matrix.

        Args:
          sess: the training session.
          global_step: the global step the evaluation was made at.
          precisions: {split: precision @ 1} for some of tags.SPLITS.
          test_set: the test DataSet.
        """
        for split, precision in precisions.items():
            self.writers[split].add_summary(
                graph_summaries.scalar_summary(tags.PRECISION_TAG, precision),
                global_step)
        predictions, labels, wrong_images = [], [], []
        for images_feed, labels_feed in test_set.batches(self._batch_size):
            batch_predictions = sess.run(
                self._inspection.predictions,
                feed_dict={self._images: images_feed})
            # Keep the pixels of the digits drawn only: the first
            # misclassified ones of each batch, up to the limit, are the
            # first ones of the set.
            wrong = confusion.misclassified(
                labels_feed, batch_predictions,
                confusion.MAX_MISCLASSIFIED - len(wrong_images))
            wrong_images.extend(images_feed[wrong])
            predictions.append(batch_predictions)
            labels.append(labels_feed)
        predictions = np.concatenate(predictions)
        labels = np.concatenate(labels)
        test_writer = self.writers['test']
        wrong = confusion.misclassified(labels, predictions)
        if len(wrong):
            test_writer.add_summary(graph_summaries.image_summary(
                tags.MISCLASSIFIED_TAG,
                confusion.misclassified_image(np.array(wrong_images),
                                              labels[wrong],
                                              predictions[wrong]),
                'The first %d misclassified test digits, each over P '
                '(prediction, red) and T (truth, green).' % len(wrong)),
                global_step)
        test_writer.add_summary(graph_summaries.image_summary(
            tags.CONFUSION_TAG,
            confusion.confusion_image(
                confusion.confusion_matrix(labels, predictions)),
            'Test set: rows are the true digit (T), columns the predicted '
            'digit (P).'), global_step)
        for writer in self.writers.values():
            writer.flush()

    def close(self, sess, test_set, finished=True):
        """Writes the projector and the HParams session end, when training
        `finished` (not stopped by a signal, to be resumed); closes the
        evaluation writers (the loop closes its own)."""
        if finished and self._inspection.last_hidden is not None:
            (predictions, embeddings), images, labels = predict(
                sess, [self._inspection.predictions,
                       self._inspection.last_hidden],
                self._images, test_set, self._batch_size,
                limit=projector.SAMPLE_SIZE)
            projector.write(self._log_dir,
                            self._inspection.last_hidden.op.name, embeddings,
                            images, labels, predictions)
        if finished:
            self._summary_writer.add_summary(hparams.session_end_summary())
            self._summary_writer.flush()
        for writer in self.writers.values():
            writer.close()

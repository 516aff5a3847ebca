"""One evaluation against a whole set, printed as the tutorial prints it.

The training loop, mnist-tf1-eval and the benchmark count correct answers
this one way, so the numbers for a checkpoint are the same whoever prints
them.
"""


def do_eval(sess, eval_correct, images_placeholder, labels_placeholder,
            data_set, batch_size):
    """Runs one evaluation against the full epoch of data.

    Every example counts once, a last partial batch included, so "Num
    examples" is the size of the set whatever the batch size.

    Args:
      sess: The session in which the model has been trained.
      eval_correct: The Tensor that returns the number of correct predictions.
      images_placeholder: The images placeholder.
      labels_placeholder: The labels placeholder.
      data_set: The set of images and labels to evaluate, from
        input_data.read_data_sets().
      batch_size: Examples per sess.run; any size counts every example.

    Returns:
      The precision @ 1 (a float in [0, 1]).
    """
    # And run one epoch of eval.
    true_count = 0  # Counts the number of correct predictions.
    num_examples = 0
    for images_feed, labels_feed in data_set.batches(batch_size):
        true_count += sess.run(eval_correct, feed_dict={
            images_placeholder: images_feed,
            labels_placeholder: labels_feed,
        })
        num_examples += len(labels_feed)
    precision = float(true_count) / num_examples if num_examples else 0.0
    print('  Num examples: %d  Num correct: %d  Precision @ 1: %0.04f' %
          (num_examples, true_count, precision))
    return precision

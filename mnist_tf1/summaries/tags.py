"""The names of a run's summaries: the evaluated sets and the tags.

One set of names for the training loop, mnist-tf1-eval and the tests: the
sets each have a folder (a TensorBoard run) under the log dir, with the
heading the tutorial prints before each evaluation block.
"""

# (set, heading): the DataSets attribute and folder, and the heading printed
# before its evaluation block ("Training Data Eval:").
SPLIT_HEADINGS = (('train', 'Training'), ('validation', 'Validation'),
                  ('test', 'Test'))
SPLITS = tuple(split for split, _ in SPLIT_HEADINGS)
PRECISION_TAG = 'precision_at_1'
MISCLASSIFIED_TAG = 'misclassified'
CONFUSION_TAG = 'confusion_matrix'
LEARNING_RATE_TAG = 'learning_rate'
EXAMPLES_PER_SEC_TAG = 'examples_per_sec'

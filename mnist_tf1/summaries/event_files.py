"""Keeps a resumed run's event files free of repeated or backward steps.

A run killed at step 1,450 after its step-1,000 checkpoint has already
written summaries for steps 1,000 to 1,400; the resumed run starts again from
step 1,000 and writes those steps anew. Before it does, the orphaned
summaries are dropped from the earlier event files, so that every curve in
TensorBoard (and every reader of the files) sees each step once, in order.

Two kinds of summaries live in a log dir, and they differ by one step:
  * in log_dir itself, the training loop's per-step summaries, written at the
    step about to run: the resumed run writes the restored step again, so
    summaries at or after it are orphans;
  * in subfolders (train/, validation/, test/, eval/<split>/), evaluations of
    checkpoints, written at the checkpoint's step: the restored checkpoint's
    own evaluation stays, later ones are orphans.
"""

import os

import tensorflow.compat.v1 as tf

from mnist_tf1.platform import atomic_write

_EVENT_FILE_MARK = '.tfevents.'


def event_files(log_dir):
    """Every event file under log_dir, as (path, depth) with depth 0 for
    files in log_dir itself."""
    found = []
    for root, dirs, files in os.walk(log_dir):
        dirs.sort()
        depth = 0 if os.path.samefile(root, log_dir) else 1
        for name in sorted(files):
            if _EVENT_FILE_MARK in name and not name.startswith('.'):
                found.append((os.path.join(root, name), depth))
    return found


def read_events(path):
    """The events in one file, and whether its end was cut short.

    A process killed while writing leaves a partial last record; everything
    before it is still good.

    Returns:
      (events, truncated): a list of tf.Event, and True if reading stopped at
      a damaged record.
    """
    events = []
    try:
        for record in tf.io.tf_record_iterator(path):
            events.append(tf.Event.FromString(record))
    except (tf.errors.DataLossError, tf.errors.OutOfRangeError):
        return events, True
    return events, False


def _write_events(path, events):
    """Replaces an event file by one holding `events`, whole or not at all."""
    mode = os.stat(path).st_mode & 0o777
    with atomic_write.replacing(path, mode=mode) as tmp:
        with tf.io.TFRecordWriter(tmp) as writer:
            for event in events:
                writer.write(event.SerializeToString())


def drop_orphans(log_dir, step):
    """Drops summaries a run resumed at `step` is about to write again.

    Events that are not summaries (the file version, the graph) are kept.
    Files with nothing to drop are left untouched.

    Args:
      log_dir: the run's folder.
      step: the global step the run resumes at (0 for a fresh start).

    Returns:
      The number of events dropped.
    """
    dropped = 0
    for path, depth in event_files(log_dir):
        # depth 0: per-step summaries (the resumed run rewrites `step`);
        # deeper: checkpoint evaluations (the one at `step` stays valid).
        first_orphan = step if depth == 0 else step + 1
        events, truncated = read_events(path)
        kept = [e for e in events
                if not (e.HasField('summary') and e.step >= first_orphan)]
        if len(kept) < len(events) or truncated:
            _write_events(path, kept)
            dropped += len(events) - len(kept)
    return dropped


def summary_steps(path, tag):
    """The steps at which an event file holds a value tagged `tag`."""
    steps = []
    for event in read_events(path)[0]:
        if any(v.tag == tag for v in event.summary.value):
            steps.append(event.step)
    return steps

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

import errno
import os
import struct
import tempfile

import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors
from mnist_tf1.platform import atomic_write

_EVENT_FILE_MARK = '.tfevents.'
# A TFRecord on disk: its length (8 bytes) and that length's CRC (4), the
# data, the data's CRC (4).
_RECORD_OVERHEAD = 16


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


def read_events(path, warn=errors.print_warning):
    """The events in one file, and whether its end was cut short.

    A process killed while writing (or a full disk) leaves a partial last
    record; everything before it is still good. A record that is whole but
    wrong (the file was damaged on disk) ends the reading too, with a
    warning: the records after it cannot be found.

    Args:
      path: the event file.
      warn: called with one line when the file is damaged.

    Returns:
      (events, truncated): a list of tf.Event, and True if reading stopped at
      a partial or damaged record.
    """
    events = []
    try:
        for record in tf.io.tf_record_iterator(path):
            events.append(tf.Event.FromString(record))
    except (tf.errors.DataLossError, tf.errors.OutOfRangeError) as e:
        if 'truncated record' not in str(e):
            warn('event file %s is damaged (%s); only the %d events before '
                 'the damage can be read' %
                 (path, errors.tf_reason(e), len(events)))
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


class FileWriter(tf.summary.FileWriter):
    """tf.summary.FileWriter, saying when the file system refused its events.

    TensorFlow's writer handles a full disk (or a quota, or a read-only file
    system) badly, in its writer thread: a failed write of an event is
    dropped without a word, and a failed flush logs an error, prints the
    thread's traceback and kills the thread, whose error flush() raises
    later. Here the C++ writer's failures are kept instead, the bytes of the
    events handed over are counted, and flush() raises OSError naming the
    event file when it failed or holds fewer bytes than it was given.
    """

    def __init__(self, logdir, graph=None):
        super(FileWriter, self).__init__(logdir)
        self.event_writer = _CheckedEvents(self.event_writer)
        if graph is not None:
            self.add_graph(graph)


class _CheckedEvents(object):
    """An EventFileWriter whose flush() checks what reached its file."""

    # pylint: disable=protected-access
    def __init__(self, writer):
        self._writer = writer
        self._counted = 0
        # The C++ writer, as TensorFlow's EventFileWriter and its thread
        # (private attributes, the only way in) use it.
        self._events_file = _KeptFailures(writer._ev_writer)
        writer._ev_writer = self._events_file
        writer._worker._ev_writer = self._events_file
    # pylint: enable=protected-access

    def __getattr__(self, name):
        return getattr(self._writer, name)

    def add_event(self, event):
        self._counted += event.ByteSize() + _RECORD_OVERHEAD
        self._writer.add_event(event)

    def flush(self):
        """Flushes; raises OSError if the file did not take everything."""
        self._writer.flush()
        self._check()

    def close(self):
        """Flushes and closes the file, then raises OSError as flush()."""
        try:
            self.flush()
        finally:
            self._writer.close()

    def _check(self):
        if not self._counted:
            return
        path = self._events_file.FileName()
        path = path.decode() if isinstance(path, bytes) else path
        try:
            size = os.path.getsize(path)
            with open(path, 'rb') as f:
                header = f.read(8)
        except OSError:
            size, header = 0, b''
        # The writer starts each file with a record of its own (the file
        # version), not handed over through add_event.
        first = (struct.unpack('<Q', header)[0] + _RECORD_OVERHEAD
                 if len(header) == 8 else 0)
        if self._events_file.failure or size < first + self._counted:
            number, reason = _refusal(os.path.dirname(path) or '.')
            raise OSError(number, reason or self._events_file.failure or (
                'it holds %d of the %d bytes written' %
                (size, first + self._counted)), path)


class _KeptFailures(object):
    """The C++ EventsWriter, keeping its failures rather than raising them
    in TensorFlow's writer thread."""

    def __init__(self, events_writer):
        self._events_writer = events_writer
        self.failure = None

    def __getattr__(self, name):
        return getattr(self._events_writer, name)

    def WriteEvent(self, event):  # pylint: disable=invalid-name
        self._kept(self._events_writer.WriteEvent, event)

    def Flush(self):  # pylint: disable=invalid-name
        self._kept(self._events_writer.Flush)

    def Close(self):  # pylint: disable=invalid-name
        self._kept(self._events_writer.Close)

    def _kept(self, method, *args):
        try:
            method(*args)
        except (RuntimeError, tf.errors.OpError) as e:
            self.failure = self.failure or str(e).splitlines()[0]


def _refusal(folder):
    """(errno, strerror) of a write into folder now, as the system says it:
    TensorFlow's writer names no errno. (errno.EIO, None) if it succeeds."""
    try:
        with tempfile.TemporaryFile(dir=folder) as f:
            f.write(b'\0' * (1 << 16))
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        return e.errno, e.strerror
    return errno.EIO, None

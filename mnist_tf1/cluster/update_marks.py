"""Whether each update reached every parameter server that holds the model.

With several parameter servers, one update of the model is applied on each
of them: the ops that change a variable run where it lives, and the global
step's parameter server counts the update once every one of them has. A link
cut while an update is under way can stop it on one parameter server after
another has applied it, or lose the count of an update applied everywhere;
nothing takes back what was applied.

So each parameter server that holds trained variables keeps a mark next to
them (a local variable, never saved): the global step as it would be if
every update applied there were counted. Set to the global step when the
model is restored, and counted in the same call as the update, on that
parameter server, after its part of the update; the global step counts an
update only after every mark has. A mark ahead of the global step, once no
update is under way, says that updates were applied there uncounted: the
task says so in one line, and sets the marks to the global step.

One parameter server (the global step's) holding every trained variable
needs no marks: its part of an update is the whole update.
"""

import re

import tensorflow.compat.v1 as tf


class UpdateMarks(object):
    """The marks of the parameter servers that hold trained variables.

    Attributes:
      marks: the mark variables, one per device holding trained variables,
        in the order of `devices` (empty when no update spans two devices).
      devices: those devices.
    """

    def __init__(self, global_step, variables):
        """Args:
          global_step: the global step variable.
          variables: the variables an update changes.
        """
        self._global_step = global_step
        self.devices = sorted(set(v.device for v in variables))
        self._variables = list(variables)
        self.marks = []
        if set(self.devices) | {global_step.device} == {global_step.device}:
            self.devices = []
            return
        for index, device in enumerate(self.devices):
            with tf.device(device):
                self.marks.append(tf.Variable(
                    tf.zeros([], tf.int64), trainable=False,
                    name='update_mark_%d' % index,
                    collections=[tf.GraphKeys.LOCAL_VARIABLES]))

    def count(self, update_ops):
        """Counts an update on each device after its part of it.

        Args:
          update_ops: the ops building the update made (those that change a
            variable are picked out, by the variable they take).

        Returns:
          The ops that count it, one per device (an update counted by all of
          them was applied whole).
        """
        counted = []
        for device, mark in zip(self.devices, self.marks):
            owned = set(v.op.name for v in self._variables
                        if v.device == device)
            # (A TF1 variable's apply ops take its ref, and are not marked
            # stateful: every op that takes the variable.)
            changes = [op for op in update_ops
                       if any(x.op.name in owned for x in op.inputs)]
            with tf.device(device), tf.control_dependencies(changes):
                counted.append(mark.assign_add(1).op)
        return counted

    def read(self):
        """[global step, mark, ...], int64, read once (not under a lock)."""
        return tf.stack(self._snapshots()) if self.marks else None

    def read_and_align(self):
        """read(), then the marks set to the global step (for a lock)."""
        values = self._snapshots()
        with tf.control_dependencies(values):
            aligned = [m.assign(values[0]) for m in self.marks]
        with tf.control_dependencies(aligned):
            return tf.stack(values)

    def align(self):
        """The op that sets the marks to the global step (on a restore)."""
        step = tf.cast(self._global_step.read_value(), tf.int64)
        return tf.group(*[m.assign(step) for m in self.marks])

    def _snapshots(self):
        # Copies: a read of a TF1 variable shares its buffer, which the
        # assignments above would change under it.
        return [tf.raw_ops.Snapshot(input=tf.cast(v.read_value(), tf.int64))
                for v in [self._global_step] + self.marks]


def ahead(devices, values):
    """The marks ahead of the global step: [(device, by how many updates)].

    Args:
      devices: UpdateMarks.devices.
      values: what read() answered: [global step, mark, ...].
    """
    step = int(values[0])
    return [(device, int(mark) - step)
            for device, mark in zip(devices, values[1:]) if mark > step]


def uncounted(name, devices, values):
    """The line for updates applied uncounted, in part or whole; None when
    there were none.

    Args:
      name: the task's name ('worker 1').
      devices: UpdateMarks.devices.
      values: what read() answered: [global step, mark, ...].
    """
    found = ahead(devices, values)
    if not found:
        return None
    step = int(values[0])
    extras = set(extra for _, extra in found)
    if len(found) == len(devices) and len(extras) == 1:
        extra = extras.pop()
        return ('%s: a link cut as an update ended lost its count: every '
                'parameter server applied %s that the global step (%d) does '
                'not count; training goes on.' % (
                    name.capitalize(), _updates(extra), step))
    done = dict(found)
    applied = [server_name(d) for d in devices if d in done]
    missed = ' and '.join(server_name(d) for d in devices if d not in done)
    counts = set(done.values())
    if counts == {1}:
        return ('%s: a link cut during an update left it applied in part: %s '
                'applied it, %s did not; the global step (%d) does not count '
                'it; training goes on.' % (name.capitalize(),
                                           ' and '.join(applied), missed, step))
    # Several updates were caught (each worker may have had one under way).
    if len(counts) == 1:
        updates = '%d updates' % counts.pop()
    else:
        updates = 'updates'
        applied = ['%s (%s)' % (server_name(d), _updates(done[d]))
                   for d in devices if d in done]
    return ('%s: a link cut during %s left them applied in part: %s applied '
            'them, %s did not; the global step (%d) does not count them; '
            'training goes on.' % (name.capitalize(), updates,
                                   ' and '.join(applied), missed, step))


def _updates(count):
    return '%d update%s' % (count, '' if count == 1 else 's')


def server_name(device):
    """'parameter server 1' for a device of /job:ps/task:1."""
    match = re.search(r'/job:(\w+)/(?:replica:\d+/)?task:(\d+)', device)
    if not match:
        return device
    job, task = match.groups()
    return '%s %s' % ('parameter server' if job == 'ps' else job, task)

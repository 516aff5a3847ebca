"""When the chief saves a checkpoint (and evaluates).

As TensorFlow 1.x's CheckpointSaverHook: whenever the global step crosses a
multiple of --save_checkpoint_steps, whoever took that step (on a cluster the
global step moves by more than one between two looks), or when
--save_checkpoint_secs have passed since the last save; and always at the
last step.
"""

import time


class SaveSchedule(object):
    """Says when a checkpoint is due, and at which step the next one falls."""

    def __init__(self, every_steps, every_secs, max_steps, last_step,
                 clock=time.time):
        """Args:
          every_steps: save when the global step crosses a multiple of this.
          every_secs: also save this many seconds after the last save (None
            or 0: never by time).
          max_steps: the run's last step, always saved.
          last_step: the step the run starts from (restored or 0).
          clock: seconds now (time.time).
        """
        self.every_steps = every_steps
        self.every_secs = every_secs
        self.max_steps = max_steps
        self._clock = clock
        self.last_step = last_step
        self._last_time = clock()

    def due(self, step):
        """True when a checkpoint is due at global step `step`."""
        return (step >= self.max_steps or self._crossed(step) or
                (step > self.last_step and self.time_due()))

    def time_due(self):
        """True when --save_checkpoint_secs have passed since the last save."""
        return bool(self.every_secs and
                    self._clock() - self._last_time >= self.every_secs)

    def next_step(self, step):
        """The first step after `step` at which a save falls due by steps."""
        return min(self.max_steps,
                   (step // self.every_steps + 1) * self.every_steps)

    def saved(self, step):
        """Records a save at `step` (also: the run went back to `step`)."""
        self.last_step = step
        self._last_time = self._clock()

    def _crossed(self, step):
        return step // self.every_steps > self.last_step // self.every_steps

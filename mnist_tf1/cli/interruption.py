"""Ctrl-C and SIGTERM as a request to stop training cleanly.

The training loop asks `stop.requested` after each step; when it is set the
loop saves a checkpoint at the current step and ends, and the program exits
with the shell's conventional status for the signal (128 + its number: 130
for SIGINT, 143 for SIGTERM). A second signal while stopping is not caught:
it ends the program at once, as the user then asks.
"""

import signal

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest(object):
    """Catches SIGINT and SIGTERM until restore() is called."""

    def __init__(self, signals=STOP_SIGNALS):
        self.signum = None
        self._previous = {}
        for signum in signals:
            self._previous[signum] = signal.signal(signum, self._handle)

    def _handle(self, signum, unused_frame):
        self.signum = signum
        # The next one takes the default action (end the program now).
        signal.signal(signum, signal.SIG_DFL)

    @property
    def requested(self):
        """True once a stop signal has arrived."""
        return self.signum is not None

    @property
    def name(self):
        """The signal's name, e.g. 'SIGINT'."""
        return signal.Signals(self.signum).name if self.requested else None

    @property
    def exit_status(self):
        """128 + the signal's number, or 0 when none arrived."""
        return 128 + self.signum if self.requested else 0

    def restore(self):
        """Puts back the handlers there were before."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

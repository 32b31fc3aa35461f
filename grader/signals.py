"""Stopping on a signal: SIGTERM and Ctrl-C end a batch between two saves."""
from __future__ import annotations

import signal
from contextlib import contextmanager


class Interrupted(BaseException):
    """The batch was told to stop (SIGTERM, Ctrl-C); like KeyboardInterrupt, no `except
    Exception` swallows it."""


class StopSignals:
    """SIGTERM and SIGINT stop a batch between two saves, never in the middle of one.

    Installed by the command line (only the main thread may set handlers); a signal that
    arrives while a student's results are being written is honoured right after."""

    def __init__(self):
        self.received = ""
        self.saving = False
        self._previous: dict = {}

    def install(self) -> "StopSignals":
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum, frame) -> None:
        first = not self.received
        self.received = self.received or signal.Signals(signum).name
        if first and not self.saving:  # a second signal while stopping changes nothing
            raise Interrupted(self.received)

    @contextmanager
    def save(self):
        self.saving = True
        try:
            yield
        finally:
            self.saving = False
        if self.received:
            raise Interrupted(self.received)

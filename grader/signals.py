"""Stopping on a signal: SIGTERM and Ctrl-C end a batch between two saves."""
from __future__ import annotations

import signal
from contextlib import contextmanager


class Interrupted(BaseException):
    """The batch was told to stop (SIGTERM, Ctrl-C); like KeyboardInterrupt, no `except
    Exception` swallows it."""


class StopSignals:
    """SIGTERM and SIGINT stop a batch between two saves, never in the middle of one.

    Installed by the command line (only the main thread may set handlers). Outside a
    ``deferred`` block a signal raises ``Interrupted`` at once (collecting the class, starting
    the workers); inside one it is only recorded, and the code inside polls ``received``:
    while the batch waits for its students, and while it saves one. A handler that raises
    wherever the main thread happens to be can leave a library's locks held: raised while
    ``concurrent.futures.wait`` was acquiring its futures' locks one by one, it left one held,
    every thread that finished a student then waited for it, and the batch hung for good
    after its workers were gone."""

    def __init__(self):
        self.received = ""
        self._deferred = 0
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
        if first and not self._deferred:  # a second signal while stopping changes nothing
            raise Interrupted(self.received)

    @contextmanager
    def deferred(self):
        """Inside, a signal is recorded, never raised: the code inside polls ``received``
        (or calls ``check``) where it is safe to stop."""
        self._deferred += 1
        try:
            yield
        finally:
            self._deferred -= 1

    def check(self) -> None:
        """Stop now (``Interrupted``) if a signal came."""
        if self.received:
            raise Interrupted(self.received)

    @contextmanager
    def save(self):
        """A save is never cut: a signal that comes during one is honoured right after."""
        with self.deferred():
            yield
        self.check()

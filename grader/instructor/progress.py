"""A progress bar for batches: students done, students per second, time left."""
from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, stream=None, width: int = 30):
        self.total, self.done, self.width = total, 0, width
        self.stream = stream or getattr(sys.stderr, "raw", sys.stderr)  # its own "\r"
        self.started = time.monotonic()
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_line_at = -1

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else float("inf")
        filled = int(self.width * self.done / self.total) if self.total else self.width
        eta = f"{left:4.0f} s left" if left != float("inf") else "   ? s left"
        return (f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} students"
                f" | {rate:5.2f} students/s | {eta}")

    def update(self, n: int = 1) -> None:
        self.done += n
        if self.tty:
            self.stream.write("\r" + self.line())
            self.stream.flush()
        else:  # a log: one line per tenth of the work
            tenth = self.done * 10 // max(self.total, 1)
            if tenth != self._last_line_at:
                self._last_line_at = tenth
                print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

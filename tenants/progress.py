"""A plain progress bar for long management commands (no dependency): redrawn in place on a
terminal, a line every 10% otherwise (logs, CI)."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    width = 30

    def __init__(self, total: int, label: str, stream=None) -> None:
        self.total = max(total, 0)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self.notes = ""
        self.started = time.perf_counter()
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_decile = -1

    def advance(self, n: int = 1, notes: str = "") -> None:
        self.done += n
        if notes:
            self.notes = notes
        self._draw()

    def _line(self) -> str:
        total = self.total or 1
        filled = int(self.width * self.done / total)
        elapsed = time.perf_counter() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        return (
            f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
            f"{self.done}/{self.total} {elapsed:6.1f}s eta {eta:5.1f}s {self.notes}"
        ).rstrip()

    def _draw(self) -> None:
        if self._tty:
            self.stream.write("\r" + self._line())
            if self.done >= self.total:
                self.stream.write("\n")
        else:
            decile = int(10 * self.done / (self.total or 1))
            if decile == self._last_decile and self.done < self.total:
                return
            self._last_decile = decile
            self.stream.write(self._line() + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._tty and self.done < self.total:
            self.stream.write("\n")
            self.stream.flush()

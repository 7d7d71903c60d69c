"""Progress for long commands: a live line on a terminal, quiet log lines otherwise.

Nothing here is drawn when the output is not a terminal (CI logs, pipes), where a log line at the end
of each step says the same.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from typing import TextIO


class ProgressLine:
    """One status line rewritten in place, at most ten times a second."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._enabled = self._stream.isatty() if enabled is None else enabled
        self._last_draw = 0.0
        self._width = 0

    @property
    def enabled(self) -> bool:
        return self._enabled

    def update(self, text: str, *, force: bool = False) -> None:
        """Show ``text`` as the current state (skipped if drawn less than 0.1 s ago, unless forced)."""
        if not self._enabled:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        padding = max(0, self._width - len(text))
        self._stream.write("\r" + text + " " * padding)
        self._stream.flush()
        self._width = len(text)

    def done(self, text: str | None = None) -> None:
        """End the line (with a final text), so the next output starts on a fresh line."""
        if not self._enabled:
            return
        if text is not None:
            self.update(text, force=True)
        if self._width:
            self._stream.write("\n")
            self._stream.flush()
        self._width = 0


def rate(count: int, seconds: float) -> str:
    """``1,234 rec/s`` for a count over a duration (``-`` when too short to say)."""
    if seconds <= 0:
        return "-"
    return f"{count / seconds:,.0f} rec/s"


def bar(done: int, total: int | None, width: int = 20) -> str:
    """``[#####.....]  50%`` when the total is known, else an empty string."""
    if not total:
        return ""
    fraction = min(1.0, done / total)
    filled = round(fraction * width)
    return f"[{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%}"


class ProgressBoard:
    """One live line per task (say, per source harvested at the same time), redrawn in place.

    Safe to update from several threads. On something that is not a terminal nothing is drawn."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._enabled = self._stream.isatty() if enabled is None else enabled
        self._lines: dict[str, str] = {}
        self._drawn = 0
        self._last_draw = 0.0
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._enabled

    def update(self, key: str, text: str, *, force: bool = False) -> None:
        """Set the line of ``key`` (added below the others the first time) and redraw, at most ten
        times a second unless forced."""
        if not self._enabled:
            return
        with self._lock:
            self._lines[key] = text
            now = time.monotonic()
            if force or now - self._last_draw >= 0.1:
                self._last_draw = now
                self._draw()

    def _draw(self) -> None:
        width = max(20, shutil.get_terminal_size((100, 20)).columns - 1)
        out = [f"\x1b[{self._drawn}F"] if self._drawn else []
        for text in self._lines.values():
            out.append("\x1b[2K" + text[:width] + "\n")
        self._stream.write("".join(out))
        self._stream.flush()
        self._drawn = len(self._lines)

    def done(self) -> None:
        """Draw the final state; later output starts below it."""
        if not self._enabled:
            return
        with self._lock:
            if self._lines:
                self._draw()
            self._lines.clear()
            self._drawn = 0

"""Live progress on a terminal without any dependency: one line redrawn with ``\\r``.

``LiveLine`` draws (throttled) and clears a status line on a text stream that is a
terminal; ``DownloadProgress`` renders bytes, rate, ETA and a bar for ``-o``. The
formatting helpers are pure. Nothing here reads the network or decides whether to draw:
callers make a ``LiveLine`` only when stderr is a terminal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["DownloadProgress", "LiveLine", "format_bytes", "format_duration", "format_rate"]

CLEAR_LINE = "\r\x1b[K"
_UNITS = ("B", "kB", "MB", "GB", "TB")


def format_bytes(count: float) -> str:
    """``1234567`` -> ``"1.2 MB"`` (decimal units, like download managers)."""
    value = float(count)
    for unit in _UNITS:
        if value < 1000 or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def format_rate(bytes_per_second: float) -> str:
    return format_bytes(bytes_per_second) + "/s"


def format_duration(seconds: float) -> str:
    """``75`` -> ``"1:15"``, ``3700`` -> ``"1:01:40"``."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class LiveLine:
    """A single status line on a terminal, redrawn at most every ``interval`` seconds."""

    def __init__(
        self,
        stream: TextIO,
        width: int = 80,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.width = max(20, width)
        self.interval = interval
        self.clock = clock
        self._last_draw = -interval
        self.drawn = False

    def draw(self, text: str, force: bool = False) -> None:
        now = self.clock()
        if not force and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        # One column short of the width: writing the last column wraps on some terminals.
        self.stream.write(CLEAR_LINE + text[: self.width - 1])
        self.stream.flush()
        self.drawn = True

    def clear(self) -> None:
        if self.drawn:
            self.stream.write(CLEAR_LINE)
            self.stream.flush()
            self.drawn = False


class DownloadProgress:
    """Bytes received against an optional total, rendered as a line for ``LiveLine``."""

    def __init__(self, total: int | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.received = 0
        self.clock = clock
        self.started = clock()

    def add(self, count: int) -> None:
        self.received += count

    def elapsed(self) -> float:
        return self.clock() - self.started

    def rate(self) -> float:
        elapsed = self.elapsed()
        return self.received / elapsed if elapsed > 0 else 0.0

    def render(self, width: int) -> str:
        rate = self.rate()
        if self.total is None or self.total <= 0:
            return f"{format_bytes(self.received)}  {format_rate(rate)}  " + format_duration(
                self.elapsed()
            )
        fraction = min(1.0, self.received / self.total)
        if self.received >= self.total:
            eta = "done"
        elif rate > 0:
            eta = "ETA " + format_duration((self.total - self.received) / rate)
        else:
            eta = "ETA --:--"
        tail = (
            f" {format_bytes(self.received)}/{format_bytes(self.total)}"
            f"  {format_rate(rate)}  {eta}"
        )
        head = f"{fraction * 100:3.0f}% "
        bar_width = width - 1 - len(head) - len(tail) - 2
        if bar_width < 5:
            return (head + tail.lstrip())[: width - 1]
        filled = int(bar_width * fraction)
        return head + "[" + "#" * filled + " " * (bar_width - filled) + "]" + tail

    def summary(self) -> str:
        return (
            f"{format_bytes(self.received)} in {self.elapsed():.2f} s "
            f"({format_rate(self.rate())})"
        )

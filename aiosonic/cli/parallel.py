"""Parallel mode: fetch every URL of a list with N requests in flight, then summarise.

``N`` workers pull URLs from one shared iterator (so at most N requests are in flight and
no task is made per URL), read each body to its end, and record the status or the error
class and the latency. A ``LiveLine`` shows done/total and req/s when stderr is a terminal.
``Stats`` and ``percentile`` are pure; the summary is plain text for stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aiosonic.exceptions import AiosonicError

from .console import Console
from .exits import ExitCode, exit_for_status
from .items import ItemError, expand_url
from .progress import LiveLine, format_bytes
from .session import Session

__all__ = ["Stats", "percentile", "read_urls", "run_parallel"]


def read_urls(path: str) -> list[str]:
    """The URLs listed in ``path``: one per line; blank lines and ``#`` comments skipped."""
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ItemError(f"cannot read the URL list {path!r}: {exc}") from None
    urls = [
        expand_url(line.strip())
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not urls:
        raise ItemError(f"no URLs in {path!r}")
    return urls


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values (``pct`` in (0, 100])."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class Stats:
    """What happened to the requests of one parallel run."""

    total: int
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    received: int = 0
    elapsed: float = 0.0

    @property
    def done(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())

    def rate(self, elapsed: float) -> float:
        return self.done / elapsed if elapsed > 0 else 0.0

    def live_text(self, elapsed: float) -> str:
        failed = sum(self.errors.values())
        return (
            f"{self.done}/{self.total} done  {self.rate(elapsed):.1f} req/s  "
            f"{failed} errors  {elapsed:.1f} s"
        )

    def summary(self, concurrency: int) -> str:
        failed = sum(self.errors.values())
        lines = [
            f"Requests:  {self.done} of {self.total} in {self.elapsed:.3f} s "
            f"({self.rate(self.elapsed):.1f} req/s, {concurrency} at once)",
            "Status:    "
            + ("  ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items())) or "none"),
            "Errors:    "
            + ("  ".join(f"{name}: {n}" for name, n in sorted(self.errors.items())) or "none")
            + (f" ({failed} failed)" if failed else ""),
        ]
        if self.latencies:
            ordered = sorted(self.latencies)
            marks = "  ".join(
                f"p{pct} {percentile(ordered, pct) * 1000:.1f} ms" for pct in (50, 90, 99)
            )
            lines.append(f"Latency:   {marks}  max {ordered[-1] * 1000:.1f} ms")
        else:
            lines.append("Latency:   n/a")
        lines.append(f"Received:  {format_bytes(self.received)}")
        return "\n".join(lines) + "\n"

    def exit_code(self, check_status: bool) -> ExitCode:
        if self.errors:
            return ExitCode.ERROR
        if not check_status:
            return ExitCode.OK
        return max((exit_for_status(code) for code in self.statuses), default=ExitCode.OK)


async def _worker(session: Session, urls: Iterator[str], stats: Stats) -> None:
    for url in urls:
        started = time.perf_counter()
        try:
            response = await session.send(url)
            async for chunk in response.read_chunks():
                stats.received += len(chunk)
        except (AiosonicError, OSError) as exc:
            stats.errors[type(exc).__name__] += 1
            continue
        stats.latencies.append(time.perf_counter() - started)
        stats.statuses[response.status_code] += 1


async def _ticker(live: LiveLine, stats: Stats, started: float) -> None:
    while True:
        live.draw(stats.live_text(time.perf_counter() - started), force=True)
        await asyncio.sleep(live.interval)


async def run_parallel(session: Session, urls: list[str], console: Console) -> ExitCode:
    options = session.options
    concurrency = min(options.parallel or 1, len(urls))
    stats = Stats(total=len(urls))
    started = time.perf_counter()
    shared = iter(urls)
    live = LiveLine(console.err, console.err_width()) if console.err_is_tty else None
    ticker = asyncio.ensure_future(_ticker(live, stats, started)) if live is not None else None
    try:
        await asyncio.gather(*(_worker(session, shared, stats) for _ in range(concurrency)))
    finally:
        stats.elapsed = time.perf_counter() - started
        if ticker is not None:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
        if live is not None:
            live.draw(stats.live_text(stats.elapsed), force=True)
            console.err.write("\n")
            console.err.flush()
    console.out.write(stats.summary(concurrency).encode("utf-8"))
    console.out.flush()
    return stats.exit_code(options.check_status)

"""Soak test: many requests through one aiosonic client, watching memory and descriptors.

    python -m soak.soak --requests 1000000 --concurrency 64

It starts a local server itself (nginx through ``bench.server`` when nginx is installed, else
the embedded asyncio server; ``--no-nginx`` forces the latter), sends ``--requests`` GETs from
``--concurrency`` workers sharing one ``HTTPClient``, checks every status and body, and
reports requests/s, RSS (``VmRSS`` sampled every ``--sample-seconds``, peak ``VmHWM``), open
file descriptors before and after, and errors by type.

The exit status is non-zero if any request failed, if RSS grew by more than ``--max-growth-mb``
between the 10 % mark and the end, or if descriptors were left open once the client closed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import aiosonic  # noqa: E402
from bench import server as bench_server  # noqa: E402


def proc_status_kb(key: str) -> int:
    """A ``kB`` field of /proc/self/status (``VmRSS``, ``VmHWM``); 0 where unavailable."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@dataclass
class Stats:
    total: int
    done: int = 0
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    first_errors: list[str] = field(default_factory=list)
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # (t, done, rss kB)
    rss_at_10: int | None = None


async def worker(
    client: aiosonic.HTTPClient, url: str, body_size: int, stats: Stats, counter: list[int]
) -> None:
    while counter[0] < stats.total:
        counter[0] += 1
        try:
            response = await client.get(url)
            body = await response.content()
            if response.status_code != 200 or len(body) != body_size:
                raise AssertionError(f"status {response.status_code}, {len(body)} body bytes")
        except Exception as exc:
            name = type(exc).__name__
            stats.errors[name] += 1
            if len(stats.first_errors) < 5:
                stats.first_errors.append(f"{name}: {exc}")
        else:
            stats.ok += 1
        stats.done += 1
        if stats.rss_at_10 is None and stats.done * 10 >= stats.total:
            stats.rss_at_10 = proc_status_kb("VmRSS")


async def sampler(stats: Stats, every: float, start: float) -> None:
    while True:
        await asyncio.sleep(every)
        rss = proc_status_kb("VmRSS")
        elapsed = time.monotonic() - start
        stats.samples.append((elapsed, stats.done, rss))
        rate = stats.done / elapsed if elapsed else 0.0
        print(
            f"  {elapsed:7.1f}s  {stats.done:>9}/{stats.total} requests  "
            f"{rate:9.0f} req/s  RSS {rss / 1024:7.1f} MB  errors {sum(stats.errors.values())}",
            flush=True,
        )


async def soak(args: argparse.Namespace, url: str) -> tuple[Stats, float, int, int]:
    stats = Stats(total=args.requests)
    gc.collect()
    fds_before = open_fds()
    connector = aiosonic.TCPConnector(pool_size=args.concurrency)
    client = aiosonic.HTTPClient(connector=connector)
    start = time.monotonic()
    watch = asyncio.create_task(sampler(stats, args.sample_seconds, start))
    counter = [0]
    try:
        await asyncio.gather(
            *(worker(client, url, args.body_size, stats, counter) for _ in range(args.concurrency))
        )
    finally:
        elapsed = time.monotonic() - start
        watch.cancel()
        await asyncio.gather(watch, return_exceptions=True)
        await client.close()
    # Let closed transports finish their callbacks before counting descriptors.
    for _ in range(5):
        await asyncio.sleep(0.05)
    gc.collect()
    fds_after = open_fds()
    return stats, elapsed, fds_before, fds_after


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--body-size", type=int, default=1024)
    parser.add_argument("--sample-seconds", type=float, default=5.0)
    parser.add_argument("--max-growth-mb", type=float, default=32.0)
    parser.add_argument("--no-nginx", action="store_true", help="use the embedded server")
    parser.add_argument("--uvloop", action="store_true", help="run the client on uvloop")
    parser.add_argument("--cpu", type=int, default=None, help="pin the server to this CPU")
    args = parser.parse_args()
    if args.requests < 1 or args.concurrency < 1:
        parser.error("--requests and --concurrency must be positive")

    server = bench_server.start(args.body_size, args.cpu, use_nginx=not args.no_nginx)
    try:
        print(f"server: {server.description} at {server.url}", flush=True)
        print(
            f"soak: {args.requests} GET requests, concurrency {args.concurrency}, "
            f"{args.body_size}-byte body, loop {'uvloop' if args.uvloop else 'asyncio'}",
            flush=True,
        )
        served_before = server.served_requests()
        if args.uvloop:
            import uvloop

            stats, elapsed, fds_before, fds_after = uvloop.run(soak(args, server.url))
        else:
            stats, elapsed, fds_before, fds_after = asyncio.run(soak(args, server.url))
        served_after = server.served_requests()
    finally:
        server.stop()

    rss_end = proc_status_kb("VmRSS")
    peak = proc_status_kb("VmHWM")
    rss_10 = stats.rss_at_10 if stats.rss_at_10 is not None else rss_end
    growth_mb = (rss_end - rss_10) / 1024
    failures = []
    print("result:")
    print(f"  requests       {stats.done} ({stats.ok} ok) in {elapsed:.1f} s")
    print(f"  throughput     {stats.done / elapsed:.0f} requests/s")
    if served_before is not None and served_after is not None:
        served = served_after - served_before - 1  # minus the second status request
        print(f"  server served  {served} requests")
        if served < stats.ok:
            failures.append(f"server counted {served} requests, client {stats.ok} successes")
    print(f"  RSS at 10 %    {rss_10 / 1024:.1f} MB")
    print(f"  RSS at end     {rss_end / 1024:.1f} MB (growth {growth_mb:+.1f} MB)")
    print(f"  peak RSS       {peak / 1024:.1f} MB (VmHWM)")
    if stats.samples:
        low = min(rss for _, _, rss in stats.samples) / 1024
        high = max(rss for _, _, rss in stats.samples) / 1024
        print(f"  sampled RSS    {low:.1f} .. {high:.1f} MB over {len(stats.samples)} samples")
    print(f"  open fds       {fds_before} before, {fds_after} after")
    errors = sum(stats.errors.values())
    print(f"  errors         {errors} {dict(stats.errors) if errors else ''}".rstrip())
    for line in stats.first_errors:
        print(f"    {line}")

    if errors:
        failures.append(f"{errors} request(s) failed")
    if stats.done != args.requests:
        failures.append(f"only {stats.done} of {args.requests} requests ran")
    if growth_mb > args.max_growth_mb:
        failures.append(
            f"RSS grew {growth_mb:.1f} MB after the 10 % mark (bound {args.max_growth_mb} MB)"
        )
    if fds_after > fds_before:
        failures.append(f"{fds_after - fds_before} file descriptor(s) leaked")
    if failures:
        print("FAIL: " + "; ".join(failures))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())

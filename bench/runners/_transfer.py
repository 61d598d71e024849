"""Shared loop for the bulk-transfer scenarios (``download``, ``upload``), stdlib only.

A runner script enters here instead of ``_harness.main`` when its command line has
``--mode``. Modes:

- ``download``: GET ``--url`` (a static file of ``--size`` bytes) ``--repeat`` times in a
  row on one keep-alive connection, streaming the body and counting its bytes (nothing is
  kept). One 16 MiB download of ``--warm-url`` comes first, untimed.
- ``upload-bytes``: POST a prebuilt ``bytes`` body of ``--size`` bytes ``--repeat`` times.
- ``upload-iter``: POST the same amount from an async generator of ``--chunk``-byte pieces
  (the client picks the framing; all of them send it chunked).

Every response is verified: a download must be a 200 with exactly ``--size`` body bytes, an
upload a 204 whose ``X-Received-Bytes`` (set by the upload server after reading the whole
body) equals ``--size``. A failed transfer is an error, not a crash.

Memory: after the warm-up, the resident set (``VmRSS``) is read and the peak (``VmHWM``) is
reset to it through ``/proc/self/clear_refs`` where the kernel allows; after the timed
transfers ``VmHWM`` is read again. Their difference is the client's peak RSS growth.

The result is one JSON line: ``{"client": ..., "value": MiB/s, "rss_before_kib": ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import _harness

#: GET a URL, stream the body: (status, body bytes counted).
Download = Callable[[str], Awaitable[tuple[int, int]]]
#: POST a body (bytes or async iterator): (status, value of X-Received-Bytes or None).
Upload = Callable[[str, Any], Awaitable[tuple[int, str | None]]]

MODES = ("download", "upload-bytes", "upload-iter")
MIB = 1024 * 1024
#: Longest one transfer may take before it counts as hung (an error, not a stuck run).
TRANSFER_TIMEOUT = 30.0


@dataclass(frozen=True)
class TransferOptions:
    name: str
    mode: str
    url: str
    warm_url: str | None
    warm_size: int
    size: int
    repeat: int
    chunk: int
    uvloop: bool
    prime_malloc: bool


@dataclass
class TransferClient:
    download: Download
    upload: Upload | None
    close: _harness.Close


Factory = Callable[[TransferOptions], Awaitable[TransferClient]]


def wanted(argv: list[str] | None = None) -> bool:
    """Whether this runner was started for a transfer scenario."""
    return "--mode" in (sys.argv[1:] if argv is None else argv)


def parse_options() -> TransferOptions:
    parser = argparse.ArgumentParser(description="Run one bulk-transfer client, print JSON.")
    parser.add_argument("--name", required=True)
    parser.add_argument("--mode", choices=MODES, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--warm-url", help="download: untimed warm-up GET first")
    parser.add_argument("--warm-size", type=int, default=0, help="body bytes of --warm-url")
    parser.add_argument("--size", type=int, required=True, help="body bytes per transfer")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=64 * 1024, help="upload-iter piece size")
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--prime-malloc", action="store_true")
    ns = parser.parse_args()
    return TransferOptions(
        name=ns.name,
        mode=ns.mode,
        url=ns.url,
        warm_url=ns.warm_url,
        warm_size=ns.warm_size,
        size=ns.size,
        repeat=max(ns.repeat, 1),
        chunk=max(ns.chunk, 1),
        uvloop=ns.uvloop,
        prime_malloc=ns.prime_malloc,
    )


def _status_kib(field: str) -> int | None:
    """A ``kB`` line of /proc/self/status (None where there is no procfs)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False when not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def _payload(size: int) -> bytes:
    """``size`` bytes, written (``bytes(size)`` would be untouched calloc pages, which only
    become resident while a client reads them and so would count as the client's growth)."""
    return b"u" * size


async def _pieces(size: int, chunk: int) -> AsyncIterator[bytes]:
    block = _payload(chunk)
    full, rest = divmod(size, chunk)
    for _ in range(full):
        yield block
    if rest:
        yield block[:rest]


@dataclass
class _Counts:
    ok: int = 0
    errors: int = 0
    first_error: str | None = None

    def error(self, message: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = message


async def _one(client: TransferClient, opts: TransferOptions, payload: bytes | None) -> str:
    """One transfer; the empty string when it verified, else what was wrong."""
    if opts.mode == "download":
        status, got = await asyncio.wait_for(client.download(opts.url), TRANSFER_TIMEOUT)
        if status != 200 or got != opts.size:
            return f"bad download: status {status}, {got} of {opts.size} bytes"
        return ""
    if client.upload is None:
        raise RuntimeError(f"{opts.name} has no upload support in this benchmark")
    data: Any = payload if opts.mode == "upload-bytes" else _pieces(opts.size, opts.chunk)
    status, received = await asyncio.wait_for(client.upload(opts.url, data), TRANSFER_TIMEOUT)
    if status != 204 or received != str(opts.size):
        return f"bad upload: status {status}, server read {received} of {opts.size} bytes"
    return ""


async def measure(factory: Factory, opts: TransferOptions) -> dict[str, Any]:
    payload = _payload(opts.size) if opts.mode == "upload-bytes" else None
    client = await factory(opts)
    counts = _Counts()
    try:
        if opts.mode == "download" and opts.warm_url:
            status, got = await asyncio.wait_for(
                client.download(opts.warm_url), TRANSFER_TIMEOUT
            )
            if status != 200 or got != opts.warm_size:
                raise RuntimeError(f"warm-up download: status {status}, {got} bytes")
        elif opts.mode != "download":
            warm = TransferOptions(**{**opts.__dict__, "size": MIB, "repeat": 1})
            problem = await _one(client, warm, _payload(MIB))
            if problem:
                raise RuntimeError(f"warm-up upload: {problem}")
        rss_before = _status_kib("VmRSS")
        peak_reset = _reset_peak()
        started = time.perf_counter()
        for _ in range(opts.repeat):
            try:
                problem = await _one(client, opts, payload)
            except Exception as exc:
                if counts.first_error is None:
                    traceback.print_exc()
                problem = f"{type(exc).__name__}: {exc}"
            if problem:
                counts.error(problem)
            else:
                counts.ok += 1
        elapsed = time.perf_counter() - started
        hwm = _status_kib("VmHWM")
    finally:
        try:
            await client.close()
        except Exception as exc:
            print(f"warning: closing the client failed: {exc!r}", file=sys.stderr)
    mib_s = counts.ok * opts.size / MIB / elapsed if elapsed > 0 else 0.0
    growth = hwm - rss_before if hwm is not None and rss_before is not None else None
    return {
        "value": round(mib_s, 1),
        "ok": counts.ok,
        "errors": counts.errors,
        "first_error": counts.first_error,
        "elapsed": round(elapsed, 4),
        "rss_before_kib": rss_before,
        "hwm_kib": hwm,
        "growth_kib": growth,
        "peak_reset": peak_reset,
    }


def main(factory: Factory, library: Callable[[], dict[str, Any]]) -> None:
    opts = parse_options()
    if opts.prime_malloc:
        _harness.prime_allocator()
    loop_used = "?"

    async def run() -> dict[str, Any]:
        nonlocal loop_used
        loop_used = _harness._loop_kind()
        return await measure(factory, opts)

    try:
        result: dict[str, Any] = _harness.run_on_loop(run, opts.uvloop)
    except Exception:
        traceback.print_exc()
        sys.exit(1)
    result.update(
        client=opts.name,
        mode=opts.mode,
        loop=loop_used,
        python=platform.python_version(),
        library=library(),
    )
    print(json.dumps(result), flush=True)


def run(
    measure: _harness.Measure,
    factory: Factory,
    library: Callable[[], dict[str, Any]],
    *,
    exit_hard: bool = False,
) -> None:
    """A runner's entry point: a transfer run when its arguments ask for one, else the
    request-rate run of ``measure``; ``exit_hard`` ends the process without finalizing
    once the result is out (``_harness.exit_without_finalizing``)."""
    if wanted():
        main(factory, library)
    else:
        _harness.main(measure, library)
    if exit_hard:
        _harness.exit_without_finalizing()

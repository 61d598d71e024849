"""Shared measurement loop for the client runner scripts (stdlib only).

Every runner in this folder is a standalone script: the parent (``python -m bench``) starts
it as ``<python> bench/runners/<runner>.py --name ... --url ...`` with whichever interpreter
has the library under test; the upstream aiosonic runner runs inside its own virtual
environment, so nothing here may import anything outside the standard library.

This module owns the runner command line, the event-loop choice (asyncio or uvloop), the
warm-up and timed phases for request/response style clients, response verification and the
single JSON line each runner prints on stdout::

    {"client": "aiohttp", "rps": 12345.6, "errors": 0, "ok": 37037, "protocol": "1.1", ...}

For the ``realistic`` scenario the parent passes ``--workload`` (the request mix and the
answers, as JSON; read by ``_realistic.py``) instead of ``--expect-len``: the runner's fetch
then checks each answer's body itself and raises ``BadResponse`` for a wrong one, which counts
as a bad response like a wrong length does.

For the HTTP/2 scenario the parent adds ``--http2`` (offer HTTP/2; given only to clients that
can speak it), ``--cafile`` (the CA of the server's certificate, for an https URL) and
``--expect-version`` (the HTTP version every response must have: ``1.1`` or ``2``). A response
in any other version is a bad response, and ``protocol`` in the result is the version of the
first response, which the parent checks too.

Diagnostics go to stderr; a runner that cannot produce a result exits non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import ssl
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

#: One request: returns (HTTP status, number of body bytes read, HTTP version: "1.1" or "2").
Fetch = Callable[[], Awaitable[tuple[int, int, str]]]
#: Releases the client (closes its connections).
Close = Callable[[], Awaitable[Any]]
#: Builds a client inside the running loop and returns its fetch and close functions.
ClientFactory = Callable[["Options"], Awaitable[tuple[Fetch, Close]]]


@dataclass(frozen=True)
class Options:
    """What the parent asked this runner to do."""

    name: str
    url: str
    concurrency: int
    duration: float
    warmup: float
    #: The body length of every response (None: the fetch checks bodies itself).
    expect_len: int | None
    uvloop: bool
    prime_malloc: bool
    http2: bool = False
    cafile: str | None = None
    expect_version: str | None = None
    #: Open a new TCP (and TLS) connection for every request (the ``newconn`` scenario).
    new_conn: bool = False
    #: The realistic scenario's work, as the parent's JSON (see ``_realistic.py``).
    workload: str | None = None

    def tls_context(self) -> ssl.SSLContext | None:
        """A verifying client context trusting ``cafile`` (None: no CA given)."""
        if self.cafile is None:
            return None
        return ssl.create_default_context(cafile=self.cafile)


class BadResponse(Exception):
    """A response that arrived but is not the expected one: counted as a bad response."""


@dataclass
class Outcome:
    """Counts from one timed phase."""

    ok: int = 0
    errors: int = 0
    elapsed: float = 0.0
    first_error: str | None = None
    warmup_ok: int = 0  # valid responses during the warm-up, for the server-side cross-check
    protocol: str | None = None  # HTTP version of the first response

    def error(self, message: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = message


Measure = Callable[[Options], Coroutine[Any, Any, Outcome]]

#: How long in-flight requests may take to finish after a phase's time is up.
HANG_GRACE = 10.0


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description="Run one benchmark client and print JSON.")
    parser.add_argument("--name", required=True, help="client label echoed in the result")
    parser.add_argument("--url", required=True)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=3.0, help="timed phase, seconds")
    parser.add_argument("--warmup", type=float, default=0.5, help="warm-up phase, seconds")
    parser.add_argument("--expect-len", type=int, help="expected body length")
    parser.add_argument("--workload", help="the realistic scenario's requests and answers (JSON)")
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop")
    parser.add_argument(
        "--prime-malloc", action="store_true", help="see prime_allocator(); done before measuring"
    )
    parser.add_argument("--http2", action="store_true", help="offer HTTP/2 (https: ALPN)")
    parser.add_argument("--cafile", help="trust this CA (PEM) for an https URL")
    parser.add_argument(
        "--expect-version", choices=("1.1", "2"), help="HTTP version every response must have"
    )
    parser.add_argument(
        "--new-conn", action="store_true", help="a new connection for every request"
    )
    ns = parser.parse_args(argv)
    if (ns.expect_len is None) == (ns.workload is None):
        parser.error("give exactly one of --expect-len and --workload")
    return Options(
        name=ns.name,
        url=ns.url,
        concurrency=ns.concurrency,
        duration=ns.duration,
        warmup=ns.warmup,
        expect_len=ns.expect_len,
        uvloop=ns.uvloop,
        prime_malloc=ns.prime_malloc,
        http2=ns.http2,
        cafile=ns.cafile,
        expect_version=ns.expect_version,
        new_conn=ns.new_conn,
        workload=ns.workload,
    )


def prime_allocator() -> None:
    """Put glibc malloc in the state a long-running process is in, identically for all runners.

    asyncio's selector transports read into a fresh 256 KiB ``bytes`` on every ``recv`` and
    shrink it afterwards. In a young glibc process an allocation that size is served by
    ``mmap`` unless the heap happens to hold a large enough free chunk, so every read then also
    costs ``mmap`` + ``mremap`` + ``munmap`` and a page fault; on a VM that can cost more than
    the whole HTTP exchange. Whether a process is hit depends on incidental import-time heap
    layout, not on the client under test, which makes results flip between runs of otherwise
    identical code. Freeing one 1 MiB block raises glibc's dynamic mmap threshold (to 1 MiB)
    and trim threshold (to 2 MiB) for the rest of the process, so those reads come from the
    heap in every runner alike. Harmless elsewhere (other allocators, uvloop).
    """
    block = bytes(1 << 20)
    del block


def _loop_kind() -> str:
    module = type(asyncio.get_running_loop()).__module__
    return "uvloop" if module.startswith("uvloop") else "asyncio"


def run_on_loop(main: Callable[[], Coroutine[Any, Any, Any]], use_uvloop: bool) -> Any:
    """Run ``main()`` on a fresh asyncio or uvloop event loop."""
    if not use_uvloop:
        return asyncio.run(main())
    import uvloop

    if sys.version_info >= (3, 11):
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(main())
    uvloop.install()
    return asyncio.run(main())


def _describe(exc: BaseException) -> str:
    """``Type: message (at file:line)``, the location being where it was raised."""
    text = f"{type(exc).__name__}: {exc}".rstrip(": ")
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        text += f" (at {frames[-1].filename}:{frames[-1].lineno})"
    return text


async def drive(
    fetch: Fetch,
    concurrency: int,
    seconds: float,
    expect_len: int | None,
    expect_version: str | None = None,
) -> Outcome:
    """Run ``concurrency`` workers looping ``fetch`` for ``seconds``; verify every response
    (status 200, ``expect_len`` body bytes unless None and, when given, HTTP version
    ``expect_version``). A ``BadResponse`` raised by ``fetch`` is a bad response.

    Workers stop starting new requests once the time is up; requests already in flight are
    finished and counted, and the elapsed time runs until the last worker returns.
    """
    outcome = Outcome()
    running = True

    def stop() -> None:
        nonlocal running
        running = False

    async def worker() -> None:
        while running:
            try:
                status, size, version = await fetch()
            except BadResponse as exc:
                outcome.error(f"bad response: {exc}")
                continue
            except Exception as exc:
                if outcome.first_error is None:
                    traceback.print_exc()  # the first failure's full story goes to stderr
                outcome.error(_describe(exc))
                await asyncio.sleep(0.001)  # do not spin on a dead server
                continue
            if outcome.protocol is None:
                outcome.protocol = version
            length_ok = expect_len is None or size == expect_len
            if status == 200 and length_ok and expect_version in (None, version):
                outcome.ok += 1
            else:
                outcome.error(f"bad response: HTTP/{version} {status}, {size} body bytes")

    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    timer = loop.call_later(seconds, stop)
    tasks = [asyncio.ensure_future(worker()) for _ in range(concurrency)]
    try:
        # A client that stops answering must not hang the run forever.
        _, pending = await asyncio.wait(tasks, timeout=seconds + HANG_GRACE)
    finally:
        timer.cancel()
    outcome.elapsed = time.perf_counter() - started
    if pending:
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=1.0)
        raise RuntimeError(
            f"hung: {len(pending)} of {concurrency} workers still waiting {HANG_GRACE:g} s after "
            f"the phase ended ({outcome.ok} ok, {outcome.errors} errors, "
            f"first error: {outcome.first_error})"
        )
    for task in tasks:
        task.result()  # re-raise anything unexpected
    return outcome


def fetch_measure(factory: ClientFactory) -> Measure:
    """Build a measure function for a client with a per-request ``fetch``."""

    async def measure(opts: Options) -> Outcome:
        fetch, close = await factory(opts)
        try:
            warm_ok = 0
            first_protocol = None
            if opts.warmup > 0:
                warm = await drive(
                    fetch, opts.concurrency, opts.warmup, opts.expect_len, opts.expect_version
                )
                warm_ok, first_protocol = warm.ok, warm.protocol
            outcome = await drive(
                fetch, opts.concurrency, opts.duration, opts.expect_len, opts.expect_version
            )
            outcome.warmup_ok = warm_ok
            outcome.protocol = first_protocol or outcome.protocol
            return outcome
        finally:
            try:
                await asyncio.wait_for(close(), 5.0)
            except Exception as exc:  # report, but do not hide the measurement's own error
                print(f"warning: closing the client failed: {exc!r}", file=sys.stderr)

    return measure


def exit_without_finalizing() -> None:
    """End this process at once, with status 0, after its result line has been printed.

    For the Rust-backed clients only: their tokio threads outlive the event loop, and while
    the interpreter finalizes they can crash it (rnet 2.4: SIGSEGV with no Python frame in
    about one exit in five; pyreqwest 0.15: "PyGILState_Release: thread state ... must be
    current", SIGABRT), which would turn a run that measured and printed a valid result into
    a failed one. A run that failed has already left through ``sys.exit(1)``, so it is never
    reached then; nothing is measured after the result line, so skipping finalization hides
    nothing about the client's speed.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def main(measure: Measure, library: Callable[[], dict[str, Any]]) -> None:
    """Entry point of a runner script: measure, then print the JSON result line."""
    opts = parse_options()
    if opts.prime_malloc:
        prime_allocator()
    loop_used = "?"

    async def run() -> Outcome:
        nonlocal loop_used
        loop_used = _loop_kind()
        return await measure(opts)

    try:
        outcome: Outcome = run_on_loop(run, opts.uvloop)
    except Exception:
        traceback.print_exc()
        sys.exit(1)
    rps = outcome.ok / outcome.elapsed if outcome.elapsed > 0 else 0.0
    result: dict[str, Any] = {
        "client": opts.name,
        "rps": round(rps, 1),
        "errors": outcome.errors,
        "ok": outcome.ok,
        "warmup_ok": outcome.warmup_ok,
        "elapsed": round(outcome.elapsed, 4),
        "first_error": outcome.first_error,
        "protocol": outcome.protocol,
        "loop": loop_used,
        "malloc_primed": opts.prime_malloc,
        "python": platform.python_version(),
        "library": library(),
    }
    print(json.dumps(result), flush=True)

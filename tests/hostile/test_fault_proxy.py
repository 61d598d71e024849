"""Thousands of GETs through a proxy that cuts a random share of its connections.

Every request either returns the byte-exact body or raises an ``AiosonicError``: never
another exception, never a truncated body, never a hang.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections import Counter

from support.app import payload
from support.faults import FaultProxy

import aiosonic
from aiosonic.exceptions import AiosonicError
from aiosonic.timeout import Timeouts

REQUESTS = 10_000
CONCURRENCY = 32
FAULT_RATE = 0.01  # share of proxied connections that get cut
CONN_MAX_REQUESTS = 3  # short-lived connections: many of them, so many get cut
SIZES = (0, 1, 700, 4_096, 16_000, 40_000)
CHECKSUMS = {size: hashlib.sha256(payload(size)).hexdigest() for size in SIZES}
HANG_BOUND = 15.0


async def test_fault_proxy_never_returns_a_wrong_body(server, make_client):
    proxy = await FaultProxy(server.port, FAULT_RATE, seed=4242).start()
    rng = random.Random(99)
    client, connector = make_client(
        pool_size=CONCURRENCY,
        conn_max_requests=CONN_MAX_REQUESTS,
        timeouts=Timeouts(sock_connect=5, sock_read=5, request_timeout=10),
    )
    ok = 0
    failures: Counter[str] = Counter()
    wrong: list[str] = []
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(size: int) -> None:
        nonlocal ok
        async with gate:
            try:
                response = await asyncio.wait_for(
                    _fetch(client, proxy.url(f"/bytes/{size}")), HANG_BOUND
                )
            except AiosonicError as exc:
                failures[type(exc).__name__] += 1
                return
            except asyncio.TimeoutError:
                wrong.append(f"hang: GET /bytes/{size} took over {HANG_BOUND} s")
                return
            except Exception as exc:
                wrong.append(f"GET /bytes/{size} raised {exc!r}, not an AiosonicError")
                return
        status, body = response
        if status != 200 or hashlib.sha256(body).hexdigest() != CHECKSUMS[size]:
            wrong.append(f"GET /bytes/{size}: status {status}, {len(body)} bytes, bad checksum")
        else:
            ok += 1

    try:
        sizes = [rng.choice(SIZES) for _ in range(REQUESTS)]
        await asyncio.gather(*(one(size) for size in sizes))
        stats = proxy.stats
        failed = sum(failures.values())
        print(
            f"\nfault proxy: {REQUESTS} requests, {ok} ok, {failed} failed {dict(failures)}; "
            f"{stats.connections} connections, {stats.faulty} faulty, cuts {dict(stats.cuts)}; "
            f"absorbed (cut but succeeded, retried or harmless) ~{stats.total_cuts - failed}"
        )
        assert not wrong, f"{len(wrong)} bad outcomes, first: {wrong[0]}"
        assert ok + failed == REQUESTS
        assert stats.total_cuts > 0, "the proxy never cut a connection: nothing was tested"
        # A cut hits at most the one request in flight on its connection.
        assert failed <= stats.total_cuts, (failed, stats.total_cuts)
        assert failed <= REQUESTS * 0.05

        # The client still works, and every slot came back.
        assert await connector.pool.wait_all_free(2)
        direct = await client.get(server.url("/bytes/40000"))
        assert await direct.content() == payload(40_000)
        assert connector.pool.is_all_free()
    finally:
        await client.close()
        await proxy.close()


async def _fetch(client: aiosonic.HTTPClient, url: str) -> tuple[int, bytes]:
    response = await client.get(url)
    return response.status_code, await response.content()

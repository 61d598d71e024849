"""The ``realistic`` scenario as a runner script sees it (stdlib only).

The parent (``bench/realistic.py``) hands every runner the same work as one JSON argument,
``--workload``: the URL, the query parameters, the request headers, the JSON payload of the
POST and the two answers the server gives. This module owns reading it (``load``) and the
request mix built from a client's two calls (``alternate``): GET and POST in turn, each
answer's status and whole body compared with what the server sends for that request.

A runner only writes its library's two calls, ``get`` and ``post``, each returning
(status, body, HTTP version); it must never build the query string or encode the payload
itself (the library's ``params``/``json`` APIs are part of what is measured), nor skip the
check of an answer.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import _harness


class Body(Protocol):
    """A whole response body as the library returns it: ``bytes``, or an object with a length
    that compares equal to ``bytes`` (pyreqwest's ``Bytes``), so no runner pays for a copy."""

    def __len__(self) -> int: ...


#: One of a client's two calls: (HTTP status, the whole body, HTTP version "1.1" or "2").
Exchange = Callable[[], Awaitable[tuple[int, Body, str]]]


@dataclass(frozen=True)
class Workload:
    """What every client sends, and what it must get back."""

    url: str
    #: The GET's query parameters, in order (given to the library, never pre-encoded).
    params: dict[str, str]
    #: The headers of both requests, lower-case names.
    headers: dict[str, str]
    #: The POST's body, sent with the library's own JSON encoder.
    payload: dict[str, Any]
    get_answer: bytes
    post_answer: bytes


def load(opts: _harness.Options) -> Workload:
    """The work the parent passed with ``--workload``."""
    if opts.workload is None:
        raise ValueError("not the realistic scenario: no --workload given")
    raw = json.loads(opts.workload)
    return Workload(
        url=str(raw["url"]),
        params={str(k): str(v) for k, v in raw["params"].items()},
        headers={str(k): str(v) for k, v in raw["headers"].items()},
        payload=dict(raw["payload"]),
        get_answer=str(raw["get_answer"]).encode("ascii"),
        post_answer=str(raw["post_answer"]).encode("ascii"),
    )


def alternate(work: Workload, get: Exchange, post: Exchange) -> _harness.Fetch:
    """A fetch that sends the GET and the POST in turn and checks each answer.

    The turn is shared by all workers, so half the requests are GETs and half POSTs whatever
    the concurrency. A 200 whose body is not the expected answer raises
    ``_harness.BadResponse``; any other status is left to the harness, which counts it bad.
    """
    turn = 0

    async def fetch() -> tuple[int, int, str]:
        nonlocal turn
        turn ^= 1
        if turn:
            method, call, expected = "GET", get, work.get_answer
        else:
            method, call, expected = "POST", post, work.post_answer
        status, body, version = await call()
        if status == 200 and body != expected:
            raise _harness.BadResponse(
                f"{method} answered 200 with {len(body)} bytes {repr(body)[:80]}, expected "
                f"{len(expected)} bytes {expected[:60]!r}"
            )
        return status, len(body), version

    return fetch

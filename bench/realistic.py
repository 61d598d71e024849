"""The ``realistic`` scenario's work: what every client sends, and what the servers answer.

Every client alternates two requests over HTTP/1.1 keep-alive to ``PATH`` on the loopback
server:

- a GET with the three ``HEADERS`` and the two ``QUERY`` parameters (given to the client
  library as parameters, not pre-encoded into the URL), answered with ``GET_ANSWER``;
- a POST of ``PAYLOAD`` as JSON (the library's own ``json=``, so encoding is part of the
  work) with the same headers, answered with ``POST_ANSWER``.

The servers check what arrives: the method, the query string exactly, the three headers and
(for the POST) a JSON ``Content-Type``. Anything else is answered ``400`` with ``REJECTED``,
which every runner counts as a bad response, so a client that drops a header or encodes the
query differently cannot look fast. Runners check the status and the whole body of every
answer.

This module owns that description, the single JSON argument that hands it to the runner
scripts (``runner_argument``; the runners read it in ``runners/_realistic.py``), and
``answer`` (the verdict on one request) for the embedded server. nginx's version of the same
verdict is written by ``bench.server`` from these constants. It must never start anything,
send a request or print.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

PATH = "/api/items"
QUERY: tuple[tuple[str, str], ...] = (("page", "2"), ("q", "term"))
#: The query string every client must produce from ``QUERY``.
QUERY_STRING = "&".join(f"{name}={value}" for name, value in QUERY)
HEADERS: tuple[tuple[str, str], ...] = (
    ("accept", "application/json"),
    ("x-request-id", "bench-7f3a9c"),
    ("x-client", "bench"),
)
PAYLOAD: dict[str, object] = {
    "id": 1,
    "name": "bench",
    "tags": ["a", "b"],
    "active": True,
    "score": 4.5,
}
GET_ANSWER = (
    b'{"page":2,"q":"term","total":3,"items":[{"id":1,"name":"alpha","tags":["a","b"]},'
    b'{"id":2,"name":"beta","tags":["b"]},{"id":3,"name":"gamma","tags":[]}]}'
)
POST_ANSWER = b'{"id":1,"created":true}'
REJECTED = b'{"error":"not the realistic request"}'
JSON_TYPE = "application/json"


def runner_argument(url: str) -> str:
    """The ``--workload`` argument of a runner: the whole request mix and both answers."""
    return json.dumps(
        {
            "url": url,
            "params": dict(QUERY),
            "headers": dict(HEADERS),
            "payload": PAYLOAD,
            "get_answer": GET_ANSWER.decode("ascii"),
            "post_answer": POST_ANSWER.decode("ascii"),
        },
        separators=(",", ":"),
    )


def answer(method: str, query: str, headers: Mapping[str, str]) -> bytes | None:
    """The body answering one request to ``PATH``, or None when it is not the expected one.

    ``headers`` has lower-case names. The POST's body itself is not inspected (nginx does
    not read it either); its ``Content-Type`` must be JSON.
    """
    if any(headers.get(name) != value for name, value in HEADERS):
        return None
    if method == "GET" and query == QUERY_STRING:
        return GET_ANSWER
    content_type = headers.get("content-type", "")
    if method == "POST" and not query and content_type.split(";")[0].strip() == JSON_TYPE:
        return POST_ANSWER
    return None


def payload_bytes() -> bytes:
    """``PAYLOAD`` encoded as the probe sends it (clients use their own encoder)."""
    return json.dumps(PAYLOAD, separators=(",", ":")).encode("ascii")

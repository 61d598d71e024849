"""``response.trailers`` over HTTP/2: a HEADERS block after the body (ending the stream),
kept apart from ``headers`` and bounded like them."""

from __future__ import annotations

import pytest

import aiosonic
from aiosonic.exceptions import HttpParsingError


def h2_answer_with_trailers(trailers: list[tuple[bytes, bytes]]):
    async def scenario(peer) -> None:
        def answer(peer, request) -> None:
            peer.conn.send_headers(request.stream_id, [(b":status", b"200")])
            peer.conn.send_data(request.stream_id, b"hello world")
            peer.conn.send_headers(request.stream_id, trailers, end_stream=True)
            request.answered = True
            peer.flush()

        await peer.serve(answer)

    return scenario


async def test_http2_trailers_follow_the_body(scripted, new_client):
    srv = await scripted(h2_answer_with_trailers([(b"grpc-status", b"0"),
                                                  (b"grpc-message", b"fine")]))
    client = new_client()
    response = await client.get(srv.url("/"), http2=True)
    assert response.http_version == "2"
    assert await response.content() == b"hello world"
    assert response.trailers["grpc-status"] == "0"
    assert response.trailers["grpc-message"] == "fine"
    assert "grpc-status" not in response.headers


async def test_http2_trailers_are_bounded_by_count(scripted, new_client):
    srv = await scripted(h2_answer_with_trailers(
        [(b"x-%d" % i, b"v") for i in range(5)]
    ))
    client = new_client({"limits": aiosonic.Limits(max_headers=4)})
    response = await client.get(srv.url("/"), http2=True)
    with pytest.raises(HttpParsingError, match="more than 4 trailer fields"):
        await response.content()

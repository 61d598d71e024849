"""What a program written against upstream expects of an HTTP/2 response: a body that has
arrived can be read after the client is closed (as over HTTP/1.1), and a response streamed
without a length says ``chunked``."""

from __future__ import annotations

import aiosonic


async def test_a_buffered_body_is_readable_after_the_client_closed(
    hyper, trusting_context
) -> None:
    srv = await hyper()
    async with aiosonic.HTTPClient() as client:
        response = await client.get(srv.url("/bytes/1000"), http2=True, ssl=trusting_context)
        assert response.http_version == "2"
    assert len(await response.content()) == 1000


async def test_a_body_without_a_length_is_chunked_one_with_a_length_is_not(
    scripted, new_client
) -> None:
    async def scenario(peer) -> None:
        def answer(peer, request) -> None:
            if request.path == "/sized":
                peer.respond(request.stream_id, b"x" * 10)
            else:
                peer.respond(request.stream_id, b"x" * 10, end=False)  # no content-length
                peer.conn.send_data(request.stream_id, b"y" * 10, end_stream=True)
                request.answered = True
                peer.flush()

        await peer.serve(answer)

    srv = await scripted(scenario)
    client = new_client()
    sized = await client.get(srv.url("/sized"), http2=True)
    assert sized.headers["content-length"] == "10"
    assert not sized.chunked
    streamed = await client.get(srv.url("/streamed"), http2=True)
    assert "content-length" not in streamed.headers
    assert streamed.chunked
    assert await streamed.content() == b"x" * 10 + b"y" * 10

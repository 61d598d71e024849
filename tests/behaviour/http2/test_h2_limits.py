"""Limits against hostile HTTP/2 servers: huge header lists and CONTINUATION floods end in a
clear error at once, never in unbounded memory or a hang."""

from __future__ import annotations

import asyncio

import h2.settings
import hpack
import pytest
from hyperframe.frame import ContinuationFrame, HeadersFrame

from aiosonic.exceptions import ConnectionDisconnected, HttpParsingError


async def _expect_refusal(scripted, new_client, write_reply) -> None:
    async def scenario(peer):
        await peer.wait_for(lambda: peer.by_path("/") is not None)
        write_reply(peer, peer.by_path("/").stream_id)
        await peer.wait_eof()

    srv = await scripted(scenario)
    client = new_client()
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        await client.get(srv.url("/"), http2=True)
    except (HttpParsingError, ConnectionDisconnected) as exc:
        assert "HTTP/2" in str(exc) or "connection" in str(exc)
    else:
        raise AssertionError("the hostile reply was accepted")
    assert loop.time() - started < 2


async def test_oversized_header_list_is_refused(scripted, new_client):
    block = hpack.Encoder().encode(
        [(b":status", b"200")] + [(b"x-big-%d" % i, b"v" * 4000) for i in range(40)]
    )  # about 160 KB decoded, over our 64 KiB SETTINGS_MAX_HEADER_LIST_SIZE

    def reply(peer, stream_id):
        frames = [block[i : i + 16000] for i in range(0, len(block), 16000)]
        first = HeadersFrame(stream_id, frames[0])
        if len(frames) == 1:
            first.flags.add("END_HEADERS")
        data = first.serialize()
        for index, piece in enumerate(frames[1:], 1):
            frame = ContinuationFrame(stream_id, piece)
            if index == len(frames) - 1:
                frame.flags.add("END_HEADERS")
            data += frame.serialize()
        peer.write_raw(data)

    await _expect_refusal(scripted, new_client, reply)


async def test_continuation_flood_is_refused(scripted, new_client):
    def reply(peer, stream_id):
        data = HeadersFrame(stream_id, b"").serialize()
        data += b"".join(ContinuationFrame(stream_id, b"").serialize() for _ in range(5000))
        peer.write_raw(data)

    await _expect_refusal(scripted, new_client, reply)


async def test_the_stream_window_is_configurable(scripted, new_client):
    import aiosonic

    seen: dict[int, int] = {}

    async def scenario(peer):
        await peer.wait_for(lambda: peer.by_path("/") is not None)
        seen.update(peer.client_settings)
        peer.respond(peer.by_path("/").stream_id, b"ok")
        await peer.wait_eof()

    srv = await scripted(scenario)
    async with aiosonic.HTTPClient(aiosonic.TCPConnector(http2_window=1 << 20)) as client:
        resp = await client.get(srv.url("/"), http2=True)
        assert await resp.content() == b"ok"
    assert seen[h2.settings.SettingCodes.INITIAL_WINDOW_SIZE] == 1 << 20


async def test_ping_flood_is_refused(scripted, new_client):
    from hyperframe.frame import PingFrame

    def reply(peer, stream_id):
        ping = PingFrame(0)
        ping.opaque_data = b"floodfld"
        peer.write_raw(ping.serialize() * 5000)

    await _expect_refusal(scripted, new_client, reply)


async def test_a_peer_that_never_opens_its_window_times_out(scripted, new_client):
    import aiosonic

    async def scenario(peer):
        await peer.wait_for(lambda: peer.by_path("/warm") is not None)
        peer.respond(peer.by_path("/warm").stream_id, b"ok")
        await peer.wait_eof()

    # After the preface the server sets its stream window to 0 and never opens it.
    srv = await scripted(
        scenario, settings_update={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0}
    )
    client = new_client()
    warm = await client.get(srv.url("/warm"), http2=True)  # the new window is in force now
    assert await warm.content() == b"ok"
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(aiosonic.exceptions.RequestTimeout):
        await client.post(srv.url("/"), data=b"x" * 10, http2=True,
                          timeouts=aiosonic.Timeouts(request_timeout=0.5))
    assert loop.time() - started < 2


async def test_rapid_stream_resets_fail_each_stream_only(scripted, new_client):
    import h2.errors

    async def scenario(peer):
        def answer(peer, request):
            if request.path.startswith("/reset"):
                peer.reset(request.stream_id, h2.errors.ErrorCodes.INTERNAL_ERROR)
            else:
                peer.respond(request.stream_id, b"fine")

        await peer.serve(answer)

    srv = await scripted(scenario)
    client = new_client()
    results = await asyncio.wait_for(
        asyncio.gather(
            *(client.get(srv.url(f"/reset/{i}"), http2=True) for i in range(200)),
            return_exceptions=True,
        ),
        5,
    )
    assert all(isinstance(r, ConnectionDisconnected) for r in results), results[:3]
    assert "reset the stream" in str(results[0])
    connections = len(srv.peers)  # 200 streams may need two (stream limits)
    resp = await client.get(srv.url("/ok"), http2=True)
    assert await resp.content() == b"fine"
    assert len(srv.peers) == connections  # the resets did not cost a connection

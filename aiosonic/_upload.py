"""Upload progress: a request body re-sent as a stream that reports each piece as it goes.

Kept out of ``_request`` because its counting wrapper is an async generator, which the
compiled build (mypyc) cannot compile: this module always runs interpreted.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable
from typing import cast

from ._interfaces import Stream
from ._request import Body

__all__ = ["watch_upload"]

_PIECE = 64 * 1024


def watch_upload(body: Body, callback: Callable[[int, int | None], object]) -> Body:
    """``body`` sent as a stream that reports ``callback(bytes_sent, total_or_None)`` as
    each piece goes out (in-memory bodies in 64 KiB pieces, under a Content-Length)."""
    if body.stream is None:
        if body.data is None:
            return body  # nothing to upload
        payload = body.data
        size = len(payload)

        def again() -> Stream:
            return _counted(_pieces(payload), callback, size)

        return Body(stream=again(), headers=body.headers, length=size, restart=again)
    total = body.length
    source = body.restart

    def restart() -> Stream:
        assert source is not None
        return _counted(source(), callback, total)

    return Body(stream=_counted(body.stream, callback, total), headers=body.headers,
                length=total, restart=restart if source is not None else None)


def _pieces(payload: bytes) -> Iterable[bytes]:
    view = memoryview(payload)
    # memoryview slices are bytes-like: written without a copy.
    return cast(list[bytes], [view[i : i + _PIECE] for i in range(0, len(view), _PIECE)])


async def _counted(
    stream: Stream, callback: Callable[[int, int | None], object], total: int | None
) -> AsyncIterable[bytes]:
    sent = 0
    if isinstance(stream, AsyncIterable):
        async for piece in stream:
            yield piece
            sent += len(piece)
            callback(sent, total)
    else:
        for piece in stream:
            yield piece
            sent += len(piece)
            callback(sent, total)

"""``Request``: an outgoing request as event hooks, authentication and transports see it.

The plain request path never builds one (it goes straight from arguments to bytes); a
``Request`` exists only when a feature that looks at requests is in use, so that those
features are paid for only by the requests that use them.

It owns a request's method, URL, headers and body as values a user may read and change.
It never serialises itself: the client turns it into bytes once the hooks are done.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Any

from ._headers import HeadersLike, HttpHeaders
from ._request import Body, Stream, close_stream
from ._url import URL, parse_url
from .exceptions import InvalidRequest

__all__ = ["Request"]


class Request:
    """A request about to be sent.

    - ``method``: the upper-case method.
    - ``url``: the full URL, a ``str``; a hook may point the request elsewhere.
    - ``headers``: an ``HttpHeaders`` a hook may change (the defaults such as Host and
      User-Agent are added when the request is sent, unless set here).
    - ``content``: the body when it is in memory (``b""`` when there is none).
    - ``stream``: the body when it is streamed (an iterator), else None.
    - ``extensions``: a dict for hooks to pass values along (a trace id, say).
    """

    __slots__ = ("_body", "extensions", "headers", "method", "url")

    def __init__(
        self,
        method: str,
        url: str,
        headers: HeadersLike | None = None,
        content: bytes | None = None,
        *,
        body: Body | None = None,
    ) -> None:
        if body is not None and content is not None:
            raise InvalidRequest("pass either content= or body=, not both")
        self.method = method.upper()
        self.url = url
        self.headers = headers if isinstance(headers, HttpHeaders) else HttpHeaders(headers)
        self._body = body if body is not None else Body(content)
        self.extensions: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url}>"

    @property
    def content(self) -> bytes:
        """The body bytes; raises ``InvalidRequest`` for a streamed body (use ``read()``)."""
        body = self._body
        if body.stream is not None:
            raise InvalidRequest("the request body is a stream: await request.read() instead")
        return body.data or b""

    @content.setter
    def content(self, value: bytes) -> None:
        self._body = Body(bytes(value), headers=self._body.headers)

    @property
    def stream(self) -> Stream | None:
        return self._body.stream

    async def read(self) -> bytes:
        """The whole body; a streamed body is read (and kept, so it can still be sent)."""
        body = self._body
        stream = body.stream
        if stream is None:
            return body.data or b""
        parts: list[bytes] = []
        try:
            if isinstance(stream, AsyncIterable):
                parts = [bytes(part) async for part in stream]
            else:
                parts = [bytes(part) for part in stream]
        finally:
            await close_stream(stream)
        data = b"".join(parts)
        self._body = Body(data, headers=body.headers)
        return data

    # -- for the client -------------------------------------------------------------------

    @property
    def body(self) -> Body:
        """The encoded body (internal form)."""
        return self._body

    @body.setter
    def body(self, value: Body) -> None:
        self._body = value

    def parsed_url(self) -> URL:
        """``url`` parsed; raises ``InvalidRequest`` if a hook made it invalid."""
        return parse_url(self.url)

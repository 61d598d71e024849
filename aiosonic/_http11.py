"""Sans-IO HTTP/1.1: request bytes out, response events in. No asyncio, no sockets.

Request side: ``encode_request_head`` serialises a request line and header pairs (refusing
anything that could split the message), ``encode_chunk`` frames one piece of a chunked body.

Response side: ``ResponseParser`` is fed whatever bytes the transport delivers, in any split,
and reports to a ``ResponseReceiver``: ``on_head`` once per final response, ``on_body`` per
piece of body, ``on_complete`` at its end. The head is validated by llhttp (through
httptools) and collected from its callbacks as it goes (status reason, header pairs, the
few headers that decide framing): nothing scans the head a second time. Only the head is
fed to llhttp (and chunked bodies, which it decodes); the body framing is decided here,
from the head and the request method:

    HEAD request, 1xx, 204, 304      no body
    Transfer-Encoding, chunked last  llhttp decodes the chunks; the trailer fields are
                                     collected (``on_trailers``), bounded like the head
    Transfer-Encoding, other         body until the connection closes (RFC 9112 6.3)
    Content-Length: N                exactly N bytes, sliced here without copying
    none of these                    body until the connection closes

Interim 1xx responses (other than 101) are skipped (a ``FullReceiver`` hears of each:
a request expecting ``100 Continue`` waits for one). A response may only be kept alive if
its framing is definite, it is HTTP/1.1 (or 1.0 with keep-alive), the server did not say
``Connection: close``, and no byte followed its end.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from enum import Enum
from typing import ClassVar, Final, Protocol

import httptools

from .exceptions import ConnectionDisconnected, HttpParsingError, InvalidRequest

__all__ = [
    "BY_CHUNKS",
    "BY_LENGTH",
    "NO_FRAMING",
    "UNTIL_CLOSED",
    "Framing",
    "FullReceiver",
    "ResponseHead",
    "ResponseParser",
    "ResponseReceiver",
    "encode_chunk",
    "encode_request_head",
    "idle_timeout",
]

# A C static in the compiled build (``httptools.HttpResponseParser`` would be a module-dict
# lookup and an attribute lookup for every response).
_new_llhttp: Final = httptools.HttpResponseParser

LAST_CHUNK: Final = b"0\r\n\r\n"
# Interim (1xx) responses before the final one: at most this many (http.client's bound),
# and together no more bytes than one head may have.
MAX_INTERIM: Final = 100
# Chunked framing beyond what a chunk needs (its size line and CRLFs: 16 bytes, plus twice
# its data for extensions) may add up to this much before the response is refused (the
# rule of Go's fix for CVE-2023-39326): framing cannot outgrow the body it carries.
MAX_EXCESS_FRAMING: Final = 16 * 1024

# The headers that decide framing, by the spellings servers send (other spellings are
# lowered first): what ``on_header`` remembers of them.
_CONTENT_LENGTH: Final = 0
_TRANSFER_ENCODING: Final = 1
_CONNECTION: Final = 2
_CONTENT_ENCODING: Final = 3
_KEEP_ALIVE: Final = 4
_FRAMING_NAMES: Final = {
    spelling: kind
    for name, kind in (
        (b"content-length", _CONTENT_LENGTH),
        (b"transfer-encoding", _TRANSFER_ENCODING),
        (b"connection", _CONNECTION),
        (b"content-encoding", _CONTENT_ENCODING),
        (b"keep-alive", _KEEP_ALIVE),
    )
    for spelling in (name, name.title())
}
_FRAMING_LENGTHS: Final = frozenset(len(name) for name in _FRAMING_NAMES)
# The last byte of a header value that llhttp left untrimmed (``in`` on bytes: b"" too).
_WHITESPACE: Final = (b" ", b"\t")
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FORBIDDEN_IN_VALUE: Final = re.compile(r"[\r\n\0]")
_FORBIDDEN_IN_TARGET: Final = re.compile(r"[\x00-\x20\x7f]")


def encode_request_head(method: str, target: str, headers: Iterable[tuple[str, str]]) -> bytes:
    """The request line and header block, CRLF-terminated, ready for the wire.

    Raises ``InvalidRequest`` naming the bad part if the method or a header name is not a
    token, or the target or a header value contains a byte that could split the message.
    """
    if not _TOKEN.fullmatch(method):
        raise InvalidRequest(f"request method {method!r} is not a valid token")
    if not target or _FORBIDDEN_IN_TARGET.search(target):
        raise InvalidRequest(f"request target {target!r} contains whitespace or control bytes")
    lines = [f"{method} {target} HTTP/1.1"]
    for name, value in headers:
        if not _TOKEN.fullmatch(name):
            raise InvalidRequest(f"header name {name!r} is not a valid token")
        if _FORBIDDEN_IN_VALUE.search(value):
            raise InvalidRequest(f"header {name!r} has CR, LF or NUL in its value")
        lines.append(f"{name}: {value}")
    lines.append("\r\n")
    text = "\r\n".join(lines)
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def encode_chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (never the last-chunk marker: an empty input gives b"")."""
    if not data:
        return b""
    return b"%x\r\n%b\r\n" % (len(data), data)


class Framing(Enum):
    """How the end of a response body is found."""

    NONE = "none"
    LENGTH = "content-length"
    CHUNKED = "chunked"
    UNTIL_CLOSE = "until-close"


# As module globals for the same reason as the parser's states below.
NO_FRAMING: Final = Framing.NONE
BY_LENGTH: Final = Framing.LENGTH
BY_CHUNKS: Final = Framing.CHUNKED
UNTIL_CLOSED: Final = Framing.UNTIL_CLOSE


class ResponseHead:
    """The parts of a final response head that the layers above need."""

    __slots__ = (
        "content_encoding",
        "content_length",
        "framing",
        "keep_alive",
        "raw_headers",
        "reason",
        "status",
        "version",
    )

    def __init__(
        self,
        status: int,
        reason: str,
        version: str,
        raw_headers: list[tuple[bytes, bytes]],
        framing: Framing,
        content_length: int | None,
        keep_alive: bool,
        content_encoding: bytes | None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.version = version
        self.raw_headers = raw_headers  # (name, value) as llhttp validated them, in order
        self.framing = framing
        self.content_length = content_length
        self.keep_alive = keep_alive
        self.content_encoding = content_encoding


class ResponseReceiver(Protocol):
    """Where a ``ResponseParser`` reports; implementations must not raise."""

    def on_head(self, head: ResponseHead) -> None: ...

    def on_body(self, data: bytes) -> None: ...

    def on_complete(self, keep_alive: bool) -> None: ...


class FullReceiver(ResponseReceiver, Protocol):
    """A receiver that also hears what most never need, each only when it happens (a
    receiver without these methods is not told, at no cost to anyone):

    - ``on_interim(status)``: an interim (1xx) head (a request sent with ``Expect:
      100-continue`` waits for one);
    - ``on_keep_alive(value)``: a ``Keep-Alive`` header (see ``idle_timeout``);
    - ``on_trailers(fields)``: the trailer fields of a chunked body, before its
      ``on_complete``.
    """

    def on_interim(self, status: int) -> None: ...

    def on_keep_alive(self, value: bytes) -> None: ...

    def on_trailers(self, fields: list[tuple[bytes, bytes]]) -> None: ...


def _keep_alive(version: str, connection: bytes | None) -> bool:
    if connection == b"keep-alive" or connection == b"Keep-Alive":
        return version == "1.1" or version == "1.0"  # what nearly every server sends
    if connection is not None:
        tokens = connection.lower()
        if b"close" in tokens:
            return False
        if version == "1.0":
            return b"keep-alive" in tokens
    return version == "1.1"


def _framing_of(transfer_encoding: bytes) -> Framing | None:
    """The framing a ``Transfer-Encoding`` other than plain ``chunked`` gives a response:
    chunked when it is the last coding, until the connection closes when it is absent (RFC
    9112 6.3); None (refused) for ``chunked`` twice or before another coding (RFC 9112 7:
    never applied twice; Go refuses both)."""
    codings = [coding.strip().lower() for coding in transfer_encoding.split(b",")]
    count = codings.count(b"chunked")
    if count == 0:
        return UNTIL_CLOSED
    if count > 1 or codings[-1] != b"chunked":
        return None
    return BY_CHUNKS


def idle_timeout(keep_alive: bytes) -> float | None:
    """The ``timeout`` parameter of a ``Keep-Alive`` header (RFC 2068 19.7.1.1, still what
    servers send: ``timeout=5, max=100``) in seconds; None if absent or not a number."""
    for part in keep_alive.split(b","):
        name, _, value = part.partition(b"=")
        if name.strip().lower() == b"timeout":
            value = value.strip()
            if value.isdigit() and len(value) <= 9:
                return float(value)
            return None
    return None


class _TrailingData(Exception):
    """Raised inside llhttp to stop it at bytes that follow a complete response."""


class _State(Enum):
    IDLE = 0  # no request outstanding: any byte is unsolicited
    HEAD = 1
    LENGTH = 2
    CHUNKED = 3
    UNTIL_CLOSE = 4
    DONE = 5  # the connection can carry nothing more (closed or broken)
    UPGRADED = 6  # a 101 switched protocols: later bytes belong to the new protocol


# The members as module globals, read on every feed: on CPython 3.10 and 3.11 reading a
# member off its Enum class costs a descriptor call (about 75 ns; a global costs 10).
_IDLE: Final = _State.IDLE
_HEAD: Final = _State.HEAD
_LENGTH: Final = _State.LENGTH
_CHUNKED: Final = _State.CHUNKED
_UNTIL_CLOSE: Final = _State.UNTIL_CLOSE
_DONE: Final = _State.DONE
_UPGRADED: Final = _State.UPGRADED


class ResponseParser:
    """Turns the bytes of one connection into response events, one response per ``start``."""

    __slots__ = (
        "_chunk_done",
        "_chunks",
        "_connection",
        "_content_encoding",
        "_content_length",
        "_excess",
        "_expected",
        "_framing_bytes",
        "_head_buf",
        "_head_complete",
        "_interim_bytes",
        "_interims",
        "_is_head",
        "_keep_alive",
        "_llhttp",
        "_messages",
        "_on_interim",
        "_on_keep_alive",
        "_on_trailers",
        "_pairs",
        "_reason",
        "_received",
        "_receiver",
        "_remaining",
        "_scan_from",
        "_state",
        "_trailer_bytes",
        "_trailers",
        "_transfer_encoding",
        "_upgrade",
        "max_head_size",
        "max_headers",
        "max_status_line",
        "upgrade_tail",
    )

    def __init__(
        self,
        receiver: ResponseReceiver,
        *,
        max_head_size: int = 65536,
        max_headers: int = 128,
        max_status_line: int = 8192,
    ) -> None:
        self._receiver = receiver
        self._on_interim: Callable[[int], None] | None = getattr(receiver, "on_interim", None)
        self._on_keep_alive: Callable[[bytes], None] | None = getattr(
            receiver, "on_keep_alive", None
        )
        self._on_trailers: Callable[[list[tuple[bytes, bytes]]], None] | None = getattr(
            receiver, "on_trailers", None
        )
        self.max_head_size = max_head_size
        self.max_headers = max_headers
        self.max_status_line = max_status_line
        self._state = _IDLE
        self._is_head = False
        self._keep_alive = False
        self._received = 0
        self._remaining = 0
        self._expected = 0
        self._framing_bytes = 0
        self._interims = self._interim_bytes = 0
        self._chunks = self._excess = 0
        self._upgrade = False
        # Bytes that followed a 101 head (the first bytes of the new protocol).
        self.upgrade_tail = b""
        # The trailer fields of the chunked body being received (None: none so far).
        self._trailers: list[tuple[bytes, bytes]] | None = None
        self._trailer_bytes = 0
        self._reset_head()

    # -- driving --------------------------------------------------------------------------

    @property
    def idle(self) -> bool:
        """True when no response is expected or being received."""
        return self._state is _IDLE

    def start(self, head_request: bool = False, upgrade: bool = False) -> None:
        """A request has been sent: expect its response (no body if ``head_request``; a
        101 Switching Protocols is accepted only if the request asked to ``upgrade``)."""
        if self._state is not _IDLE:
            raise RuntimeError(f"cannot start a response while in state {self._state.name}")
        self._is_head = head_request
        self._upgrade = upgrade
        self._state = _HEAD
        self._received = 0
        self._framing_bytes = 0
        self._interims = 0

    def feed(self, data: bytes) -> None:
        """Consume bytes from the server. Raises ``HttpParsingError`` on invalid input."""
        while data:
            state = self._state
            if state is _LENGTH:
                self._feed_length(data)
                return
            if state is _HEAD:
                data = self._feed_head(data)
            elif state is _CHUNKED:
                self._feed_chunked(data)
                return
            elif state is _UNTIL_CLOSE:
                self._received += len(data)
                self._receiver.on_body(data)
                return
            elif state is _UPGRADED:
                self.upgrade_tail += data
                return
            else:
                # Bytes nobody asked for: the connection cannot be trusted any more.
                self._state = _DONE
                raise HttpParsingError("server sent data when no response was expected")

    def feed_eof(self) -> None:
        """The server closed the connection. Raises if that cut a response short."""
        state = self._state
        self._state = _DONE
        if state is _UNTIL_CLOSE:
            self._receiver.on_complete(False)
        elif state is _HEAD:
            if self._head_buf:
                raise ConnectionDisconnected("server closed the connection mid response head")
            raise ConnectionDisconnected("server closed the connection without a response")
        elif state is _LENGTH:
            raise ConnectionDisconnected(
                f"response body truncated: server closed the connection after "
                f"{self._received} of {self._expected} bytes"
            )
        elif state is _CHUNKED:
            raise ConnectionDisconnected(
                "chunked response body truncated: server closed the connection "
                "before the last chunk"
            )

    # -- head -----------------------------------------------------------------------------

    def _reset_head(self) -> None:
        self._head_buf = b""
        self._scan_from = 0
        self._head_complete = False
        self._messages = 0
        self._chunk_done = False
        self._pairs: list[tuple[bytes, bytes]] = []
        self._reason = b""
        self._content_length: bytes | None = None
        self._transfer_encoding: bytes | None = None
        self._connection: bytes | None = None
        self._content_encoding: bytes | None = None
        self._llhttp = _new_llhttp(self)

    def _feed_head(self, data: bytes) -> bytes:
        """Consume head bytes; returns the bytes after the head (possibly empty)."""
        buf = self._head_buf + data if self._head_buf else data
        end = buf.find(b"\r\n\r\n", self._scan_from)
        if end < 0:
            if len(buf) > self.max_head_size:
                self._state = _DONE
                raise HttpParsingError(f"response head larger than {self.max_head_size} bytes")
            # Feed now so that garbage is refused at once rather than at the size limit.
            self._llhttp_feed(data)
            self._head_buf = buf
            self._scan_from = max(len(buf) - 3, 0)
            return b""
        end += 4
        if end > self.max_head_size:
            self._state = _DONE
            raise HttpParsingError(f"response head larger than {self.max_head_size} bytes")
        already = len(buf) - len(data)
        self._llhttp_feed(data[: end - already] if end - already < len(data) else data)
        if not self._head_complete:
            self._state = _DONE
            raise HttpParsingError("response head is not valid HTTP/1.1")
        rest = buf[end:] if end < len(buf) else b""
        self._on_head_done(buf)
        return rest

    def _llhttp_feed(self, data: bytes) -> None:
        try:
            self._llhttp.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass  # llhttp pauses after a 101 head; the framing decision handles it
        except httptools.HttpParserError as exc:
            cause = exc.__context__
            if isinstance(cause, _TrailingData):
                return
            if self._head_complete and "Upgrade" in str(exc):
                return  # llhttp pauses after a 101 head; the framing decision handles it
            self._state = _DONE
            if isinstance(cause, HttpParsingError):
                raise cause from None
            raise HttpParsingError(f"invalid response from server: {exc}") from None

    # httptools callbacks, called from inside feed_data. The head is collected here, a
    # header at a time, as llhttp validates it: nothing re-scans the head afterwards.

    # httptools asks every new parser's protocol for these two with getattr(..., None):
    # present as None they cost a lookup, absent an AttributeError each (per response).
    on_chunk_complete: ClassVar[None] = None

    def on_chunk_header(self) -> None:
        self._chunks += 1  # (llhttp asks only while a chunked body is parsed)

    def on_message_begin(self) -> None:
        self._messages += 1
        if self._messages > 1:
            # A second message starts after our chunked response ended: unsolicited bytes.
            # The response stands, but the connection must not be reused.
            self._keep_alive = False
            raise _TrailingData

    def on_status(self, reason: bytes) -> None:
        self._reason += reason  # in pieces when the status line arrives in pieces

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._head_complete:
            self._on_trailer(name, value)
            return
        if value[-1:] in _WHITESPACE:
            value = value.rstrip(b" \t")  # llhttp keeps the trailing whitespace
        self._pairs.append((name, value))
        kind = _FRAMING_NAMES.get(name)
        if kind is None:
            if len(name) not in _FRAMING_LENGTHS:
                return
            kind = _FRAMING_NAMES.get(name.lower())
            if kind is None:
                return
        if kind == _CONTENT_LENGTH:
            self._content_length = value  # llhttp refuses a second one, even an equal one
        elif kind == _TRANSFER_ENCODING:
            known = self._transfer_encoding
            self._transfer_encoding = value if known is None else known + b"," + value
        elif kind == _CONNECTION:
            known = self._connection
            self._connection = value if known is None else known + b"," + value
        elif kind == _KEEP_ALIVE:
            if self._on_keep_alive is not None:
                self._on_keep_alive(value)
        else:
            known = self._content_encoding
            self._content_encoding = value if known is None else known + b"," + value

    def on_headers_complete(self) -> None:
        self._head_complete = True

    def _on_trailer(self, name: bytes, value: bytes) -> None:
        """A trailer field of a chunked body (llhttp validated it): kept apart from the
        head, and bounded as the head is, by count and by bytes."""
        trailers = self._trailers
        if trailers is None:
            trailers = self._trailers = []
        if len(trailers) >= self.max_headers:
            self._state = _DONE
            raise HttpParsingError(f"response has more than {self.max_headers} trailer fields")
        self._trailer_bytes += len(name) + len(value) + 4
        if self._trailer_bytes > self.max_head_size:
            self._state = _DONE
            raise HttpParsingError(f"response trailers larger than {self.max_head_size} bytes")
        trailers.append((name, value.rstrip(b" \t")))

    def on_body(self, data: bytes) -> None:
        self._received += len(data)
        self._receiver.on_body(data)

    def on_message_complete(self) -> None:
        self._chunk_done = True

    # -- framing --------------------------------------------------------------------------

    def _on_head_done(self, buf: bytes) -> None:
        """The head llhttp accepted, which ``buf`` starts with: decide the framing."""
        llhttp = self._llhttp
        status: int = llhttp.get_status_code()
        if 100 <= status < 200 and status != 101:
            # Interim response: drop it and read the final one with a fresh parser. A
            # server that sends them without end is refused, not read until a timeout.
            if self._interims == 0:
                self._interim_bytes = 0
            self._interims += 1
            self._interim_bytes += buf.find(b"\r\n\r\n") + 4
            if self._interims > MAX_INTERIM or self._interim_bytes > self.max_head_size:
                self._state = _DONE
                raise HttpParsingError(
                    f"more than {MAX_INTERIM} interim responses, or more than "
                    f"{self.max_head_size} bytes of them"
                )
            self._reset_head()
            if self._on_interim is not None:
                self._on_interim(status)
            return
        # Nearly every status line starts so; llhttp validated it (and builds the version
        # string with a format call otherwise).
        version: str = "1.1" if buf.startswith(b"HTTP/1.1 ") else llhttp.get_http_version()
        status_end = buf.find(b"\r\n")
        if not 100 <= status <= 599 or version not in ("1.1", "1.0"):
            self._state = _DONE
            raise HttpParsingError(f"invalid status line {buf[:status_end]!r}")
        if status == 101 and not self._upgrade:
            self._state = _DONE
            raise HttpParsingError("101 Switching Protocols to a request that asked no upgrade")
        if status_end > self.max_status_line:
            self._state = _DONE
            raise HttpParsingError(f"status line longer than {self.max_status_line} bytes")
        pairs = self._pairs
        if len(pairs) > self.max_headers:
            self._state = _DONE
            raise HttpParsingError(f"response has more than {self.max_headers} headers")
        transfer_encoding = self._transfer_encoding
        content_length = self._content_length
        content_encoding = self._content_encoding
        keep_alive = _keep_alive(version, self._connection)
        length: int | None = None
        framing: Framing | None
        if self._is_head or status in (101, 204, 304):
            framing = NO_FRAMING
        elif transfer_encoding is not None:
            framing = BY_CHUNKS if transfer_encoding == b"chunked" else _framing_of(
                transfer_encoding
            )
            if framing is None:
                self._state = _DONE
                raise HttpParsingError(
                    f"Transfer-Encoding {transfer_encoding!r}: chunked more than once or "
                    f"not last"
                )
            if framing is BY_CHUNKS:
                self._chunks = self._excess = self._trailer_bytes = 0
        elif content_length is not None:
            framing = BY_LENGTH
            length = int(content_length)  # llhttp checked the digits
        else:
            framing = UNTIL_CLOSED
        if framing is UNTIL_CLOSED or status == 101:
            keep_alive = False
        self._keep_alive = keep_alive
        self._receiver.on_head(
            ResponseHead(
                status,
                self._reason.decode("latin-1"),
                version,
                pairs,
                framing,
                length,
                keep_alive,
                content_encoding,
            )
        )
        if framing is BY_LENGTH:
            assert length is not None
            self._remaining = self._expected = length
            self._state = _LENGTH
            if length == 0:
                self._finish()
        elif framing is BY_CHUNKS:
            self._state = _CHUNKED
        elif framing is UNTIL_CLOSED:
            self._state = _UNTIL_CLOSE
        elif status == 101:
            # The exchange is over as far as HTTP goes; whoever asked for the upgrade takes
            # the connection (and ``upgrade_tail``) and this parser is never fed again.
            self._state = _UPGRADED
        else:
            self._finish()

    def _finish(self) -> None:
        self._state = _IDLE if self._keep_alive else _DONE
        self._reset_head()
        self._receiver.on_complete(self._keep_alive)

    # -- body -----------------------------------------------------------------------------

    def _feed_length(self, data: bytes) -> None:
        remaining = self._remaining
        size = len(data)
        if size < remaining:
            self._remaining = remaining - size
            self._received += size
            self._receiver.on_body(data)
            return
        self._received += remaining
        self._receiver.on_body(data if size == remaining else data[:remaining])
        self._remaining = 0
        if size > remaining:
            # More bytes than the response declared: never reuse this connection.
            self._keep_alive = False
        self._finish()

    def _feed_chunked(self, data: bytes) -> None:
        before = self._received
        chunks = self._chunks
        trailer_bytes = self._trailer_bytes
        self._llhttp_feed(data)
        body = self._received - before
        # What this read carried beyond its data, less what its chunks need (a size line
        # and CRLFs: 16 bytes each; twice their data for extensions) and the trailers (which
        # have their own bound).
        excess = (self._excess + len(data) - 3 * body - 16 * (self._chunks - chunks)
                  - (self._trailer_bytes - trailer_bytes))
        self._excess = excess if excess > 0 else 0
        if excess > MAX_EXCESS_FRAMING:
            self._state = _DONE
            raise HttpParsingError(
                "chunked framing (extensions) far larger than the data it carries"
            )
        if self._chunk_done:
            trailers = self._trailers
            if trailers is not None:
                self._trailers = None
                if self._on_trailers is not None:
                    self._on_trailers(trailers)
            self._finish()
            return
        # Chunk extensions and trailers are skipped by llhttp without limit; count the bytes
        # that carried no body since the last body byte, and refuse a flood of them.
        if self._received == before:
            self._framing_bytes += len(data)
            if self._framing_bytes > self.max_head_size:
                self._state = _DONE
                raise HttpParsingError(
                    f"chunked framing (extensions or trailers) larger than "
                    f"{self.max_head_size} bytes without data"
                )
        else:
            self._framing_bytes = 0

"""The event-stream parser of Server-Sent Events: response body bytes in, events out.

It owns the WHATWG HTML "server-sent events" parsing and interpretation rules
(https://html.spec.whatwg.org/multipage/server-sent-events.html, sections "Parsing an event
stream" and "Interpreting an event stream"), applied to bytes that may arrive split anywhere:

- The body is UTF-8, decoded incrementally (a character may be split across chunks);
  invalid bytes become U+FFFD; one byte order mark at the start of a stream is dropped.
- A line ends at CRLF, LF or CR. A CR ending one chunk and an LF starting the next are one
  line end, so a CR is honoured at once and an LF right after it is skipped.
- An empty line dispatches the event. A line starting with ":" is a comment. Otherwise the
  field name is everything before the first ":" (the whole line if there is none, with an
  empty value) and the value everything after it, less one leading space.
- ``data``: the value plus LF is appended to the data buffer. ``event``: sets the event type.
  ``id``: sets the last event ID buffer, unless the value contains NUL. ``retry``: if the
  value is all ASCII digits, it becomes the reconnection time in milliseconds. Any other
  field is ignored.
- Dispatching first copies the last event ID buffer to the last event ID (so an id-only
  block still updates it); then an empty data buffer dispatches nothing; otherwise one
  trailing LF is removed and the event goes out, typed "message" unless ``event`` said
  otherwise. Data and type buffers are cleared; the last event ID persists.
- When a stream ends, a partial line and an undispatched event are discarded.

An event carries both IDs: ``last_event_id`` is the standard's (the event's
``lastEventId``: the last ID seen so far, what a reconnection resumes from), and ``id`` is
the ID its own block set, None when the block had no ``id`` field (upstream aiosonic's
events have that ``id``, and programs tell events with an ID from those without by it).

Two deliberate choices where the standard leaves room: a new stream (a reconnection) starts
its last event ID buffer from the last event ID seen so far, as browsers do, so the
``last_event_id`` of events without an ``id`` is the ID the reconnection resumed from; and
a ``retry`` value above ``MAX_RETRY`` milliseconds saturates there (Python cannot turn an
unbounded digit string into an int, and nobody waits a million years).

Memory is bounded: a line, or the data of one event, longer than ``max_event_size``
characters raises ``SSEParsingError`` instead of growing without end.

This module never does I/O and never imports asyncio.
"""

from __future__ import annotations

import codecs
import json as _json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .exceptions import SSEError, SSEParsingError

__all__ = [
    "DEFAULT_MAX_EVENT_SIZE",
    "MAX_RETRY",
    "EventStreamParser",
    "SSEError",
    "SSEEvent",
    "SSEParsingError",
]

DEFAULT_MAX_EVENT_SIZE = 1024 * 1024
MAX_RETRY = 10**15  # milliseconds: about 31,700 years
_MAX_RETRY_DIGITS = len(str(MAX_RETRY))

# Line ends of an event stream, a CRLF pair taken as one.
_EOL = re.compile(r"\r\n|\r|\n")
_KEYS = ("data", "event", "id", "retry")


@dataclass(frozen=True, slots=True, eq=False)
class SSEEvent(Mapping[str, Any]):
    """One dispatched event: ``data``, ``event`` (its type), ``id`` (the ID its block set,
    None if it set none), ``retry`` (the reconnection time its block set, in milliseconds,
    or None) and ``last_event_id`` (the last ID the source has sent so far, this event's
    included: the standard's ``lastEventId``).

    It is also a read-only mapping of the first four, the keys upstream aiosonic's event
    dicts have, so ``event["data"]`` and ``event.data`` are the same thing and
    ``dict(event)`` gives a plain dict.
    """

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None
    last_event_id: str = ""

    def __getitem__(self, key: str) -> Any:
        if key in _KEYS:
            return getattr(self, key)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(_KEYS)

    def __len__(self) -> int:
        return len(_KEYS)

    def json(self, loads: Callable[[str], Any] = _json.loads) -> Any:
        """``data`` parsed as JSON (with ``loads``, default ``json.loads``)."""
        return loads(self.data)


class EventStreamParser:
    """Turns the bytes of event streams into ``SSEEvent`` objects.

    ``feed(data)`` returns the events completed by ``data``; ``new_stream()`` discards what is
    pending and prepares for the next stream of the same source (a reconnection).
    ``last_event_id`` and ``retry`` (the reconnection time the server asked for, or None)
    belong to the source and survive ``new_stream()``.
    """

    __slots__ = (
        "_after_cr",
        "_data",
        "_data_size",
        "_decoder",
        "_event_id",
        "_event_retry",
        "_event_type",
        "_id_buffer",
        "_partial",
        "_partial_size",
        "last_event_id",
        "max_event_size",
        "retry",
    )

    def __init__(
        self, max_event_size: int = DEFAULT_MAX_EVENT_SIZE, last_event_id: str = ""
    ) -> None:
        if isinstance(max_event_size, bool) or not isinstance(max_event_size, int):
            raise TypeError(f"max_event_size must be an int, not {max_event_size!r}")
        if max_event_size < 1:
            raise ValueError(f"max_event_size must be positive, not {max_event_size!r}")
        self.max_event_size = max_event_size
        self.last_event_id = last_event_id
        self.retry: int | None = None
        self.new_stream()

    def new_stream(self) -> None:
        """Forget the stream in progress (its partial line and event) and start another."""
        # utf-8-sig drops exactly one byte order mark at the start, even if split.
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")("replace")
        self._after_cr = False
        self._partial: list[str] = []
        self._partial_size = 0
        self._data: list[str] = []
        self._data_size = 0
        self._event_type = ""
        self._event_id: str | None = None
        self._event_retry: int | None = None
        self._id_buffer = self.last_event_id

    def feed(self, data: bytes) -> list[SSEEvent]:
        """Parse the next piece of the stream; return the events it completes, in order."""
        events: list[SSEEvent] = []
        text = self._decoder.decode(data)
        if not text:
            return events
        if self._after_cr:
            self._after_cr = False
            if text[0] == "\n":
                text = text[1:]
                if not text:
                    return events
        lines = _EOL.split(text) if "\r" in text else text.split("\n")
        if len(lines) == 1:
            self._hold(text)
            return events
        self._after_cr = text[-1] == "\r"
        first = lines[0]
        if self._partial:
            self._partial.append(first)
            first = "".join(self._partial)
            self._partial.clear()
            self._partial_size = 0
        self._line(first, events)
        for index in range(1, len(lines) - 1):
            self._line(lines[index], events)
        tail = lines[-1]
        if tail:
            self._hold(tail)
        return events

    def _hold(self, piece: str) -> None:
        """Keep ``piece`` as the start of a line whose end has not arrived yet."""
        size = self._partial_size + len(piece)
        if size > self.max_event_size:
            raise SSEParsingError(
                f"an event-stream line is longer than max_event_size "
                f"({self.max_event_size} characters)"
            )
        self._partial.append(piece)
        self._partial_size = size

    def _line(self, line: str, events: list[SSEEvent]) -> None:
        if not line:
            self._dispatch(events)
            return
        if len(line) > self.max_event_size:
            raise SSEParsingError(
                f"an event-stream line is longer than max_event_size "
                f"({self.max_event_size} characters)"
            )
        colon = line.find(":")
        if colon == 0:
            return  # a comment
        if colon < 0:
            name, value = line, ""
        else:
            name, value = line[:colon], line[colon + 1 :]
            if value[:1] == " ":
                value = value[1:]
        if name == "data":
            # The size of the dispatched data: the values joined by LF.
            size = self._data_size + len(value) + (1 if self._data else 0)
            if size > self.max_event_size:
                raise SSEParsingError(
                    f"an event's data is longer than max_event_size "
                    f"({self.max_event_size} characters)"
                )
            self._data.append(value)
            self._data_size = size
        elif name == "event":
            self._event_type = value
        elif name == "id":
            if "\x00" not in value:
                self._id_buffer = self._event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():  # "" is not digits
            digits = value.lstrip("0")
            if len(digits) > _MAX_RETRY_DIGITS:
                retry = MAX_RETRY
            else:
                retry = min(int(digits or "0"), MAX_RETRY)
            self.retry = self._event_retry = retry

    def _dispatch(self, events: list[SSEEvent]) -> None:
        self.last_event_id = self._id_buffer
        if self._data:
            events.append(
                SSEEvent(
                    "\n".join(self._data),
                    self._event_type or "message",
                    self._event_id,
                    self._event_retry,
                    self.last_event_id,
                )
            )
            self._data = []
            self._data_size = 0
        self._event_type = ""
        self._event_id = None
        self._event_retry = None

"""Event hooks and trace points: how users watch (and adjust) requests as they go.

    HTTPClient(event_hooks={
        "request": [add_signature],       # called with the Request before each send
        "response": [log_response],       # called with each HttpResponse (redirects too)
        "connection_created": [on_conn],  # trace points, called with a TraceEvent
        "trace": [to_span],               # every trace point
    })

``request`` and ``response`` hooks may be plain functions or coroutine functions. Trace hooks
are called synchronously from inside the connection machinery and must be plain functions
(fast, never blocking): enough to record timings and build OpenTelemetry spans.

Trace points, in the order a request meets them (``TraceEvent.info`` in brackets):

- ``connection_reused`` [``http_version``]: a pooled keep-alive connection carries it;
- ``dns_resolved`` [``host``, ``addresses``]: a new connection's host was resolved;
- ``connection_created`` [``host``, ``port``, ``tls``, ``http_version``]: connected (and
  TLS and any proxy tunnel done);
- ``headers_sent``: the request head was written;
- ``first_byte``: the first byte of the response arrived (HTTP/1.1) or its head (HTTP/2);
- ``redirect`` [``status_code``, ``location``]: a redirect is being followed;
- ``retry`` [``attempt``, ``delay``, ``reason``]: a failed try will be retried.

This module owns the hook registry and the trace object; it never decides when a point is
reached (the client and connector do, and pay for it only when hooks are set).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from .exceptions import InvalidRequest

if TYPE_CHECKING:
    from .request import Request

__all__ = ["TRACE_POINTS", "EventHooks", "Trace", "TraceEvent"]

TRACE_POINTS = frozenset(
    {
        "connection_reused",
        "dns_resolved",
        "connection_created",
        "headers_sent",
        "first_byte",
        "redirect",
        "retry",
    }
)
_KINDS = TRACE_POINTS | {"request", "response", "trace"}

Hook = Callable[[Any], Any]


class TraceEvent:
    """One trace point: ``name``, the ``request``, ``at`` (the loop's clock, seconds),
    ``elapsed`` (seconds since the request started) and ``info`` (a dict, see above)."""

    __slots__ = ("at", "elapsed", "info", "name", "request")

    def __init__(
        self, name: str, request: Request, at: float, elapsed: float, info: dict[str, Any]
    ) -> None:
        self.name = name
        self.request = request
        self.at = at
        self.elapsed = elapsed
        self.info = info

    def __repr__(self) -> str:
        return f"<TraceEvent {self.name} +{self.elapsed * 1000:.3f} ms {self.info!r}>"


class EventHooks:
    """The hooks of a client, checked once when the client is made."""

    __slots__ = ("request", "response", "trace")

    def __init__(self, hooks: Mapping[str, Iterable[Hook]] | None = None) -> None:
        self.request: list[Hook] = []
        self.response: list[Hook] = []
        # trace point name -> hooks; "trace" hooks are listed under every point.
        self.trace: dict[str, list[Hook]] = {}
        for kind, given in (hooks or {}).items():
            functions: object = given  # checked here: users pass all sorts of things
            if kind not in _KINDS:
                raise InvalidRequest(
                    f"unknown event hook {kind!r}: expected one of {', '.join(sorted(_KINDS))}"
                )
            if callable(functions):
                functions = [functions]
            elif not isinstance(functions, Iterable) or isinstance(functions, (str, bytes)):
                raise InvalidRequest(
                    f"event hooks for {kind!r} must be a callable or a list of callables"
                )
            for function in functions:
                self._add(kind, cast(Hook, function))

    def _add(self, kind: str, function: Hook) -> None:
        if not callable(function):
            raise InvalidRequest(f"event hook for {kind!r} is not callable: {function!r}")
        if kind == "request":
            self.request.append(function)
        elif kind == "response":
            self.response.append(function)
        else:
            if inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
                getattr(function, "__call__", None)  # noqa: B004 - an object's async __call__
            ):
                raise InvalidRequest(
                    f"trace hook for {kind!r} must be a plain function, not a coroutine "
                    f"function: trace points are reported synchronously"
                )
            for point in TRACE_POINTS if kind == "trace" else (kind,):
                self.trace.setdefault(point, []).append(function)

    def __bool__(self) -> bool:
        return bool(self.request or self.response or self.trace)


async def call_hooks(hooks: list[Hook], argument: Any) -> None:
    """Call each hook with ``argument``, awaiting those that return an awaitable."""
    for hook in hooks:
        result = hook(argument)
        if inspect.isawaitable(result):
            await result


class Trace:
    """The trace points of one request (made only when trace hooks are set)."""

    __slots__ = ("_hooks", "_loop", "request", "start")

    def __init__(self, hooks: dict[str, list[Hook]], request: Request) -> None:
        self._hooks = hooks
        self._loop = asyncio.get_running_loop()
        self.request = request
        self.start = self._loop.time()

    def __call__(self, name: str, **info: Any) -> None:
        hooks = self._hooks.get(name)
        if not hooks:
            return
        now = self._loop.time()
        event = TraceEvent(name, self.request, now, now - self.start, info)
        for hook in hooks:
            hook(event)

"""``RetryPolicy``: when a failed request is tried again, and how long to wait first.

A value object with pure decisions (``should_retry_status``, ``should_retry_error``,
``delay``); the client's retry layer asks it and does the waiting. It never sends anything.

    attempt 1 --fails--> wait delay(1) --> attempt 2 --fails--> wait delay(2) --> ... attempts

What is retried:
- an error raised before the server could have seen the request (``ConnectError``,
  ``ConnectTimeout``, no free connection in time): whatever the method;
- an error after the request may have reached the server (the connection dropped, a read
  timeout): only for ``methods`` (the idempotent ones by default);
- a response whose status is in ``statuses``: only for ``methods``.
A request whose body is a one-shot stream is never retried (it cannot be sent again).
"""

from __future__ import annotations

from collections.abc import Iterable

from ._values import ValueObject
from .exceptions import (
    BaseTimeout,
    ConnectError,
    ConnectionDisconnected,
    ConnectionPoolAcquireTimeout,
    ConnectTimeout,
)

__all__ = ["IDEMPOTENT_METHODS", "RetryPolicy"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
_NOT_SENT = (ConnectError, ConnectTimeout, ConnectionPoolAcquireTimeout)
_MAYBE_SENT = (ConnectionDisconnected, BaseTimeout)


class RetryPolicy(ValueObject):
    """How a request is retried.

    - ``attempts``: how many tries in all, the first included (1 means no retry).
    - ``backoff``: the base delay in seconds; try ``n`` waits ``backoff * 2**(n-1)``, with
      full jitter (a random delay between 0 and that), so clients do not retry in lockstep.
    - ``max_backoff``: the longest wait, whatever the backoff or ``Retry-After`` says.
    - ``statuses``: the response statuses that are retried.
    - ``methods``: the methods retried after the request may have reached the server.
    - ``respect_retry_after``: wait what a 429/503 ``Retry-After`` header says (seconds or
      an HTTP date), capped at ``max_backoff``.
    """

    __slots__ = (
        "attempts",
        "backoff",
        "max_backoff",
        "methods",
        "respect_retry_after",
        "statuses",
    )
    _fields = ("attempts", "backoff", "max_backoff", "statuses", "methods", "respect_retry_after")

    def __init__(
        self,
        attempts: int = 3,
        backoff: float = 0.1,
        max_backoff: float = 30.0,
        statuses: Iterable[int] = (429, 502, 503, 504),
        methods: Iterable[str] = IDEMPOTENT_METHODS,
        respect_retry_after: bool = True,
    ) -> None:
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be an int >= 1, not {attempts!r}")
        for name, value in (("backoff", backoff), ("max_backoff", max_backoff)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"RetryPolicy.{name} must be a number >= 0, not {value!r}")
        self.attempts = attempts
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        if isinstance(statuses, int):
            statuses = (statuses,)  # one status given alone
        if isinstance(methods, str):
            methods = (methods,)  # one method given alone, not its letters
        try:
            self.statuses = frozenset(int(status) for status in statuses)
            self.methods = frozenset(method.upper() for method in methods)
        except (TypeError, ValueError, AttributeError):
            raise ValueError(
                f"RetryPolicy.statuses must be ints and methods strs, not {statuses!r} and "
                f"{methods!r}"
            ) from None
        self.respect_retry_after = respect_retry_after

    def should_retry_status(self, method: str, status: int) -> bool:
        return status in self.statuses and method in self.methods

    def should_retry_error(self, method: str, error: BaseException) -> bool:
        if isinstance(error, _NOT_SENT):
            return True
        return isinstance(error, _MAYBE_SENT) and method in self.methods

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        if retry_after is not None and self.respect_retry_after:
            wanted = parse_retry_after(retry_after)
            if wanted is not None:
                return min(wanted, self.max_backoff)
        import random  # imports kept off ``import aiosonic``

        ceiling = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
        return random.uniform(0, ceiling)


def parse_retry_after(value: str) -> float | None:
    """Seconds from a ``Retry-After`` value (delay-seconds or an HTTP date); None if bad."""
    from datetime import datetime, timezone
    from email.utils import parsedate_to_datetime  # rarely needed: kept off import time

    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)

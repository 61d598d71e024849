"""``Timeouts``: the value object that says how long each phase of a request may take.

It holds numbers only; enforcing them is the connector's and the connection's job.
"""

from __future__ import annotations

from ._values import ValueObject

__all__ = ["Timeouts"]


def _check(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"Timeouts.{name} must be a number or None, not {value!r}")
    if value <= 0:
        raise ValueError(f"Timeouts.{name} must be positive or None, not {value!r}")
    return float(value)


class Timeouts(ValueObject):
    """How long each phase of a request may take, in seconds (``None``: no limit).

    - ``sock_connect``: opening the TCP (and TLS) connection; raises ``ConnectTimeout``.
    - ``sock_read``: the longest silence from the server while a response is awaited or
      streamed; raises ``ReadTimeout``.
    - ``pool_acquire``: waiting for a free connection when the pool is exhausted; raises
      ``ConnectionPoolAcquireTimeout``.
    - ``request_timeout``: the whole exchange, from the call until the response body has been
      received; raises ``RequestTimeout``.
    """

    __slots__ = ("pool_acquire", "request_timeout", "sock_connect", "sock_read")
    _fields = ("sock_connect", "sock_read", "pool_acquire", "request_timeout")

    def __init__(
        self,
        sock_connect: float | None = 5,
        sock_read: float | None = 30,
        pool_acquire: float | None = None,
        request_timeout: float | None = 60,
    ) -> None:
        self.sock_connect = _check("sock_connect", sock_connect)
        self.sock_read = _check("sock_read", sock_read)
        self.pool_acquire = _check("pool_acquire", pool_acquire)
        self.request_timeout = _check("request_timeout", request_timeout)

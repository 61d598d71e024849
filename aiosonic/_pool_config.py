"""``PoolConfig``: how one origin's pool is sized and aged (``aiosonic.pools.PoolConfig``).

A value object of its own module because it validates what callers pass: ``pools`` is
compiled in the compiled build, where typed parameters are checked before the body runs
(a str ``size`` would fail with mypyc's ``TypeError`` instead of the ``ValueError`` below
that names the field); this module always runs interpreted.
"""

from __future__ import annotations

from ._values import ValueObject

__all__ = ["PoolConfig"]


class PoolConfig(ValueObject):
    """How the pool of one origin (or the default pool, ``":default"``) is sized and aged,
    for ``TCPConnector(pool_configs={...})``.

    - ``size``: how many connections may be open at once to it.
    - ``max_conn_requests``: a connection serves at most this many requests (None: the
      connector's ``conn_max_requests``).
    - ``max_conn_idle_ms``: an idle keep-alive connection is closed after this many
      milliseconds unused (None: kept until the server closes it).
    """

    __slots__ = ("max_conn_idle_ms", "max_conn_requests", "size")
    _fields = ("size", "max_conn_requests", "max_conn_idle_ms")

    def __init__(
        self,
        size: int = 25,
        max_conn_requests: int | None = None,
        max_conn_idle_ms: int | None = None,
    ) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"PoolConfig.size must be a positive int, not {size!r}")
        if max_conn_requests is not None and (
            isinstance(max_conn_requests, bool)
            or not isinstance(max_conn_requests, int)
            or max_conn_requests < 1
        ):
            raise ValueError(
                f"PoolConfig.max_conn_requests must be a positive int, not {max_conn_requests!r}"
            )
        if max_conn_idle_ms is not None and (
            isinstance(max_conn_idle_ms, bool)
            or not isinstance(max_conn_idle_ms, (int, float))
            or max_conn_idle_ms <= 0
        ):
            raise ValueError(
                f"PoolConfig.max_conn_idle_ms must be positive, not {max_conn_idle_ms!r}"
            )
        self.size = size
        self.max_conn_requests = max_conn_requests
        self.max_conn_idle_ms = max_conn_idle_ms

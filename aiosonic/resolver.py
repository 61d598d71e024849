"""Name resolution: host name to addresses, through a thread pool or aiodns.

Resolvers answer a list of address dicts (``hostname``, ``host``, ``port``, ``family``,
``proto``, ``flags``); the connector caches them (``ttl_dns_cache``) and connects. Any
object with such a ``resolve`` will do (``Resolver``, the protocol); ``close()`` is optional.
This module never opens connections.
"""

from __future__ import annotations

import asyncio
import socket
from functools import partial
from typing import Any, Protocol

__all__ = ["AsyncResolver", "DefaultResolver", "Resolver", "ThreadedResolver"]


class Resolver(Protocol):
    """What ``TCPConnector(resolver=...)`` needs: ``resolve``, which answers the addresses
    of a host as dicts with at least ``host`` (an IP literal), ``port`` and ``family``
    (``hostname``, ``proto`` and ``flags`` as ``ThreadedResolver`` gives them are welcome),
    in the order to try them, and raises ``OSError`` when it cannot.

    The connector asks for both families (``family=socket.AF_UNSPEC``). A resolver may also
    have a ``close()``, plain or async: the client calls (and awaits) it when it closes, and
    does without when there is none.
    """

    async def resolve(
        self, host: str, /, port: int = 0, family: int = socket.AF_INET
    ) -> list[dict[str, Any]]:
        """The addresses of ``host`` for ``port``."""
        ...


def _entry(hostname: str, host: str, port: int, family: int) -> dict[str, Any]:
    return {
        "hostname": hostname,
        "host": host,
        "port": port,
        "family": family,
        "proto": 0,
        "flags": socket.AI_NUMERICHOST,
    }


class ThreadedResolver:
    """Use the event loop's executor for the blocking ``getaddrinfo()`` call."""

    async def resolve(
        self, hostname: str, port: int = 0, family: int = socket.AF_INET
    ) -> list[dict[str, Any]]:
        """Return the addresses of ``hostname`` (IPv4 only unless ``family`` says otherwise)."""
        loop = asyncio.get_running_loop()
        # In the executor, not loop.getaddrinfo: uvloop answers that itself (libuv) and
        # drops the scope id of IPv6 link-local addresses.
        infos = await loop.run_in_executor(
            None, partial(socket.getaddrinfo, hostname, port, family, socket.SOCK_STREAM)
        )
        hosts: list[dict[str, Any]] = []
        seen = set()
        for fam, _, _, _, address in infos:
            if fam == socket.AF_INET6 and len(address) > 3 and address[3]:
                # A scoped link-local address must keep its scope id to be reachable.
                host = f"{address[0]}%{address[3]}"
            else:
                host = str(address[0])
            if (host, fam) not in seen:
                seen.add((host, fam))
                hosts.append(_entry(hostname, host, int(address[1]), fam))
        return hosts

    async def close(self) -> None:
        """Release the resolver (nothing to release for the thread pool)."""


class AsyncResolver:
    """Use the aiodns package (c-ares) for non-blocking DNS lookups.

    Accepts the ``aiodns.DNSResolver`` arguments, e.g. ``nameservers=["192.0.2.53"]``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        try:
            import aiodns
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError(
                "AsyncResolver needs the aiodns package: pip install 'aiosonic[speedups]'"
            ) from exc
        self._resolver = aiodns.DNSResolver(*args, **kwargs)

    async def resolve(
        self, host: str, port: int = 0, family: int = socket.AF_INET
    ) -> list[dict[str, Any]]:
        """Return the addresses of ``host``."""
        try:
            result = await self._resolver.getaddrinfo(
                host, family=socket.AddressFamily(family), port=port, type=socket.SOCK_STREAM
            )
        except Exception as exc:
            raise OSError(f"could not resolve {host!r}: {exc}") from exc
        hosts = []
        for node in result.nodes:
            address = node.addr
            name = address[0].decode() if isinstance(address[0], bytes) else address[0]
            hosts.append(_entry(host, name, int(address[1]), node.family))
        if not hosts:
            raise OSError(f"could not resolve {host!r}: no addresses")
        return hosts

    async def close(self) -> None:
        """Release the resolver."""
        close = getattr(self._resolver, "close", None)
        if close is not None:
            result = close()
            if asyncio.iscoroutine(result):
                await result


DefaultResolver = ThreadedResolver

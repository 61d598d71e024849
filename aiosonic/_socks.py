"""SOCKS proxies: the client handshake as a sans-IO state machine, and the asyncio driver.

It owns three things:

* ``SocksProxy`` / ``parse_socks_url``: where a SOCKS proxy is and how to talk to it
  (``socks5://``, ``socks5h://``, ``socks4://``, ``socks4a://``, ``user:password@``).
* ``Socks5Handshake`` and ``Socks4Handshake``: bytes in, bytes to send back out. No sockets,
  no asyncio; every reply is checked and a refusal or a malformed reply raises ``ProxyError``.
* ``open_socks`` / ``create_socks_connection``: open TCP to the proxy, drive a handshake from
  an ``asyncio.Protocol``, and hand the tunnelled transport to the caller.

It never sends a byte of HTTP, never picks a proxy (``_env_proxy`` does, from the environment)
and never imposes a time limit of its own: the caller wraps the driver in its deadline.

The handshakes (``initial()`` is what we send first; each row is one reply from the proxy)::

    SOCKS5 (RFC 1928, RFC 1929)
      state     we sent                          the reply we wait for       next state
      METHOD    VER=5 NMETHODS METHODS           VER=5 METHOD                AUTH if METHOD=2,
                                                                             CONNECT if 0
      AUTH      VER=1 ULEN UNAME PLEN PASSWD     VER=1 STATUS                CONNECT if 0
      CONNECT   VER=5 CMD=1 RSV ATYP ADDR PORT   VER=5 REP RSV ATYP ADDR PORT  DONE if REP=0

    SOCKS4 / SOCKS4a
      CONNECT   VN=4 CD=1 PORT IP USERID NUL     VN=0 CD PORT IP (8 bytes)   DONE if CD=90
                [4a: IP=0.0.0.1 then HOST NUL]

Any other answer moves to FAILED and raises ``ProxyError``. A proxy only ever answers what
we sent, so bytes beyond the current reply before DONE are a protocol violation; after DONE
they belong to the tunnelled connection and are kept in ``leftover``. Each reply has a
fixed maximum size (262 bytes for a SOCKS5 CONNECT reply), and a reply is decided as soon
as that much has arrived, so the handshake never buffers more than one reply.

``ProxyError.status_code`` carries the SOCKS reply code when the proxy refused
(SOCKS5 ``REP`` 1-8, SOCKS4 ``CD`` 91-93; never in the HTTP range); it is None for a
malformed reply, a failed authentication or a connection closed mid-handshake.
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
import socket
import ssl as _ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, ClassVar, TypeVar, cast
from urllib.parse import unquote, urlsplit

from ._idna import host_to_ascii
from ._url import _normalise_host, redact
from ._values import ValueObject
from .exceptions import ConnectError, InvalidRequest, ProxyError, TLSError, map_oserror

__all__ = [
    "SOCKS_SCHEMES",
    "Resolve",
    "Socks4Handshake",
    "Socks5Handshake",
    "SocksHandshake",
    "SocksProxy",
    "create_socks_connection",
    "open_socks",
    "parse_socks_url",
]

SOCKS_SCHEMES = ("socks5", "socks5h", "socks4", "socks4a")
DEFAULT_PORT = 1080

# ``resolve(host, port)``: the connector's resolver (cached DNS); answers address dicts with
# at least "host" (an IP literal) and "family", like ``aiosonic.resolver``.
Resolve = Callable[[str, int], Awaitable[Sequence[Mapping[str, Any]]]]
# A connected socket to (host, port): the connector's dialing, with its address racing.
Connect = Callable[[str, int], Awaitable[socket.socket]]

_P = TypeVar("_P", bound=asyncio.BaseProtocol)


# --------------------------------------------------------------------------------------------
# The proxy as a value
# --------------------------------------------------------------------------------------------


class SocksProxy(ValueObject):
    """A SOCKS proxy: ``scheme`` (one of ``SOCKS_SCHEMES``), ``host``, ``port`` and optional
    credentials. ``socks5h`` and ``socks4a`` let the proxy resolve host names ("remote DNS");
    ``socks5`` and ``socks4`` resolve them here and send an address. SOCKS4 has a user id
    but no password. Build one from a URL with ``parse_socks_url``."""

    __slots__ = ("host", "password", "port", "scheme", "username")
    _fields = ("scheme", "host", "port", "username", "password")

    def __init__(
        self,
        scheme: str,
        host: str,
        port: int = DEFAULT_PORT,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        if scheme not in SOCKS_SCHEMES:
            raise InvalidRequest(f"not a SOCKS scheme: {scheme!r} (use one of {SOCKS_SCHEMES})")
        if not host:
            raise InvalidRequest("a SOCKS proxy needs a host")
        if not 0 < port < 65536:
            raise InvalidRequest(f"SOCKS proxy port out of range: {port}")
        if scheme.startswith("socks4") and password:
            raise InvalidRequest("SOCKS4 has no passwords (only a user id): use socks5://")
        if password and not username:
            raise InvalidRequest("a SOCKS password needs a user name")
        self.scheme = scheme
        self.host = host
        self.port = port
        self.username = username or None
        self.password = password if self.username is not None else None
        if self.version == 5 and self.username is not None:
            _check_rfc1929_field("user name", self.username)
            _check_rfc1929_field("password", self.password or "")

    @property
    def version(self) -> int:
        """4 or 5."""
        return 5 if self.scheme.startswith("socks5") else 4

    @property
    def remote_dns(self) -> bool:
        """True when the proxy resolves host names (socks5h, socks4a)."""
        return self.scheme in ("socks5h", "socks4a")

    @property
    def address(self) -> str:
        """``host:port`` for messages (never credentials)."""
        return _host_port(self.host, self.port)

    def handshake(self, host: str, port: int) -> SocksHandshake:
        """A fresh handshake asking this proxy for a connection to ``host:port``."""
        if self.version == 5:
            return Socks5Handshake(
                host, port, self.username, self.password, remote_dns=self.remote_dns
            )
        return Socks4Handshake(host, port, self.username or "", remote_dns=self.remote_dns)

    def __repr__(self) -> str:
        auth = ""
        if self.username is not None:
            auth = ", username=***" if self.password is None else ", auth=***"
        return f"SocksProxy({self.scheme}://{self.address}{auth})"


def parse_socks_url(url: str) -> SocksProxy:
    """``socks5h://user:pass@host:port`` -> ``SocksProxy`` (user and password are
    percent-decoded; the port defaults to 1080). Raises ``InvalidRequest`` on a bad URL."""
    if not isinstance(url, str):
        raise InvalidRequest(f"SOCKS proxy URL must be a str, not {type(url).__name__}")
    return _parse_socks_url(url)


@lru_cache(maxsize=64)
def _parse_socks_url(url: str) -> SocksProxy:
    shown = redact(url)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise InvalidRequest(f"invalid SOCKS proxy URL {shown!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in SOCKS_SCHEMES:
        raise InvalidRequest(f"not a SOCKS proxy URL (scheme {scheme!r}): {shown!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidRequest(f"a SOCKS proxy URL has no path or query: {shown!r}")
    try:
        host = _normalise_host(parts.hostname or "", url)
    except InvalidRequest as exc:
        raise InvalidRequest(f"invalid SOCKS proxy URL: {exc}") from None
    username = None if parts.username is None else unquote(parts.username)
    password = None if parts.password is None else unquote(parts.password)
    return SocksProxy(scheme, host, DEFAULT_PORT if port is None else port, username, password)


def _check_rfc1929_field(what: str, value: str) -> None:
    size = len(value.encode("utf-8"))
    if size > 255:
        raise InvalidRequest(f"SOCKS5 {what} is longer than 255 bytes")


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _encode_name(host: str) -> bytes:
    """A host name as the proxy should receive it: ASCII (IDNA 2008, ``_idna``), 1-255
    bytes, no NUL. An ASCII name goes as it is, case kept (URL hosts come lowercased)."""
    try:
        name = host.encode("ascii") if host.isascii() else host_to_ascii(host).encode("ascii")
    except UnicodeError:
        raise InvalidRequest(f"host name cannot be sent to a SOCKS proxy: {host!r}") from None
    if not 0 < len(name) < 256 or b"\0" in name:
        raise InvalidRequest(f"host name cannot be sent to a SOCKS proxy: {host!r}")
    return name


def _port_bytes(port: int) -> bytes:
    if not isinstance(port, int) or not 0 < port < 65536:
        raise InvalidRequest(f"port out of range for a SOCKS proxy: {port!r}")
    return port.to_bytes(2, "big")


# --------------------------------------------------------------------------------------------
# The sans-IO handshakes
# --------------------------------------------------------------------------------------------


class State(enum.Enum):
    IDLE = "idle"  # initial() not called yet
    METHOD = "method"  # SOCKS5: waiting for the method selection
    AUTH = "auth"  # SOCKS5: waiting for the user name / password verdict
    CONNECT = "connect"  # waiting for the answer to CONNECT
    DONE = "done"  # the tunnel is open
    FAILED = "failed"


# What the proxy is doing when it stops answering, for the error message.
_WAITING_FOR = {
    State.METHOD: "its authentication method",
    State.AUTH: "the authentication result",
    State.CONNECT: "the answer to CONNECT",
}

_SOCKS5_REPLIES = {
    1: "general SOCKS server failure",
    2: "connection not allowed by ruleset",
    3: "network unreachable",
    4: "host unreachable",
    5: "connection refused by destination host",
    6: "TTL expired",
    7: "command not supported",
    8: "address type not supported",
}

_SOCKS4_REPLIES = {
    91: "request rejected or failed",
    92: "request rejected: the proxy cannot reach identd on the client",
    93: "request rejected: identd reports a different user id",
}

# A parser looks at the buffered reply; it answers None while the reply is incomplete, or
# (its length, the bytes to send next), having moved ``state`` on. It raises ProxyError.
_Parsed = tuple[int, bytes] | None


class SocksHandshake:
    """Common driver of both handshakes: buffering, leftover bytes, failure.

    ``initial()`` gives the first bytes to send. Feed every byte received to
    ``receive(data)``, send what it returns; when ``done`` is true the tunnel is open and
    ``leftover`` holds bytes that arrived after the proxy's last reply. If the proxy closes
    the connection first, ``connection_closed()`` is the error to raise.
    """

    version: ClassVar[int]
    _parsers: ClassVar[Mapping[State, Callable[[Any, bytes], _Parsed]]]

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.state = State.IDLE
        self.leftover = b""
        self._buffer = b""
        self._error: ProxyError | None = None
        self._first = b""  # set by subclasses: what initial() sends
        self._after_initial = State.CONNECT

    @property
    def done(self) -> bool:
        return self.state is State.DONE

    @property
    def target(self) -> str:
        return _host_port(self.host, self.port)

    def initial(self) -> bytes:
        """The first message to send to the proxy (once)."""
        if self.state is not State.IDLE:
            raise RuntimeError("initial() was already called")
        self.state = self._after_initial
        return self._first

    def receive(self, data: bytes) -> bytes:
        """Take bytes from the proxy; answer the bytes to send next (often b"")."""
        if self.state is State.DONE:
            self.leftover += data
            return b""
        if self.state is State.FAILED:
            assert self._error is not None
            raise self._error
        if self.state is State.IDLE:
            raise RuntimeError("receive() before initial()")
        buffer = self._buffer + data
        try:
            parsed = self._parsers[self.state](self, buffer)
        except ProxyError as exc:
            raise self._fail(exc) from None
        if parsed is None:
            self._buffer = buffer
            return b""
        used, to_send = parsed
        self._buffer = b""
        if self.done:  # the parser moved the state on
            self.leftover = buffer[used:]
        elif len(buffer) > used:
            raise self._fail(
                self._violation(f"sent {len(buffer) - used} bytes more than its reply")
            )
        return to_send

    def connection_closed(self, reason: str = "") -> ProxyError:
        """The error for a proxy that closed (or reset: ``reason``) the connection before
        the handshake ended."""
        if self.state is State.FAILED and self._error is not None:
            return self._error
        waiting = _WAITING_FOR.get(self.state, "the handshake to begin")
        got = f" ({len(self._buffer)} bytes of it arrived)" if self._buffer else ""
        return self._fail(
            ProxyError(
                f"SOCKS{self.version} proxy closed the connection to {self.target} "
                f"before sending {waiting}{got}{': ' + reason if reason else ''}"
            )
        )

    def _fail(self, error: ProxyError) -> ProxyError:
        self.state = State.FAILED
        self._error = error
        self._buffer = b""
        return error

    def _violation(self, what: str) -> ProxyError:
        return ProxyError(f"SOCKS{self.version} proxy {what} (asked for {self.target})")

    def _refused(self, code: int, reason: str) -> ProxyError:
        return ProxyError(
            f"SOCKS{self.version} proxy refused the connection to {self.target}: "
            f"{reason} (reply code {code})",
            code,
        )


class Socks5Handshake(SocksHandshake):
    """SOCKS5 CONNECT (RFC 1928) with no authentication or user name / password (RFC 1929).

    ``remote_dns=True`` (socks5h) sends a host name for the proxy to resolve; with
    ``remote_dns=False`` (socks5) ``host`` must already be an IP address.
    """

    version = 5

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        remote_dns: bool = True,
    ) -> None:
        super().__init__(host, port)
        ip = _ip(host)
        if ip is None:
            if not remote_dns:
                raise InvalidRequest(
                    f"socks5:// resolves names locally: pass an IP address, not {host!r} "
                    "(or use socks5h:// to let the proxy resolve it)"
                )
            name = _encode_name(host)
            address = b"\x03" + bytes([len(name)]) + name
        else:
            address = (b"\x01" if ip.version == 4 else b"\x04") + ip.packed
        self._request = b"\x05\x01\x00" + address + _port_bytes(port)
        self._auth = b""
        methods = b"\x00"
        if username:
            user = username.encode("utf-8")
            secret = (password or "").encode("utf-8")
            if len(user) > 255 or len(secret) > 255:
                raise InvalidRequest("SOCKS5 user name and password are at most 255 bytes each")
            self._auth = b"\x01" + bytes([len(user)]) + user + bytes([len(secret)]) + secret
            methods = b"\x00\x02"
        self._first = b"\x05" + bytes([len(methods)]) + methods
        self._after_initial = State.METHOD

    def _on_method(self, buffer: bytes) -> _Parsed:
        if buffer[:1] and buffer[0] != 5:
            raise self._violation(f"is not a SOCKS5 proxy (its reply begins {buffer[:8]!r})")
        if len(buffer) < 2:
            return None
        method = buffer[1]
        if method == 0x00:
            self.state = State.CONNECT
            return 2, self._request
        if method == 0x02 and self._auth:
            self.state = State.AUTH
            return 2, self._auth
        if method == 0xFF:
            hint = "" if self._auth else " (does it need a user name and password?)"
            raise self._violation(f"accepts none of our authentication methods{hint}")
        raise self._violation(f"chose authentication method {method}, which we did not offer")

    def _on_auth(self, buffer: bytes) -> _Parsed:
        # RFC 1929 says VER=1; some servers echo the SOCKS version 5 instead: accept both.
        if buffer[:1] and buffer[0] not in (1, 5):
            raise self._violation(f"sent a malformed authentication reply {buffer[:8]!r}")
        if len(buffer) < 2:
            return None
        if buffer[1] != 0:
            raise self._violation("rejected the user name and password: authentication failed")
        self.state = State.CONNECT
        return 2, self._request

    def _on_connect(self, buffer: bytes) -> _Parsed:
        if buffer[:1] and buffer[0] != 5:
            raise self._violation(f"sent a malformed reply to CONNECT {buffer[:8]!r}")
        if len(buffer) < 2:
            return None
        code = buffer[1]
        if code != 0:
            raise self._refused(code, _SOCKS5_REPLIES.get(code, "unknown reply code"))
        if len(buffer) < 5:
            return None
        # VER REP RSV ATYP, then the bound address (RSV is not checked: some proxies fill it)
        atyp = buffer[3]
        if atyp == 1:
            size = 4 + 4 + 2
        elif atyp == 4:
            size = 4 + 16 + 2
        elif atyp == 3:
            size = 4 + 1 + buffer[4] + 2
        else:
            raise self._violation(f"sent an unknown address type {atyp} in its reply")
        if len(buffer) < size:
            return None
        self.state = State.DONE
        return size, b""

    _parsers = {
        State.METHOD: _on_method,
        State.AUTH: _on_auth,
        State.CONNECT: _on_connect,
    }


class Socks4Handshake(SocksHandshake):
    """SOCKS4 CONNECT with a user id; SOCKS4a when ``host`` is a name and ``remote_dns``.

    SOCKS4 reaches IPv4 addresses only: without ``remote_dns`` a host name or an IPv6
    address is refused here (``InvalidRequest``).
    """

    version = 4

    def __init__(self, host: str, port: int, user_id: str = "", remote_dns: bool = True) -> None:
        super().__init__(host, port)
        user = user_id.encode("utf-8")
        if b"\0" in user:
            raise InvalidRequest("a SOCKS4 user id cannot contain NUL")
        ip = _ip(host)
        head = b"\x04\x01" + _port_bytes(port)
        if ip is not None and ip.version == 4:
            self._first = head + ip.packed + user + b"\0"
        elif remote_dns:
            # SOCKS4a: an invalid address 0.0.0.x (x != 0) says "the name follows"
            name = _encode_name(str(ip) if ip is not None else host)
            self._first = head + b"\0\0\0\x01" + user + b"\0" + name + b"\0"
        else:
            raise InvalidRequest(
                f"socks4:// reaches IPv4 addresses only, not {host!r} "
                "(use socks4a:// or socks5h:// to let the proxy resolve names)"
            )

    def _on_connect(self, buffer: bytes) -> _Parsed:
        # VN is 0 in the protocol; some servers put 4 there: accept both.
        if buffer[:1] and buffer[0] not in (0, 4):
            raise self._violation(f"is not a SOCKS4 proxy (its reply begins {buffer[:8]!r})")
        if len(buffer) < 2:
            return None
        code = buffer[1]
        if code != 90:
            raise self._refused(code, _SOCKS4_REPLIES.get(code, "unknown reply code"))
        if len(buffer) < 8:
            return None
        self.state = State.DONE
        return 8, b""

    _parsers = {State.CONNECT: _on_connect}


# --------------------------------------------------------------------------------------------
# The asyncio driver
# --------------------------------------------------------------------------------------------


class _HandshakeProtocol(asyncio.Protocol):
    """Runs one handshake on the proxy connection; ``finished`` resolves when it ends.

    Reading is paused the moment the handshake is done, so every later byte stays in the
    transport until the caller's protocol takes over.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, handshake: SocksHandshake) -> None:
        self.handshake = handshake
        self.finished: asyncio.Future[None] = loop.create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not inherit from asyncio.Transport: no isinstance check
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self.handshake.initial())

    def data_received(self, data: bytes) -> None:
        if self.finished.done():
            return  # failed or cancelled: the transport is being closed
        try:
            reply = self.handshake.receive(data)
        except ProxyError as exc:
            self.finished.set_exception(exc)
            return
        assert self.transport is not None
        if reply:
            self.transport.write(reply)
        if self.handshake.done:
            self.transport.pause_reading()
            self.finished.set_result(None)

    def eof_received(self) -> bool:
        if not self.finished.done():
            self.finished.set_exception(self.handshake.connection_closed())
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.finished.done():
            return
        reason = (exc.strerror or str(exc)) if isinstance(exc, OSError) else ""
        self.finished.set_exception(self.handshake.connection_closed(reason))


async def _target_address(
    loop: asyncio.AbstractEventLoop,
    proxy: SocksProxy,
    host: str,
    port: int,
    resolve: Resolve | None,
) -> str:
    """The address to put in the request: the host itself for remote DNS or an IP
    literal, else the first address (IPv4 for SOCKS4) that our own resolution gives."""
    if proxy.remote_dns or _ip(host) is not None:
        return host
    want = socket.AF_INET if proxy.version == 4 else None
    try:
        if resolve is not None:
            found = [(a["family"], str(a["host"])) for a in await resolve(host, port)]
        else:
            infos = await loop.getaddrinfo(
                host, port, type=socket.SOCK_STREAM, family=want or socket.AF_UNSPEC
            )
            found = [(family, str(address[0])) for family, _, _, _, address in infos]
    except OSError as exc:
        raise ConnectError(f"cannot resolve host {host!r}: {exc.strerror or exc}") from exc
    for family, address in found:
        if want is None or family == want:
            return address.partition("%")[0]  # a scope id means nothing to the proxy
    kind = "IPv4 address (SOCKS4 needs one)" if want else "address"
    raise ConnectError(f"cannot resolve host {host!r}: no {kind}")


async def _connect_proxy(
    loop: asyncio.AbstractEventLoop,
    proxy: SocksProxy,
    factory: Callable[[], _HandshakeProtocol],
    family: int,
    resolve: Resolve | None,
    connect: Connect | None,
) -> tuple[asyncio.Transport, _HandshakeProtocol]:
    what = f"cannot connect to SOCKS proxy {proxy.address}"
    if connect is not None and not family:
        sock = await connect(proxy.host, proxy.port)
        try:
            return await loop.create_connection(factory, sock=sock)
        except OSError as exc:
            raise map_oserror(exc, what) from exc
    candidates: list[tuple[str, int]] = [(proxy.host, family)]
    if resolve is not None and _ip(proxy.host) is None:
        candidates = [
            (str(a["host"]), int(a["family"]))
            for a in await resolve(proxy.host, proxy.port)
            if not family or a["family"] == family
        ]
        if not candidates:
            raise ConnectError(f"{what}: no address of the requested family")
    error: OSError | None = None
    for address, address_family in candidates:
        try:
            return await loop.create_connection(factory, address, proxy.port, family=address_family)
        except OSError as exc:
            error = exc
    assert error is not None
    raise map_oserror(error, what) from error


async def open_socks(
    loop: asyncio.AbstractEventLoop,
    proxy: SocksProxy,
    target_host: str,
    target_port: int,
    *,
    family: int = 0,
    resolve: Resolve | None = None,
    connect: Connect | None = None,
) -> tuple[asyncio.Transport, bytes]:
    """Connect to ``proxy`` and have it open a tunnel to ``target_host:target_port``.

    Returns ``(transport, leftover)``: the tunnel's transport with reading PAUSED and a
    placeholder protocol, and the bytes the target already sent (almost always b"": an
    HTTP or TLS server speaks only after we do). The caller takes it over with::

        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        if leftover:
            protocol.data_received(leftover)
        transport.resume_reading()

    or starts TLS inside the tunnel with ``tls = await loop.start_tls(transport, protocol,
    context, server_hostname=target_host)`` (which resumes reading itself but, unlike
    ``create_connection``, never calls ``protocol.connection_made``: call it with ``tls``,
    and raise instead if ``leftover`` is not empty). ``create_socks_connection`` does
    either. From then on the caller owns the transport and closes it.

    ``family`` restricts the address family used to reach the proxy; ``resolve`` (the
    connector's cached resolver) resolves the proxy's host name and, for socks5/socks4,
    the target's; without it the loop's ``getaddrinfo`` is used. ``connect`` (the
    connector's dialing, which races the proxy's addresses) reaches the proxy when given
    and no ``family`` is asked; otherwise its addresses are tried one after another.

    Raises ``ConnectError`` (or ``ConnectTimeout``) when the proxy cannot be reached,
    ``ProxyError`` when it refuses or misbehaves, ``InvalidRequest`` for a target it
    cannot be asked for. No time limit of its own: cancel it (the caller's deadline)
    and the proxy connection is closed. On any failure nothing is left open.
    """
    address = await _target_address(loop, proxy, target_host, target_port, resolve)
    handshake = proxy.handshake(address, target_port)
    if address != target_host:
        handshake.host = target_host  # messages name what the caller asked for
    transport, protocol = await _connect_proxy(
        loop, proxy, lambda: _HandshakeProtocol(loop, handshake), family, resolve, connect
    )
    finished = protocol.finished
    try:
        await finished
    except BaseException:
        transport.abort()
        if finished.done() and not finished.cancelled():
            finished.exception()  # cancelled just as it failed: retrieved, never logged
        raise
    return transport, handshake.leftover


def _feed(protocol: asyncio.BaseProtocol, data: bytes) -> None:
    """Deliver bytes to a protocol the way the loop would (plain or buffered)."""
    if isinstance(protocol, asyncio.BufferedProtocol):
        view = memoryview(data)
        while view:
            buffer = memoryview(protocol.get_buffer(len(view)))
            size = min(len(buffer), len(view))
            if not size:
                raise RuntimeError("get_buffer() returned an empty buffer")
            buffer[:size] = view[:size]
            protocol.buffer_updated(size)
            view = view[size:]
    elif isinstance(protocol, asyncio.Protocol):
        protocol.data_received(data)


async def create_socks_connection(
    loop: asyncio.AbstractEventLoop,
    protocol_factory: Callable[[], _P],
    proxy: SocksProxy,
    host: str,
    port: int,
    *,
    ssl: _ssl.SSLContext | None = None,
    server_hostname: str | None = None,
    family: int = 0,
    resolve: Resolve | None = None,
    connect: Connect | None = None,
) -> tuple[asyncio.Transport, _P]:
    """``loop.create_connection`` through a SOCKS proxy: same arguments, same result.

    With ``ssl``, TLS is started inside the tunnel with the target (SNI and certificate
    checked against ``server_hostname``, default ``host``); TLS failures raise
    ``TLSError``. See ``open_socks`` for everything else.
    """
    transport, leftover = await open_socks(
        loop, proxy, host, port, family=family, resolve=resolve, connect=connect
    )
    try:
        protocol = protocol_factory()
        if ssl is None:
            transport.set_protocol(protocol)
            protocol.connection_made(transport)
            if leftover:
                _feed(protocol, leftover)
            transport.resume_reading()
            return transport, protocol
        if leftover:
            raise TLSError(
                f"{_host_port(host, port)} sent {len(leftover)} bytes through the SOCKS proxy "
                "before the TLS handshake"
            )
        what = f"cannot connect to {_host_port(host, port)} through SOCKS proxy {proxy.address}"
        try:
            tls = await loop.start_tls(
                transport, protocol, ssl, server_hostname=server_hostname or host
            )
        except OSError as exc:
            raise map_oserror(exc, what) from exc
        if tls is None:  # the loop closed meanwhile
            raise ConnectError(f"{what}: the connection closed during the TLS handshake")
        protocol.connection_made(tls)  # start_tls never calls it: the protocol is ours
        return tls, protocol
    except BaseException:
        transport.abort()
        raise

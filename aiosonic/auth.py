"""Authentication: ``Auth`` flows that put credentials on requests, and choosing them.

It owns:

- the ``Auth`` contract, a sans-IO generator: it yields the request to send and is sent
  each response back, so one flow can answer a challenge (``DigestAuth``) without doing I/O;
- ``BasicAuth`` (RFC 7617), ``BearerAuth`` (RFC 6750) and ``DigestAuth`` (RFC 7616, plus the
  RFC 2069 mode without ``qop``), including the digest nonce bookkeeping that concurrent
  requests of one event loop share;
- the parser for ``WWW-Authenticate`` and ``Authentication-Info`` (RFC 9110 section 11);
- where credentials come from: ``auth_from`` (the ``auth=`` argument), ``AuthsByHost`` and
  ``auth_for_host`` (``auths={host: auth}``) and ``netrc_auth`` (``trust_env=True``).

It never touches the network or asyncio. The client sends what a flow yields, discards
the bodies of the responses the flow answers, replays request bodies, and strips
credentials when a redirect leaves the origin; a flow only reads and writes headers.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
from base64 import b64encode
from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

from ._idna import host_to_ascii
from .exceptions import AiosonicError, InvalidRequest

if TYPE_CHECKING:
    from netrc import netrc as Netrc

    from .request import Request
    from .response import HttpResponse

__all__ = [
    "Auth",
    "AuthError",
    "AuthLike",
    "AuthsByHost",
    "BasicAuth",
    "BearerAuth",
    "Challenge",
    "DigestAuth",
    "auth_for_host",
    "auth_from",
    "netrc_auth",
    "parse_auth_params",
    "parse_www_authenticate",
]


class AuthError(AiosonicError):
    """A server's authentication challenge cannot be answered: a malformed
    ``WWW-Authenticate`` header, or Digest challenges that all lack a nonce or realm or ask
    only for algorithms or ``qop`` values this client does not implement."""


# ============================================================================ the contract


class Auth:
    """Base class of every authentication scheme; subclass it to write your own.

    ``auth_flow`` is a generator that does no I/O. It sets headers on the request and
    yields it; the client sends it and passes the response back in with ``.send()``.
    Yielding again asks for another attempt (the client discards the previous response's
    body first and sends the request body again); returning hands the last response to
    the caller.
    """

    #: The flow reads the request body (``qop=auth-int`` would); none of ours does.
    requires_body: bool = False

    def auth_flow(self, request: Request) -> Generator[Request, HttpResponse, None]:
        """Send ``request`` once, unchanged (subclasses add their credentials)."""
        yield request


# ============================================================================ challenge parsing


class Challenge(NamedTuple):
    """One challenge of a ``WWW-Authenticate`` header.

    - ``scheme``: the authentication scheme, lower-cased (``"digest"``, ``"basic"``).
    - ``params``: the auth-params, names lower-cased, quoted values unescaped.
    - ``token68``: the single token of schemes such as ``Negotiate``, else None.
    """

    scheme: str
    params: Mapping[str, str]
    token68: str | None = None


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# A param value without quotes: a token, leniently with the "/" and trailing "=" that
# servers put in unquoted base64 nonces.
_BARE_VALUE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z/]+=*")
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_OWS = re.compile(r"[ \t]*")
_SEPARATORS = re.compile(r"[ \t,]*")
# qdtext and quoted-pair: anything but controls (HTAB aside), '"' and '\' unless escaped.
_QUOTED = re.compile(r'"((?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[^\x00-\x08\x0a-\x1f\x7f])*)"')
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)


def _skip(pattern: re.Pattern[str], value: str, pos: int) -> int:
    """Where a run of ``pattern`` (spaces, or spaces and commas) starting at ``pos`` ends."""
    match = pattern.match(value, pos)
    return pos if match is None else match.end()


def _malformed(value: str, pos: int, why: str, header: str) -> AuthError:
    shown = value if len(value) <= 200 else value[:200] + "..."
    return AuthError(f"malformed {header} header at position {pos}: {why}: {shown!r}")


def _is_param_start(value: str, pos: int) -> bool:
    """Whether ``token BWS "="`` starts at ``pos`` (a param rather than a new challenge)."""
    name = _TOKEN.match(value, pos)
    if name is None:
        return False
    after = _skip(_OWS, value, name.end())
    return after < len(value) and value[after] == "="


def _parse_params(value: str, pos: int, header: str) -> tuple[dict[str, str], int]:
    """Parse ``#auth-param`` from ``pos``; stop at the end or where a new challenge starts."""
    params: dict[str, str] = {}
    end = len(value)
    while True:
        name_match = _TOKEN.match(value, pos)
        if name_match is None:
            raise _malformed(value, pos, "expected a parameter name", header)
        name = name_match.group().lower()
        pos = _skip(_OWS, value, name_match.end())
        if pos >= end or value[pos] != "=":
            raise _malformed(value, pos, f"expected '=' after {name!r}", header)
        pos = _skip(_OWS, value, pos + 1)
        if pos < end and value[pos] == '"':
            quoted = _QUOTED.match(value, pos)
            if quoted is None:
                raise _malformed(
                    value, pos, "unterminated quoted string or a control character in it", header
                )
            param = _QUOTED_PAIR.sub(r"\1", quoted.group(1))
            pos = quoted.end()
        else:
            bare = _BARE_VALUE.match(value, pos)
            if bare is None:
                raise _malformed(value, pos, f"expected a value for {name!r}", header)
            param = bare.group()
            pos = bare.end()
        if name in params:
            raise _malformed(value, pos, f"parameter {name!r} given twice", header)
        params[name] = param
        pos = _skip(_OWS, value, pos)
        if pos >= end:
            return params, pos
        if value[pos] != ",":
            raise _malformed(value, pos, "expected ',' after a parameter", header)
        pos = _skip(_SEPARATORS, value, pos)
        if pos >= end or not _is_param_start(value, pos):
            return params, pos


def parse_www_authenticate(value: str) -> list[Challenge]:
    """Every challenge in one ``WWW-Authenticate`` (or ``Proxy-Authenticate``) value.

    Handles several challenges in one value, quoted strings with escapes and commas, empty
    list elements and any case of scheme and parameter names. Raises ``AuthError`` saying
    where and why when the value does not follow RFC 9110 section 11.
    """
    header = "WWW-Authenticate"
    challenges: list[Challenge] = []
    end = len(value)
    pos = _skip(_SEPARATORS, value, 0)
    while pos < end:
        scheme_match = _TOKEN.match(value, pos)
        if scheme_match is None:
            raise _malformed(value, pos, "expected an authentication scheme", header)
        scheme = scheme_match.group().lower()
        pos = scheme_match.end()
        gap = _skip(_OWS, value, pos)
        if gap >= end or value[gap] == ",":
            # No parameters right after the scheme; after empty list elements a parameter
            # still belongs to it (a new challenge never starts with "name=").
            pos = _skip(_SEPARATORS, value, gap)
            if pos < end and _is_param_start(value, pos):
                params, pos = _parse_params(value, pos, header)
                challenges.append(Challenge(scheme, params))
            else:
                challenges.append(Challenge(scheme, {}))
            continue
        if gap == pos:
            raise _malformed(value, pos, "expected a space after the scheme", header)
        pos = gap
        token68 = _TOKEN68.match(value, pos)
        if token68 is not None:
            after = _skip(_OWS, value, token68.end())
            if after >= end or value[after] == ",":
                challenges.append(Challenge(scheme, {}, token68.group()))
                pos = _skip(_SEPARATORS, value, after)
                continue
        params, pos = _parse_params(value, pos, header)
        challenges.append(Challenge(scheme, params))
    return challenges


def parse_auth_params(value: str, header: str = "Authentication-Info") -> dict[str, str]:
    """The ``#auth-param`` list of a header such as ``Authentication-Info`` (RFC 7615).

    Raises ``AuthError`` when the value is malformed or holds anything but parameters.
    """
    pos = _skip(_SEPARATORS, value, 0)
    if pos >= len(value):
        return {}
    params, pos = _parse_params(value, pos, header)
    if pos < len(value):
        raise _malformed(value, pos, "expected a parameter", header)
    return params


def _challenges(response: HttpResponse) -> list[Challenge]:
    found: list[Challenge] = []
    for value in response.headers.getall("WWW-Authenticate"):
        found.extend(parse_www_authenticate(value))
    return found


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _printable_ascii(text: str) -> bool:
    return all("\x20" <= ch <= "\x7e" for ch in text)


# ============================================================================ Basic, Bearer


class BasicAuth(Auth):
    """HTTP Basic authentication (RFC 7617): ``Authorization: Basic base64(login:password)``.

    ``encoding`` turns the credentials into bytes: ``"latin-1"`` (the historical default)
    or ``"utf-8"`` (what RFC 7617's ``charset="UTF-8"`` asks for), or any text codec.
    Raises ``InvalidRequest`` if ``login`` contains ``":"`` or the credentials cannot be
    encoded. Credentials go over the wire in clear text: use https.
    """

    def __init__(self, login: str, password: str = "", encoding: str = "latin-1") -> None:
        if not isinstance(login, str) or not isinstance(password, str):
            raise InvalidRequest("BasicAuth login and password must be str")
        if ":" in login:
            raise InvalidRequest("BasicAuth login must not contain ':' (RFC 7617)")
        try:
            codecs.lookup(encoding)
            raw = f"{login}:{password}".encode(encoding)
        except LookupError:
            raise InvalidRequest(f"BasicAuth: unknown text encoding {encoding!r}") from None
        except UnicodeEncodeError:
            raise InvalidRequest(
                f"BasicAuth credentials cannot be encoded as {encoding}; pass encoding='utf-8'"
            ) from None
        self._login = login
        self._password = password
        self._encoding = encoding
        self._header = "Basic " + b64encode(raw).decode("ascii")

    @property
    def login(self) -> str:
        return self._login

    @property
    def password(self) -> str:
        return self._password

    @property
    def encoding(self) -> str:
        return self._encoding

    @property
    def header_value(self) -> str:
        """The ``Authorization`` header value this sends."""
        return self._header

    def auth_flow(self, request: Request) -> Generator[Request, HttpResponse, None]:
        """Set ``Authorization: Basic ...`` and send the request once."""
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return f"BasicAuth(login={self._login!r}, password=***, encoding={self._encoding!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BasicAuth):
            return NotImplemented
        return self._header == other._header

    def __hash__(self) -> int:
        return hash(self._header)


class BearerAuth(Auth):
    """Bearer token authentication (RFC 6750): ``Authorization: Bearer <token>``.

    Raises ``InvalidRequest`` for an empty token or one with spaces or control characters
    (which could not be sent in a header).
    """

    def __init__(self, token: str) -> None:
        if not isinstance(token, str) or not token:
            raise InvalidRequest("BearerAuth token must be a non-empty str")
        if not all("\x21" <= ch <= "\x7e" for ch in token):
            raise InvalidRequest("BearerAuth token must be printable ASCII without spaces")
        self._token = token
        self._header = "Bearer " + token

    @property
    def token(self) -> str:
        return self._token

    def auth_flow(self, request: Request) -> Generator[Request, HttpResponse, None]:
        """Set ``Authorization: Bearer ...`` and send the request once."""
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(token=***)"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BearerAuth):
            return NotImplemented
        return self._token == other._token

    def __hash__(self) -> int:
        return hash(self._header)


# ============================================================================ Digest

# Algorithm name (upper case, without -sess) -> hashlib name.
_DIGEST_HASHES = {"MD5": "md5", "SHA-256": "sha256"}
if "sha512_256" in hashlib.algorithms_available:
    try:
        hashlib.new("sha512_256")
        _DIGEST_HASHES["SHA-512-256"] = "sha512_256"
    except ValueError:  # listed but refused by this OpenSSL build
        pass

# Remembered nonces (one per origin) a DigestAuth keeps at most.
_MAX_ORIGINS = 256


class _DigestChallenge(NamedTuple):
    """A usable Digest challenge, validated."""

    realm: str
    nonce: str
    algorithm: str | None  # as the server spelled it; None when absent (MD5)
    hash_name: str
    sess: bool
    qop: str | None  # "auth", or None for the RFC 2069 mode
    opaque: str | None
    userhash: bool
    stale: bool

    @classmethod
    def parse(cls, challenge: Challenge) -> _DigestChallenge | str:
        """The challenge, or why it cannot be answered."""
        params = challenge.params
        nonce = params.get("nonce")
        realm = params.get("realm")
        if nonce is None or realm is None:
            return "a Digest challenge without " + ("nonce" if nonce is None else "realm")
        algorithm = params.get("algorithm")
        name = (algorithm or "MD5").upper()
        sess = name.endswith("-SESS")
        hash_name = _DIGEST_HASHES.get(name[:-5] if sess else name)
        if hash_name is None:
            return f"unsupported Digest algorithm {algorithm!r}"
        qop: str | None = None
        offered = params.get("qop")
        if offered is not None and offered.strip(" \t,"):
            options = [item.strip().lower() for item in offered.split(",")]
            if "auth" not in options:
                return f"unsupported Digest qop {offered!r} (only 'auth' is implemented)"
            qop = "auth"
        if sess and qop is None:
            return f"Digest algorithm {algorithm!r} without qop"
        return cls(
            realm=realm,
            nonce=nonce,
            algorithm=algorithm,
            hash_name=hash_name,
            sess=sess,
            qop=qop,
            opaque=params.get("opaque"),
            userhash=params.get("userhash", "").lower() == "true",
            stale=params.get("stale", "").lower() == "true",
        )

    def credentials(
        self, username: str, password: str, method: str, uri: str, nc: int, cnonce: str
    ) -> str:
        """The ``Authorization`` header value answering this challenge (RFC 7616 3.4)."""

        def digest(text: str) -> str:
            return hashlib.new(self.hash_name, text.encode("utf-8")).hexdigest()

        ha1 = digest(f"{username}:{self.realm}:{password}")
        if self.sess:
            ha1 = digest(f"{ha1}:{self.nonce}:{cnonce}")
        ha2 = digest(f"{method}:{uri}")
        if self.qop is None:
            response = digest(f"{ha1}:{self.nonce}:{ha2}")
        else:
            response = digest(f"{ha1}:{self.nonce}:{nc:08x}:{cnonce}:{self.qop}:{ha2}")

        if self.userhash:
            user = "username=" + _quoted(digest(f"{username}:{self.realm}"))
        elif _printable_ascii(username):
            user = "username=" + _quoted(username)
        else:  # RFC 7616 3.4.4: anything else goes in the RFC 5987 extended form
            user = "username*=UTF-8''" + quote(username, safe="")
        parts = [
            user,
            "realm=" + _quoted(self.realm),
            "nonce=" + _quoted(self.nonce),
            "uri=" + _quoted(uri),
        ]
        if self.algorithm is not None:
            parts.append("algorithm=" + self.algorithm)
        if self.qop is not None:
            parts += [f"qop={self.qop}", f"nc={nc:08x}", "cnonce=" + _quoted(cnonce)]
        parts.append("response=" + _quoted(response))
        if self.opaque is not None:
            parts.append("opaque=" + _quoted(self.opaque))
        if self.userhash:
            parts.append("userhash=true")
        return "Digest " + ", ".join(parts)


class _NonceState:
    """One nonce in use and how many requests have counted on it (the nc value).

    Flows hold on to the state they used, so a flow still answering an older nonce keeps
    counting on it after a newer nonce has replaced it for new requests.
    """

    __slots__ = ("challenge", "count")

    def __init__(self, challenge: _DigestChallenge) -> None:
        self.challenge = challenge
        self.count = 0

    def next_count(self) -> int:
        # Only ever called between yields, so on one event loop it is never interleaved.
        self.count += 1
        return self.count


def _random_cnonce() -> str:
    return os.urandom(16).hex()


class DigestAuth(Auth):
    """HTTP Digest authentication (RFC 7616; RFC 2617 and RFC 2069 servers too).

    Supports the algorithms MD5, MD5-sess, SHA-256, SHA-256-sess and, when hashlib has
    it, SHA-512-256(-sess); ``qop=auth`` (chosen when a server offers ``auth,auth-int``)
    or no qop; ``opaque``; ``userhash``; UTF-8 user names (``username*``).

    The first request to a server goes without credentials; the 401 challenge is answered
    with one retry. The challenge is then remembered per origin, so later requests to the
    same server carry credentials at once (the nonce count incremented), with no 401 round
    trip. When the server says ``stale=true`` the request is retried once with the fresh
    nonce; any other 401 after an answered challenge (a wrong password) is returned to the
    caller. ``Authentication-Info: nextnonce=...`` is honoured.

    One instance may serve many concurrent requests of one event loop. ``cnonce_factory``
    replaces the random client nonce (for tests against known values). Raises
    ``AuthError`` when a server's Digest challenges are malformed or cannot be answered.
    """

    def __init__(
        self,
        username: str,
        password: str,
        *,
        cnonce_factory: Callable[[], str] | None = None,
    ) -> None:
        if not isinstance(username, str) or not isinstance(password, str):
            raise InvalidRequest("DigestAuth username and password must be str")
        self._username = username
        self._password = password
        self._cnonce = cnonce_factory or _random_cnonce
        # origin (scheme, host, port) -> the nonce to pre-authenticate new requests with
        self._states: dict[tuple[str, str, int], _NonceState] = {}

    @property
    def username(self) -> str:
        return self._username

    def __repr__(self) -> str:
        return f"DigestAuth(username={self._username!r}, password=***)"

    def auth_flow(self, request: Request) -> Generator[Request, HttpResponse, None]:
        """Send the request, answering the server's Digest challenge (see the class doc)."""
        url = request.parsed_url()
        origin = url.origin
        state = self._states.get(origin)
        if state is not None:
            self._authorize(request, url.target, state)
        # Whether the attempt in flight answers a challenge this flow received (rather than
        # going bare or pre-authenticated with a remembered nonce), and whether the one
        # retry a stale nonce earns has been spent: together they bound the attempts at 3.
        answered = False
        stale_retried = False
        response = yield request
        while response.status_code == 401:
            challenge = self._choose(response)
            if challenge is None:
                return
            if answered:
                if not challenge.stale or stale_retried:
                    return
                stale_retried = True
            state = self._remember(origin, challenge, state)
            self._authorize(request, url.target, state)
            answered = True
            response = yield request
        if state is not None:
            self._follow_next_nonce(origin, state, response)

    def _authorize(self, request: Request, uri: str, state: _NonceState) -> None:
        challenge = state.challenge
        nc = state.next_count() if challenge.qop is not None else 0
        request.headers["Authorization"] = challenge.credentials(
            self._username, self._password, request.method, uri, nc, self._cnonce()
        )

    @staticmethod
    def _choose(response: HttpResponse) -> _DigestChallenge | None:
        """The first Digest challenge we can answer (servers list them most preferred
        first); None when the response has no Digest challenge at all."""
        problems: list[str] = []
        for challenge in _challenges(response):
            if challenge.scheme != "digest":
                continue
            parsed = _DigestChallenge.parse(challenge)
            if isinstance(parsed, _DigestChallenge):
                return parsed
            problems.append(parsed)
        if problems:
            raise AuthError("cannot answer the server's Digest challenge: " + "; ".join(problems))
        return None

    def _remember(
        self,
        origin: tuple[str, str, int],
        challenge: _DigestChallenge,
        previous: _NonceState | None,
    ) -> _NonceState:
        """The state to answer ``challenge`` with, now also the origin's current one.

        A nonce already in use (the origin's current one, or the one this flow used) keeps
        its count: the server has seen those counts and would take a repeat as a replay.
        """
        for known in (self._states.get(origin), previous):
            if known is not None and known.challenge.nonce == challenge.nonce:
                known.challenge = challenge
                state = known
                break
        else:
            state = _NonceState(challenge)
        self._states.pop(origin, None)
        if len(self._states) >= _MAX_ORIGINS:
            del self._states[next(iter(self._states))]
        self._states[origin] = state
        return state

    def _follow_next_nonce(
        self, origin: tuple[str, str, int], state: _NonceState, response: HttpResponse
    ) -> None:
        info = response.headers.get("Authentication-Info")
        if info is None:
            return
        try:
            next_nonce = parse_auth_params(info).get("nextnonce")
        except AuthError:
            return  # an optional hint on a response that succeeded: not worth failing it
        if next_nonce and self._states.get(origin) is state:
            challenge = state.challenge._replace(nonce=next_nonce, stale=False)
            self._states[origin] = _NonceState(challenge)


# ============================================================================ choosing credentials

#: What ``auth=`` accepts: an ``Auth``, a ``(user, password)`` tuple for Basic, or None.
AuthLike = Auth | tuple[str, str] | None


def auth_from(value: Any) -> Auth | None:
    """Coerce an ``auth=`` argument: None, an ``Auth``, or ``(user, password)`` (Basic).

    Anything else raises ``InvalidRequest`` (the message names the type, never the value,
    which may be a secret).
    """
    if value is None or isinstance(value, Auth):
        return value
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], str)
    ):
        return BasicAuth(value[0], value[1])
    raise InvalidRequest(
        "auth must be an aiosonic Auth (BasicAuth, BearerAuth, DigestAuth...), a "
        f"(user, password) tuple of str, or None; got {type(value).__name__}"
    )


def _normalise_host(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host_to_ascii(host)  # IDNA 2008 (``_idna``); raises a UnicodeError


def _host_key(key: Any) -> tuple[str, int | None]:
    """``"host"``, ``"host:port"``, ``"[v6]"``, ``"[v6]:port"`` or a bare IPv6 address."""
    if not isinstance(key, str):
        raise InvalidRequest(f"auths keys must be str, not {type(key).__name__}")
    text = key.strip()
    port_text: str | None = None
    if text.startswith("["):
        close = text.find("]")
        if close < 0 or not (close == len(text) - 1 or text[close + 1] == ":"):
            raise InvalidRequest(f"auths key {key!r} is not 'host' or 'host:port'")
        host, port_text = text[1:close], text[close + 2 :] if close < len(text) - 1 else None
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host = text  # a name, or a bare IPv6 address (several colons)
    if not host or any(ch in host for ch in "/@ \t\r\n\\") or "://" in text:
        raise InvalidRequest(f"auths key {key!r} is not 'host' or 'host:port'")
    port: int | None = None
    if port_text is not None:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise InvalidRequest(f"auths key {key!r} has an invalid port")
        port = int(port_text)
    try:
        return _normalise_host(host), port
    except UnicodeError:
        raise InvalidRequest(f"auths key {key!r} is not a valid host name") from None


class AuthsByHost:
    """``auths={host: auth}`` checked once and ready for lookups per request.

    Keys are ``"host"`` (any port) or ``"host:port"`` (that port only, preferred), IPv6
    addresses bracketed or not, names compared case-insensitively. Values are whatever
    ``auth_from`` accepts; None under ``"host:port"`` means no credentials for that port
    even when ``"host"`` has some. Raises ``InvalidRequest`` for a bad key or value.
    """

    __slots__ = ("_by_host", "_by_host_port")

    def __init__(self, auths: Mapping[str, AuthLike]) -> None:
        if not isinstance(auths, Mapping):
            raise InvalidRequest(f"auths must be a mapping, not {type(auths).__name__}")
        self._by_host: dict[str, Auth | None] = {}
        self._by_host_port: dict[tuple[str, int], Auth | None] = {}
        for key, value in auths.items():
            host, port = _host_key(key)
            auth = auth_from(value)
            if port is None:
                self._by_host[host] = auth
            else:
                self._by_host_port[host, port] = auth

    def lookup(self, host: str, port: int) -> Auth | None:
        """The credentials for ``host`` on ``port``, or None."""
        try:
            name = _normalise_host(host)
        except UnicodeError:
            return None
        key = (name, port)
        if key in self._by_host_port:
            return self._by_host_port[key]
        return self._by_host.get(name)

    def __len__(self) -> int:
        return len(self._by_host) + len(self._by_host_port)

    def __repr__(self) -> str:
        hosts = [*self._by_host, *(f"{host}:{port}" for host, port in self._by_host_port)]
        return f"AuthsByHost({hosts!r})"


def auth_for_host(auths: Mapping[str, AuthLike] | AuthsByHost, host: str, port: int) -> Auth | None:
    """The credentials ``auths`` holds for ``host`` and ``port`` (see ``AuthsByHost``).

    Build an ``AuthsByHost`` once instead when looking up for every request.
    """
    table = auths if isinstance(auths, AuthsByHost) else AuthsByHost(auths)
    return table.lookup(host, port)


# ============================================================================ .netrc

# path -> ((mtime_ns, size), parsed file or None when unusable), so that trust_env does not
# parse the file again for every request.
_netrc_cache: dict[str, tuple[tuple[int, int], Netrc | None]] = {}


def _netrc_file(netrc_path: str | os.PathLike[str] | None) -> str | None:
    if netrc_path is not None:
        return os.fspath(netrc_path)
    from_env = os.environ.get("NETRC")
    if from_env:
        return from_env
    for name in ("~/.netrc", "~/_netrc"):
        path = os.path.expanduser(name)
        if os.path.isfile(path):
            return path
    return None


def _load_netrc(path: str) -> Netrc | None:
    import netrc

    try:
        stat = os.stat(path)
    except (OSError, ValueError):
        return None
    version = (stat.st_mtime_ns, stat.st_size)
    cached = _netrc_cache.get(path)
    if cached is not None and cached[0] == version:
        return cached[1]
    parsed: Netrc | None
    try:
        parsed = netrc.netrc(path)
    except (OSError, ValueError, netrc.NetrcParseError):
        parsed = None  # unreadable, not text, or malformed: as if there were no file
    if parsed is not None:
        # A machine written in U-labels is looked up by the URL host's wire form.
        for machine in [m for m in parsed.hosts if not m.isascii()]:
            entry = parsed.hosts.pop(machine)
            try:
                parsed.hosts.setdefault(host_to_ascii(machine.lower()), entry)
            except UnicodeError:
                pass  # no host has that name
    if len(_netrc_cache) >= 8:
        _netrc_cache.clear()
    _netrc_cache[path] = (version, parsed)
    return parsed


def netrc_auth(host: str, netrc_path: str | os.PathLike[str] | None = None) -> BasicAuth | None:
    """Basic credentials for ``host`` from a ``.netrc`` file, or None.

    The file is ``netrc_path``, else the one the ``NETRC`` environment variable names,
    else ``~/.netrc`` or ``~/_netrc``. The ``machine`` entry for ``host`` wins, then the
    ``default`` entry. A missing, unreadable or malformed file gives None: a broken netrc
    never fails a request. Credentials are sent as UTF-8, the bytes of the file.
    """
    path = _netrc_file(netrc_path)
    if path is None:
        return None
    parsed = _load_netrc(path)
    if parsed is None:
        return None
    name = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not name.isascii():
        try:
            name = host_to_ascii(name.lower())
        except UnicodeError:
            pass  # no machine has that name: the default entry, if any
    entry = parsed.authenticators(name)
    if entry is None:
        return None
    login, _account, password = entry
    if not login and not password:
        return None
    try:
        return BasicAuth(login or "", password or "", encoding="utf-8")
    except InvalidRequest:
        return None  # a login with ':' cannot be sent as Basic

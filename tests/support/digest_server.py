"""A loopback aiohttp server that checks HTTP authentication itself, for the auth tests.

Digest (RFC 7616) is implemented here independently of ``aiosonic.auth``: the server
issues nonces, verifies the client's response hash, ``uri``, ``opaque`` and ``userhash``,
refuses a nonce count it has seen before (replay), answers an expired nonce with
``stale=true`` and records every request in ``hits`` so a test can see the 401 round trips.

Routes:

* ``/basic``: 200 if ``Authorization`` is Basic with ``basic_user``/``basic_password``
  (UTF-8), else 401 with a Basic challenge.
* ``/bearer``: 200 if ``Authorization: Bearer <bearer_token>``, else 401.
* ``/open/redirect?to=<url>``: an unauthenticated 302 to ``to``.
* ``/open/...``: unauthenticated; answers 200 with the request as JSON.
* anything else: Digest-protected; answers 200 with the user, path and body size as JSON.

Every handled request also lands in ``seen`` (path and headers), whatever the route.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web

HOST = "127.0.0.1"

_HASHES = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}
_PARAM = re.compile(r'([A-Za-z0-9_-]+\*?)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def digest_hex(algorithm: str, text: str) -> str:
    """H(text) for a Digest algorithm name (``-sess`` ignored)."""
    name = algorithm.upper().removesuffix("-SESS")
    return hashlib.new(_HASHES[name], text.encode("utf-8")).hexdigest()


def parse_credentials(header: str) -> dict[str, str] | None:
    """The params of ``Digest k=v, ...`` (a deliberately simple, independent parser)."""
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "digest":
        return None
    params: dict[str, str] = {}
    for name, quoted, bare in _PARAM.findall(rest):
        params[name.lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted or not bare else bare
    return params


@dataclass
class Hit:
    """One Digest-protected request as the server judged it."""

    path: str
    authorization: str | None
    status: int
    stale: bool = False
    nc: int | None = None
    nonce: str | None = None
    user: str | None = None


@dataclass
class Seen:
    """Any request: its path and headers."""

    path: str
    headers: list[tuple[str, str]]

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


@dataclass
class _Nonce:
    algorithm: str
    expired: bool = False
    counts: set[int] = field(default_factory=set)


class DigestServer:
    """The application on an ephemeral loopback port (see the module docstring).

    - ``users``: name -> password for Digest.
    - ``algorithms``: the challenges offered, one ``WWW-Authenticate`` header each, in
      order; ``one_header=True`` puts them all in one header instead.
    - ``qop``: the qop value offered, or None for the RFC 2069 mode (no algorithm either).
    - ``userhash``: offer ``userhash=true``.
    - ``always_stale``: answer every valid response with ``stale=true`` and a new nonce.
    - ``next_nonce``: successful answers carry ``Authentication-Info: nextnonce``.
    - ``extra_challenges``: raw challenges sent before the Digest ones.
    """

    def __init__(
        self,
        users: dict[str, str] | None = None,
        *,
        realm: str = "digest@aiosonic.test",
        algorithms: tuple[str, ...] = ("MD5",),
        qop: str | None = "auth",
        userhash: bool = False,
        one_header: bool = False,
        always_stale: bool = False,
        next_nonce: bool = False,
        extra_challenges: tuple[str, ...] = (),
        basic_user: str = "aladdin",
        basic_password: str = "open sesame",
        bearer_token: str = "t0ken",
    ) -> None:
        self.users = users if users is not None else {"Mufasa": "Circle of Life"}
        self.realm = realm
        self.algorithms = algorithms
        self.qop = qop
        self.userhash = userhash
        self.one_header = one_header
        self.always_stale = always_stale
        self.next_nonce = next_nonce
        self.extra_challenges = extra_challenges
        self.basic_user = basic_user
        self.basic_password = basic_password
        self.bearer_token = bearer_token
        self.opaque = base64.b64encode(os.urandom(12)).decode("ascii")
        self.nonces: dict[str, _Nonce] = {}
        self.hits: list[Hit] = []
        self.seen: list[Seen] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> DigestServer:
        app = web.Application()
        app.middlewares.append(self._record)
        app.router.add_route("*", "/basic", self._basic)
        app.router.add_route("*", "/bearer", self._bearer)
        app.router.add_route("*", "/open/redirect", self._redirect)
        app.router.add_route("*", "/open/{tail:.*}", self._open)
        app.router.add_route("*", "/{tail:.*}", self._digest)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def url(self, path: str = "/") -> str:
        return f"http://{HOST}:{self.port}{path}"

    @property
    def authority(self) -> str:
        return f"{HOST}:{self.port}"

    def expire_nonces(self) -> None:
        """Every nonce issued so far is now stale."""
        for nonce in self.nonces.values():
            nonce.expired = True

    @property
    def statuses(self) -> list[int]:
        return [hit.status for hit in self.hits]

    # -- handlers -------------------------------------------------------------------------

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers]
        self.seen.append(Seen(request.path_qs, headers))
        return await handler(request)  # type: ignore[no-any-return]

    async def _basic(self, request: web.Request) -> web.StreamResponse:
        credentials = f"{self.basic_user}:{self.basic_password}".encode()
        if request.headers.get("Authorization") == "Basic " + base64.b64encode(credentials).decode(
            "ascii"
        ):
            return web.json_response({"user": self.basic_user})
        return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="basic"'})

    async def _bearer(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") == f"Bearer {self.bearer_token}":
            return web.json_response({"ok": True})
        return web.Response(status=401, headers={"WWW-Authenticate": 'Bearer realm="api"'})

    async def _redirect(self, request: web.Request) -> web.StreamResponse:
        return web.Response(status=302, headers={"Location": request.query["to"]})

    async def _open(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"path": request.path_qs})

    async def _digest(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        header = request.headers.get("Authorization")
        hit = Hit(request.path_qs, header, 401)
        self.hits.append(hit)
        params = parse_credentials(header) if header else None
        if params is None:
            return self._challenge()
        user = self._verify(request, params, hit)
        if user is None:
            return self._challenge()
        state = self.nonces[params["nonce"]]
        if state.expired or self.always_stale:
            hit.stale = True
            return self._challenge(stale=True)
        hit.status = 200
        hit.user = user
        response = web.json_response(
            {"user": user, "path": request.path_qs, "body_size": len(body)}
        )
        if self.next_nonce:
            nonce = self._new_nonce(state.algorithm)
            response.headers["Authentication-Info"] = f'nextnonce="{nonce}"'
        return response

    # -- digest ---------------------------------------------------------------------------

    def _new_nonce(self, algorithm: str) -> str:
        nonce = base64.b64encode(os.urandom(18)).decode("ascii")
        self.nonces[nonce] = _Nonce(algorithm)
        return nonce

    def _challenge(self, stale: bool = False) -> web.Response:
        challenges = list(self.extra_challenges)
        for algorithm in self.algorithms:
            nonce = self._new_nonce(algorithm)
            parts = [f'realm="{self.realm}"']
            if self.qop is not None:
                parts.append(f'qop="{self.qop}"')
                parts.append(f"algorithm={algorithm}")
            parts += [f'nonce="{nonce}"', f'opaque="{self.opaque}"']
            if self.userhash:
                parts.append("userhash=true")
            if stale:
                parts.append("stale=TRUE")
            challenges.append("Digest " + ", ".join(parts))
        response = web.Response(status=401, text="authenticate")
        if self.one_header:
            response.headers["WWW-Authenticate"] = ", ".join(challenges)
        else:
            for challenge in challenges:
                response.headers.add("WWW-Authenticate", challenge)
        return response

    def _user(self, params: dict[str, str], algorithm: str) -> str | None:
        if "username*" in params:
            charset, _, encoded = params["username*"].partition("''")
            name = unquote(encoded, encoding=charset or "utf-8")
        else:
            name = params.get("username", "")
        if params.get("userhash") == "true":
            if not self.userhash:
                return None
            for user in self.users:
                if digest_hex(algorithm, f"{user}:{self.realm}") == name:
                    return user
            return None
        return name if name in self.users else None

    def _verify(self, request: web.Request, params: dict[str, str], hit: Hit) -> str | None:
        """The user if the response hash is right for a nonce we issued, else None."""
        nonce = params.get("nonce", "")
        state = self.nonces.get(nonce)
        hit.nonce = nonce
        if state is None or params.get("realm") != self.realm:
            return None
        if params.get("opaque") != self.opaque or params.get("uri") != request.path_qs:
            return None
        algorithm = state.algorithm if self.qop is not None else "MD5"
        if params.get("algorithm", "MD5").upper() != algorithm.upper():
            return None
        user = self._user(params, algorithm)
        if user is None:
            return None
        ha1 = digest_hex(algorithm, f"{user}:{self.realm}:{self.users[user]}")
        ha2 = digest_hex(algorithm, f"{request.method}:{params['uri']}")
        if self.qop is None:
            if "qop" in params or "nc" in params:
                return None
            expected = digest_hex(algorithm, f"{ha1}:{nonce}:{ha2}")
        else:
            qop, nc_text, cnonce = params.get("qop"), params.get("nc", ""), params.get("cnonce")
            if qop != "auth" or not cnonce or not re.fullmatch(r"[0-9a-f]{8}", nc_text):
                return None
            if algorithm.upper().endswith("-SESS"):
                ha1 = digest_hex(algorithm, f"{ha1}:{nonce}:{cnonce}")
            expected = digest_hex(algorithm, f"{ha1}:{nonce}:{nc_text}:{cnonce}:{qop}:{ha2}")
            nc = int(nc_text, 16)
            if params.get("response") == expected:
                if nc in state.counts:  # a replayed count
                    return None
                state.counts.add(nc)
                hit.nc = nc
        return user if params.get("response") == expected else None

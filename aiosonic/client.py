"""``HTTPClient``: what users call, and where every request enters the one pipeline.

    request() -> the pipeline (``_pipeline``): start (method, URL and params, body) ->
                 redirects -> auth -> hooks and retries -> transmit -> Transport.send

It owns argument handling and validation, TLS context selection and the route of each
request, the cookie jar, proxies from the environment, and the transport every request
goes through (the connector's network transport, or the one given). There is one path for
every request: what a bare ``get(url)`` saves is only what the caches give (parsed URLs,
routes, encoded heads), never a separate pipeline. It never touches sockets or parses
responses. The verb methods (get, post, ...) are one-line forwards to ``request``.
"""

from __future__ import annotations

import json as _json
import ssl as _ssl
from collections.abc import (
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from ._headers import HttpHeaders
from ._interfaces import Transport
from ._pipeline import CACHE_MAX, Extras, Pipeline, check_decompress_limit
from ._request import HeadCache
from ._tls import client_context, offer_h2, offers_h2
from ._transport import as_transport
from ._url import URL
from .connectors import Route, TCPConnector
from .cookies import CookieJar
from .exceptions import InvalidRequest
from .hooks import EventHooks, Hook
from .multipart import MultipartForm
from .proxy import Proxy
from .request import Request
from .response import HttpResponse
from .retry import RetryPolicy
from .timeout import Timeouts

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .auth import Auth, AuthsByHost

__all__ = ["HTTPClient", "HttpHeaders", "HttpResponse"]

HeadersType = Mapping[str, str] | Sequence[tuple[str, str]] | HttpHeaders
#: Query parameter values are sent as ``str(value)``.
ParamValue = str | int | float
ParamsType = Mapping[str, ParamValue] | Sequence[tuple[str, ParamValue]]
#: Whatever ``json_serializer`` takes (``json.dumps``: dicts, lists, str, numbers, bools).
JsonType = Any
DataType = (
    str | bytes | dict[Any, Any] | tuple[Any, ...] | AsyncIterator[bytes] | Iterator[bytes]
    | MultipartForm
)
JsonSerializer = Callable[[Any], str | bytes]
Progress = Callable[[int, int | None], object]


class AsyncTransport(Protocol):
    """What ``HTTPClient(transport=...)`` sends requests through instead of the network
    (``aiosonic.testing.MockTransport``, ``ASGITransport``): given the request with every
    header it would carry on the wire, return its response."""

    async def handle_request(self, request: Request) -> HttpResponse: ...


class RequestOptions(TypedDict, total=False):
    """Keyword options every verb method passes on to ``request``."""

    max_redirects: int | None
    auth: Auth | tuple[str, str] | None
    retry: RetryPolicy | None
    upload_progress: Progress | None
    download_progress: Progress | None
    expect100: bool | float
    max_decompressed_size: int | None
    cookies: Mapping[str, str] | None

DEFAULT_MAX_REDIRECTS = 10


class HTTPClient(Pipeline):
    """An HTTP client; use one per application and close it (or ``async with``) when done.

    - ``connector``: the ``TCPConnector`` holding the connection pool (one is made if None).
    - ``handle_cookies``: keep cookies that responses set (RFC 6265) and send them back.
    - ``verify_ssl``: verify server certificates (a request's ``verify=False`` also disables).
    - ``proxy``: an HTTP ``Proxy`` for every request.
    - ``max_redirects``: how many redirects ``follow=True`` follows before ``MaxRedirects``.
    - ``http2``: offer HTTP/2 to https origins by default (see ``request``).
    - ``auth``: credentials for every request (``BasicAuth``, ``BearerAuth``, ``DigestAuth``
      or a ``(user, password)`` tuple); ``auths``: credentials per host (``"host"`` or
      ``"host:port"``).
    - ``retry``: a ``RetryPolicy`` for every request.
    - ``event_hooks``: ``{"request": [...], "response": [...], trace point: [...]}`` (see
      ``aiosonic.hooks``).
    - ``trust_env``: take proxies from ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``/
      ``NO_PROXY`` and credentials from ``.netrc``.
    - ``transport``: send requests through this instead of the network (tests).
    - ``max_decompressed_size``: bytes a compressed body of this client's responses may
      expand to (as in upstream 1.x); overrides the connector's
      ``Limits.max_decompressed_size`` for this client only (a request's own wins).
    - ``follow``: whether requests follow redirects when they do not say (upstream 1.1).
    - ``cookies``: a ``CookieJar`` to use (and keep filling), or names and values sent to
      every host; either turns ``handle_cookies`` on. A request's own ``cookies=`` are
      added to its Cookie header only.
    """

    def __init__(
        self,
        connector: TCPConnector | None = None,
        handle_cookies: bool = False,
        verify_ssl: bool = True,
        proxy: Proxy | None = None,
        *,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        http2: bool = False,
        auth: Auth | tuple[str, str] | None = None,
        auths: Mapping[str, Auth | tuple[str, str]] | None = None,
        retry: RetryPolicy | None = None,
        event_hooks: Mapping[str, Iterable[Hook]] | None = None,
        trust_env: bool = False,
        transport: AsyncTransport | None = None,
        max_decompressed_size: int | None = None,
        follow: bool = False,
        cookies: Mapping[str, str] | CookieJar | None = None,
    ) -> None:
        self.connector = connector or TCPConnector()
        self.http2 = http2
        if isinstance(cookies, CookieJar):
            jar: CookieJar | None = cookies
        elif handle_cookies or cookies:
            jar = CookieJar()
            for name, value in (cookies or {}).items():
                jar.set(name, value)  # no domain: sent to every host
        else:
            jar = None
        self.handle_cookies = jar is not None
        self.cookie_jar = jar
        self.verify_ssl = verify_ssl
        self.proxy = proxy
        self.max_redirects = max_redirects
        self.auth: Auth | None = None
        self.auths: AuthsByHost | None = None
        if auth is not None or auths:
            from .auth import AuthsByHost, auth_from  # only clients with credentials load it

            self.auth = auth_from(auth)
            self.auths = AuthsByHost(auths) if auths else None
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise InvalidRequest(f"retry must be a RetryPolicy, not {type(retry).__name__}")
        self.retry = retry
        self.event_hooks = EventHooks(event_hooks)
        self.trust_env = trust_env
        self.transport = transport
        self._decompress_limit = (
            None if max_decompressed_size is None
            else check_decompress_limit(max_decompressed_size)
        )
        self._extras = (
            None if self._decompress_limit is None else Extras(None, self._decompress_limit, None)
        )
        self.follow = follow
        self._transport: Transport = (
            self.connector.transport if transport is None else as_transport(transport)
        )
        self._heads = HeadCache()
        self._urls = {}
        self._env_proxies: dict[tuple[str, str, int], Proxy | None] = {}

    async def __aenter__(self) -> HTTPClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every connection this client opened."""
        await self.connector.cleanup()

    async def aclose(self) -> None:
        """The same as ``close()`` (the name other async libraries use)."""
        await self.close()

    async def wait_requests(self, timeout: int = 30) -> bool:
        """Wait until no request is in flight; False if ``timeout`` seconds pass first.

        Useful for a graceful shutdown.
        """
        return await self.connector.wait_idle(timeout)

    # -- the one entry ---------------------------------------------------------------------

    async def request(
        self,
        url: str,
        method: str = "GET",
        headers: HeadersType | None = None,
        params: ParamsType | None = None,
        data: DataType | None = None,
        json: JsonType = None,
        json_serializer: JsonSerializer = _json.dumps,
        multipart: bool = False,
        verify: bool = True,
        ssl: _ssl.SSLContext | None = None,
        timeouts: Timeouts | None = None,
        follow: bool | None = None,
        http2: bool = False,
        max_redirects: int | None = None,
        *,
        auth: Auth | tuple[str, str] | None = None,
        retry: RetryPolicy | None = None,
        upload_progress: Progress | None = None,
        download_progress: Progress | None = None,
        expect100: bool | float = False,
        max_decompressed_size: int | None = None,
        cookies: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """Send a request and return the response once its head has arrived.

        The body is read with ``await response.content()`` / ``text()`` / ``json()`` or
        streamed with ``response.read_chunks()``.

        ``http2=True`` (or the client's or connector's ``http2``) offers HTTP/2 to https
        origins through ALPN, falling back to HTTP/1.1 when the server picks it; on an
        ``http://`` URL a per-request ``http2=True`` speaks cleartext HTTP/2 (h2c) with
        prior knowledge. ``response.http_version`` says which was used.

        ``auth`` and ``retry`` override the client's for this request;
        ``upload_progress(sent, total)`` and ``download_progress(received, total)`` are
        called as body bytes go out and come in (``total`` None when unknown).

        ``expect100=True`` (or a number of seconds; True is 1 s) sends an HTTP/1.1 body
        only after the server's ``100 Continue``, or after that long without an answer: a
        large upload the server refuses (401, 413, a redirect) is then never sent, and the
        refusal is returned. Over HTTP/2 the body goes at once (a refusal stops it).
        """
        return await self._start(url, method, headers, params, data, json, json_serializer,
                                 multipart, verify, ssl, timeouts, follow, http2, {
                                     "max_redirects": max_redirects,
                                     "auth": auth,
                                     "retry": retry,
                                     "upload_progress": upload_progress,
                                     "download_progress": download_progress,
                                     "expect100": expect100,
                                     "max_decompressed_size": max_decompressed_size,
                                     "cookies": cookies,
                                 })

    @asynccontextmanager
    async def stream(
        self, method: str, url: str, **kwargs: Any
    ) -> AsyncIterator[HttpResponse]:
        """``async with client.stream("GET", url) as response:`` then
        ``response.iter_bytes()`` / ``iter_lines()``: the response is closed on the way out
        (an unread body closes its connection rather than being read to the end)."""
        response = await self.request(url, method, **kwargs)
        try:
            yield response
        finally:
            await response.aclose()

    def _route(
        self, url: URL, verify: bool, ssl: _ssl.SSLContext | None, h2: str | None = None
    ) -> Route:
        """The route of a request (the heads cache keeps it per TLS choice, HTTP/2 mode and
        proxy).

        h2: "prior" (asked on this request: h2c for http, ALPN for https), "alpn" (a
        client or connector default: https only), or None."""
        proxy = self.proxy
        if proxy is None and self.trust_env:
            proxy = self._proxy_from_env(url)
        context = None
        if url.is_secure:
            if h2 == "prior":
                h2 = "alpn"  # https always negotiates
            if ssl is not None:
                if h2 is None and offers_h2(ssl):
                    h2 = "alpn"  # it offers h2 since an earlier request: the server may pick it
                context = offer_h2(ssl) if h2 is not None else ssl
            else:
                context = client_context(verify and self.verify_ssl, h2 is not None)
        elif h2 != "prior" or proxy is not None:
            # Cleartext HTTP/2 only when asked for on this very request, and never to a proxy.
            h2 = None
        return self.connector.route(url, context, proxy, h2)

    def _proxy_from_env(self, url: URL) -> Proxy | None:
        origin = url.origin
        try:
            return self._env_proxies[origin]
        except KeyError:
            pass
        from ._env_proxy import proxy_for  # only clients that trust the environment

        found = proxy_for(url.scheme, url.host, url.port)
        proxy = Proxy(found) if found is not None else None
        if len(self._env_proxies) >= CACHE_MAX:
            self._env_proxies.clear()
        self._env_proxies[origin] = proxy
        return proxy

    # -- verbs: one-line forwards ---------------------------------------------------------

    async def get(
        self,
        url: str,
        headers: HeadersType | None = None,
        params: ParamsType | None = None,
        verify: bool = True,
        ssl: _ssl.SSLContext | None = None,
        timeouts: Timeouts | None = None,
        follow: bool | None = None,
        http2: bool = False,
        **options: Unpack[RequestOptions],
    ) -> HttpResponse:
        """Do a GET request."""
        return await self._start(url, "GET", headers, params, None, None, _json.dumps, False,
                                  verify, ssl, timeouts, follow, http2, options)

    async def post(
        self,
        url: str,
        data: DataType | None = None,
        headers: HeadersType | None = None,
        json: JsonType = None,
        params: ParamsType | None = None,
        json_serializer: JsonSerializer = _json.dumps,
        multipart: bool = False,
        verify: bool = True,
        ssl: _ssl.SSLContext | None = None,
        timeouts: Timeouts | None = None,
        follow: bool | None = None,
        http2: bool = False,
        **options: Unpack[RequestOptions],
    ) -> HttpResponse:
        """Do a POST request."""
        return await self._start(url, "POST", headers, params, data, json, json_serializer,
                                  multipart, verify, ssl, timeouts, follow, http2, options)

    async def put(
        self,
        url: str,
        data: DataType | None = None,
        headers: HeadersType | None = None,
        json: JsonType = None,
        params: ParamsType | None = None,
        json_serializer: JsonSerializer = _json.dumps,
        multipart: bool = False,
        verify: bool = True,
        ssl: _ssl.SSLContext | None = None,
        timeouts: Timeouts | None = None,
        follow: bool | None = None,
        http2: bool = False,
        **options: Unpack[RequestOptions],
    ) -> HttpResponse:
        """Do a PUT request."""
        return await self._start(url, "PUT", headers, params, data, json, json_serializer,
                                  multipart, verify, ssl, timeouts, follow, http2, options)

    async def patch(
        self,
        url: str,
        data: DataType | None = None,
        headers: HeadersType | None = None,
        json: JsonType = None,
        params: ParamsType | None = None,
        json_serializer: JsonSerializer = _json.dumps,
        multipart: bool = False,
        verify: bool = True,
        ssl: _ssl.SSLContext | None = None,
        timeouts: Timeouts | None = None,
        follow: bool | None = None,
        http2: bool = False,
        **options: Unpack[RequestOptions],
    ) -> HttpResponse:
        """Do a PATCH request."""
        return await self._start(url, "PATCH", headers, params, data, json, json_serializer,
                                  multipart, verify, ssl, timeouts, follow, http2, options)

    async def delete(
        self,
        url: str,
        data: DataType = b"",
        headers: HeadersType | None = None,
        json: JsonType = None,
        params: ParamsType | None = None,
        json_serializer: JsonSerializer = _json.dumps,
        multipart: bool = False,
        verify: bool = True,
        ssl: _ssl.SSLContext | None = None,
        timeouts: Timeouts | None = None,
        follow: bool | None = None,
        http2: bool = False,
        **options: Unpack[RequestOptions],
    ) -> HttpResponse:
        """Do a DELETE request."""
        return await self._start(url, "DELETE", headers, params, data or None, json,
                                  json_serializer, multipart, verify, ssl, timeouts, follow,
                                  http2, options)

    async def head(
        self,
        url: str,
        headers: HeadersType | None = None,
        params: ParamsType | None = None,
        verify: bool = True,
        ssl: _ssl.SSLContext | None = None,
        timeouts: Timeouts | None = None,
        follow: bool | None = None,
        http2: bool = False,
        **options: Unpack[RequestOptions],
    ) -> HttpResponse:
        """Do a HEAD request (the response has headers and no body)."""
        return await self._start(url, "HEAD", headers, params, None, None, _json.dumps, False,
                                  verify, ssl, timeouts, follow, http2, options)

    async def options(
        self,
        url: str,
        headers: HeadersType | None = None,
        params: ParamsType | None = None,
        verify: bool = True,
        ssl: _ssl.SSLContext | None = None,
        timeouts: Timeouts | None = None,
        follow: bool | None = None,
        http2: bool = False,
        **options: Unpack[RequestOptions],
    ) -> HttpResponse:
        """Do an OPTIONS request."""
        return await self._start(url, "OPTIONS", headers, params, None, None, _json.dumps,
                                  False, verify, ssl, timeouts, follow, http2, options)

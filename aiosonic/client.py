"""``HTTPClient``: the request pipeline users call.

    request() -> prepare (URL, headers, body) -> send through the connector -> redirects

It owns argument handling, the cache of ready-made request heads for plain requests, TLS
context selection, the cookie jar, and redirect following: 301/302 turn a POST into a GET,
303 turns anything but HEAD into a GET, 307/308 replay the method and body (a one-shot stream
cannot be replayed and raises), credentials set for one origin are not sent to another.
It never touches sockets or parses responses.
The verb methods (get, post, ...) are one-line forwards to ``request``.
"""

from __future__ import annotations

import json as _json
import ssl as _ssl
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from types import TracebackType
from typing import Any

from ._cookies import CookieJar
from ._headers import HttpHeaders
from ._http11 import encode_request_head
from ._request import Body, build_head, encode_body, merge_headers
from ._tls import client_context, offer_h2, offers_h2
from ._url import URL, parse_url
from .connectors import Route, TCPConnector
from .exceptions import InvalidRequest, MaxRedirects
from .multipart import MultipartForm
from .proxy import Proxy
from .response import HttpResponse
from .timeout import Timeouts

__all__ = ["HTTPClient", "HttpHeaders", "HttpResponse"]

HeadersType = dict[str, str] | list[tuple[str, str]] | HttpHeaders
ParamsType = dict[str, str] | Sequence[tuple[str, str]]
DataType = (
    str | bytes | dict[Any, Any] | tuple[Any, ...] | AsyncIterator[bytes] | Iterator[bytes]
    | MultipartForm
)
JsonSerializer = Callable[[Any], str | bytes]

DEFAULT_MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Headers that describe a body; dropped when a redirect turns the request into a GET.
_BODY_HEADERS = frozenset({"content-length", "content-type", "transfer-encoding"})
# Credentials the caller set for one origin; never sent to another.
_ORIGIN_BOUND = frozenset({"authorization", "cookie", "proxy-authorization"})
_SIMPLE_CACHE_MAX = 1024
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


def _h2_mode(per_request: bool, default: bool) -> str | None:
    """How HTTP/2 may be used: "prior" (asked on this request: h2c for http, ALPN for
    https), "alpn" (a client or connector default: https only), or None."""
    if per_request:
        return "prior"
    if default:
        return "alpn"
    return None


class _Simple:
    """A request with nothing but a method and a URL, ready to send again and again."""

    __slots__ = ("head", "idempotent", "is_head", "method", "route", "url")

    def __init__(self, method: str, url: URL, head: bytes, route: Route) -> None:
        self.method = method
        self.url = url
        self.head = head
        self.route = route
        self.is_head = method == "HEAD"
        self.idempotent = method in _IDEMPOTENT


class HTTPClient:
    """An HTTP client; use one per application and close it (or ``async with``) when done.

    - ``connector``: the ``TCPConnector`` holding the connection pool (one is made if None).
    - ``handle_cookies``: keep cookies that responses set (RFC 6265) and send them back.
    - ``verify_ssl``: verify server certificates (a request's ``verify=False`` also disables).
    - ``proxy``: an HTTP ``Proxy`` for every request.
    - ``max_redirects``: how many redirects ``follow=True`` follows before ``MaxRedirects``.
    - ``http2``: offer HTTP/2 to https origins by default (see ``request``).
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
    ) -> None:
        self.connector = connector or TCPConnector()
        self.http2 = http2
        self.handle_cookies = handle_cookies
        self.cookie_jar: CookieJar | None = CookieJar() if handle_cookies else None
        self.verify_ssl = verify_ssl
        self.proxy = proxy
        self.max_redirects = max_redirects
        # (method, url) -> a ready request for calls that give nothing but a method and URL.
        self._simple: dict[tuple[str, str], _Simple] = {}

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

    async def wait_requests(self, timeout: int = 30) -> bool:
        """Wait until no request is in flight; False if ``timeout`` seconds pass first.

        Useful for a graceful shutdown.
        """
        return await self.connector.wait_idle(timeout)

    # -- the one implementation -----------------------------------------------------------

    async def request(
        self,
        url: str,
        method: str = "GET",
        headers: HeadersType | None = None,
        params: ParamsType | None = None,
        data: DataType | None = None,
        json: dict[str, Any] | list[Any] | None = None,
        json_serializer: JsonSerializer = _json.dumps,
        multipart: bool = False,
        verify: bool = True,
        ssl: _ssl.SSLContext | None = None,
        timeouts: Timeouts | None = None,
        follow: bool = False,
        http2: bool = False,
        max_redirects: int | None = None,
    ) -> HttpResponse:
        """Send a request and return the response once its head has arrived.

        The body is read with ``await response.content()`` / ``text()`` / ``json()`` or
        streamed with ``response.read_chunks()``.

        ``http2=True`` (or the client's or connector's ``http2``) offers HTTP/2 to https
        origins through ALPN, falling back to HTTP/1.1 when the server picks it; on an
        ``http://`` URL a per-request ``http2=True`` speaks cleartext HTTP/2 (h2c) with
        prior knowledge. ``response.http_version`` says which was used.
        """
        timeouts = timeouts or self.connector.timeouts
        h2 = _h2_mode(http2, self.http2 or self.connector.http2)
        if (
            h2 is None
            and headers is None
            and params is None
            and data is None
            and json is None
            and ssl is None
            and verify
            and not multipart
            and self.cookie_jar is None
        ):
            # Nothing but a method and a URL: the head is built once and reused.
            simple = self._simple.get((method, url))
            if simple is None:
                simple = self._prepare_simple(method, url)
            response = await self.connector.send(
                simple.route,
                simple.head,
                None,
                None,
                head_request=simple.is_head,
                timeouts=timeouts,
                idempotent=simple.idempotent,
            )
            if follow and response.status_code in _REDIRECTS:
                return await self._follow(response, simple.url, simple.method, None, Body(),
                                          verify, ssl, timeouts, max_redirects)
            return response
        method = self._method(method)
        url_obj = parse_url(url)
        if params:
            url_obj = url_obj.with_params(params)
        body = self._encode(data, json, json_serializer, multipart)
        response = await self._send(url_obj, method, headers, body, verify, ssl, timeouts, h2)
        if follow and response.status_code in _REDIRECTS:
            return await self._follow(response, url_obj, method, headers, body, verify, ssl,
                                      timeouts, max_redirects, h2)
        return response

    def _prepare_simple(self, method: str, url: str) -> _Simple:
        normalised = self._method(method)
        url_obj = parse_url(url)
        route = self._route(url_obj, True, None)
        head, _ = build_head(
            normalised,
            url_obj,
            None,
            Body(),
            absolute_form=route.absolute_form,
            proxy_authorization=route.head_proxy_authorization,
        )
        simple = _Simple(normalised, url_obj, head, route)
        if len(self._simple) >= _SIMPLE_CACHE_MAX:
            self._simple.clear()
        self._simple[(method, url)] = simple
        return simple

    @staticmethod
    def _method(method: str) -> str:
        if not isinstance(method, str):
            raise InvalidRequest(f"method must be a str, not {type(method).__name__}")
        return method.upper()

    def _route(
        self, url: URL, verify: bool, ssl: _ssl.SSLContext | None, h2: str | None = None
    ) -> Route:
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
        elif h2 != "prior" or self.proxy is not None:
            # Cleartext HTTP/2 only when asked for on this very request, and never to a proxy.
            h2 = None
        return self.connector.route(url, context, self.proxy, h2)

    @staticmethod
    def _encode(data: Any, json: Any, json_serializer: JsonSerializer, multipart: bool) -> Body:
        if multipart:
            if not isinstance(data, (dict, MultipartForm)):
                raise InvalidRequest(
                    f"multipart=True needs data= as a dict, not {type(data).__name__}"
                )
            if isinstance(data, dict):
                form = MultipartForm()
                for name, value in data.items():
                    form.add_field(str(name), value)
                data = form
        if isinstance(data, MultipartForm):
            return data.as_body()
        return encode_body(data, json, json_serializer)

    async def _send(
        self,
        url: URL,
        method: str,
        headers: Any,
        body: Body,
        verify: bool,
        ssl: _ssl.SSLContext | None,
        timeouts: Timeouts,
        h2: str | None = None,
    ) -> HttpResponse:
        route = self._route(url, verify, ssl, h2)
        jar = self.cookie_jar
        pairs, chunked = merge_headers(
            method,
            url,
            headers,
            body,
            proxy_authorization=route.head_proxy_authorization,
            cookie=jar.header_for(url) if jar is not None else None,
        )
        head = encode_request_head(
            method, url.unparse() if route.absolute_form else url.target, pairs
        )
        h2_headers = None
        if route.http2 is not None and not route.absolute_form:
            from ._http2 import h2_request_headers  # h2 is imported only once it is asked for

            h2_headers = h2_request_headers(method, url, pairs)
        data, stream = body.data, body.stream
        if chunked and data is not None:
            stream = [data]  # the caller asked for chunked framing
            data = None
        response = await self.connector.send(
            route,
            head,
            data,
            stream,
            chunked=chunked,
            head_request=method == "HEAD",
            timeouts=timeouts,
            h2_headers=h2_headers,
            idempotent=method in _IDEMPOTENT,
        )
        if jar is not None:
            jar.extract(url, response.raw_headers)
        return response

    async def _follow(
        self,
        response: HttpResponse,
        url: URL,
        method: str,
        headers: Any,
        body: Body,
        verify: bool,
        ssl: _ssl.SSLContext | None,
        timeouts: Timeouts,
        max_redirects: int | None,
        h2: str | None = None,
    ) -> HttpResponse:
        limit = self.max_redirects if max_redirects is None else max_redirects
        current = HttpHeaders(headers) if headers else HttpHeaders()
        seen = {(method, url.unparse())}
        hops = 0
        while response.status_code in _REDIRECTS:
            location = response.headers.get("location")
            if not location:
                return response
            try:
                target = url.join(location)
            except InvalidRequest:
                return response  # not an http(s) target: hand the redirect to the caller
            await response.discard()
            hops += 1
            if hops > limit:
                raise MaxRedirects(f"more than {limit} redirects (the last to {location!r})")
            status = response.status_code
            if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
                method, body = "GET", Body()
                for name in _BODY_HEADERS:
                    current.pop(name, None)
            else:
                body = body.replay()
            if target.origin != url.origin:
                for name in _ORIGIN_BOUND:
                    current.pop(name, None)
            key = (method, target.unparse())
            if key in seen and status in (301, 307, 308):
                raise MaxRedirects(f"redirect loop back to {target.unparse()!r}")
            seen.add(key)
            url = target
            response = await self._send(url, method, current, body, verify, ssl, timeouts, h2)
        return response

    # -- verbs: one-line forwards ---------------------------------------------------------

    async def get(
        self,
        url: str,
        headers: HeadersType | None = None,
        params: ParamsType | None = None,
        verify: bool = True,
        ssl: _ssl.SSLContext | None = None,
        timeouts: Timeouts | None = None,
        follow: bool = False,
        http2: bool = False,
    ) -> HttpResponse:
        """Do a GET request."""
        return await self.request(url, "GET", headers, params, None, None, _json.dumps, False,
                                  verify, ssl, timeouts, follow, http2)

    async def post(
        self,
        url: str,
        data: DataType | None = None,
        headers: HeadersType | None = None,
        json: dict[str, Any] | list[Any] | None = None,
        params: ParamsType | None = None,
        json_serializer: JsonSerializer = _json.dumps,
        multipart: bool = False,
        verify: bool = True,
        ssl: _ssl.SSLContext | None = None,
        timeouts: Timeouts | None = None,
        follow: bool = False,
        http2: bool = False,
    ) -> HttpResponse:
        """Do a POST request."""
        return await self.request(url, "POST", headers, params, data, json, json_serializer,
                                  multipart, verify, ssl, timeouts, follow, http2)

    async def put(
        self,
        url: str,
        data: DataType | None = None,
        headers: HeadersType | None = None,
        json: dict[str, Any] | list[Any] | None = None,
        params: ParamsType | None = None,
        json_serializer: JsonSerializer = _json.dumps,
        multipart: bool = False,
        verify: bool = True,
        ssl: _ssl.SSLContext | None = None,
        timeouts: Timeouts | None = None,
        follow: bool = False,
        http2: bool = False,
    ) -> HttpResponse:
        """Do a PUT request."""
        return await self.request(url, "PUT", headers, params, data, json, json_serializer,
                                  multipart, verify, ssl, timeouts, follow, http2)

    async def patch(
        self,
        url: str,
        data: DataType | None = None,
        headers: HeadersType | None = None,
        json: dict[str, Any] | list[Any] | None = None,
        params: ParamsType | None = None,
        json_serializer: JsonSerializer = _json.dumps,
        multipart: bool = False,
        verify: bool = True,
        ssl: _ssl.SSLContext | None = None,
        timeouts: Timeouts | None = None,
        follow: bool = False,
        http2: bool = False,
    ) -> HttpResponse:
        """Do a PATCH request."""
        return await self.request(url, "PATCH", headers, params, data, json, json_serializer,
                                  multipart, verify, ssl, timeouts, follow, http2)

    async def delete(
        self,
        url: str,
        data: DataType = b"",
        headers: HeadersType | None = None,
        json: dict[str, Any] | list[Any] | None = None,
        params: ParamsType | None = None,
        json_serializer: JsonSerializer = _json.dumps,
        multipart: bool = False,
        verify: bool = True,
        ssl: _ssl.SSLContext | None = None,
        timeouts: Timeouts | None = None,
        follow: bool = False,
        http2: bool = False,
    ) -> HttpResponse:
        """Do a DELETE request."""
        return await self.request(url, "DELETE", headers, params, data or None, json,
                                  json_serializer, multipart, verify, ssl, timeouts, follow,
                                  http2)

"""``HTTPClient``: the request pipeline users call.

    request() -> prepare (URL, headers, body) -> send through the connector -> redirects

It owns argument handling, the cache of ready-made request heads for plain requests, TLS
context selection, the cookie jar, and redirect following: 301/302 turn a POST into a GET,
303 turns anything but HEAD into a GET, 307/308 replay the method and body (a one-shot stream
cannot be replayed and raises), credentials set for one origin are not sent to another.
It never touches sockets or parses responses.
The verb methods (get, post, ...) are one-line forwards to ``request``.

A request that gives nothing but a method and a URL takes a ready-made head straight to the
connector. The layers users opt into (authentication, retries, event hooks, a transport,
progress callbacks, proxies from the environment) run only for the requests that use them:

    redirects -> per hop: auth flow -> request hooks -> retries -> send -> response hooks
"""

from __future__ import annotations

import asyncio
import json as _json
import ssl as _ssl
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from ._cookies import CookieJar
from ._headers import HttpHeaders
from ._http11 import encode_request_head
from ._request import Body, build_head, encode_body, merge_headers, watch_upload
from ._tls import client_context, offer_h2, offers_h2
from ._url import URL, parse_url
from .connectors import Route, TCPConnector
from .exceptions import AiosonicError, InvalidRequest, MaxRedirects, RequestTimeout
from .hooks import EventHooks, Hook, Trace, call_hooks
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

HeadersType = dict[str, str] | list[tuple[str, str]] | HttpHeaders
ParamsType = dict[str, str] | Sequence[tuple[str, str]]
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

DEFAULT_MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Headers that describe a body; dropped when a redirect turns the request into a GET.
_BODY_HEADERS = frozenset({"content-length", "content-type", "transfer-encoding"})
# Credentials the caller set for one origin; never sent to another.
_ORIGIN_BOUND = frozenset({"authorization", "cookie", "proxy-authorization"})
_SIMPLE_CACHE_MAX = 1024
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


def _copy_headers(headers: Any) -> HttpHeaders:
    """The caller's headers as a new ``HttpHeaders`` that hooks and auth may change."""
    return HttpHeaders(headers) if headers else HttpHeaders()


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


class _Options:
    """What one request opted into beyond the plain path (made only for such requests)."""

    __slots__ = ("auth", "download_progress", "origin", "retry", "upload_progress")

    def __init__(
        self,
        origin: tuple[str, str, int],
        auth: Auth | None,
        retry: RetryPolicy | None,
        upload_progress: Progress | None,
        download_progress: Progress | None,
    ) -> None:
        self.origin = origin  # of the request as the caller made it (before redirects)
        self.auth = auth  # the caller's credentials: for that origin only
        self.retry = retry
        self.upload_progress = upload_progress
        self.download_progress = download_progress


class HTTPClient:
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
    ) -> None:
        self.connector = connector or TCPConnector()
        self.http2 = http2
        self.handle_cookies = handle_cookies
        self.cookie_jar: CookieJar | None = CookieJar() if handle_cookies else None
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
        # True when no client-wide layer is set: requests may take the direct path.
        self._plain = not (
            self.auth or self.auths or retry or self.event_hooks or trust_env or transport
        )
        # (method, url) -> a ready request for calls that give nothing but a method and URL.
        self._simple: dict[tuple[str, str], _Simple] = {}
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
        *,
        auth: Auth | tuple[str, str] | None = None,
        retry: RetryPolicy | None = None,
        upload_progress: Progress | None = None,
        download_progress: Progress | None = None,
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
        """
        timeouts = timeouts or self.connector.timeouts
        h2 = _h2_mode(http2, self.http2 or self.connector.http2)
        plain = (
            self._plain
            and auth is None
            and retry is None
            and upload_progress is None
            and download_progress is None
        )
        if (
            plain
            and h2 is None
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
            response._url = simple.url
            if follow and response.status_code in _REDIRECTS:
                return await self._follow(response, simple.url, simple.method, None, Body(),
                                          verify, ssl, timeouts, max_redirects)
            return response
        method = self._method(method)
        url_obj = parse_url(url)
        if params:
            url_obj = url_obj.with_params(params)
        body = self._encode(data, json, json_serializer, multipart)
        options = None
        if not plain:
            if retry is not None and not isinstance(retry, RetryPolicy):
                raise InvalidRequest(f"retry must be a RetryPolicy, not {type(retry).__name__}")
            if auth is not None:
                from .auth import auth_from

                auth = auth_from(auth)
            options = _Options(url_obj.origin, auth or self.auth, retry or self.retry,
                               upload_progress, download_progress)
        response = await self._send(url_obj, method, headers, body, verify, ssl, timeouts, h2,
                                    options)
        if follow and response.status_code in _REDIRECTS:
            return await self._follow(response, url_obj, method, headers, body, verify, ssl,
                                      timeouts, max_redirects, h2, options)
        return response

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
        if len(self._env_proxies) >= _SIMPLE_CACHE_MAX:
            self._env_proxies.clear()
        self._env_proxies[origin] = proxy
        return proxy

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
        options: _Options | None = None,
        trace: Trace | None = None,
    ) -> HttpResponse:
        if options is not None:
            return await self._send_with_layers(
                url, method, headers, body, verify, ssl, timeouts, h2, options
            )
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
        data, stream, restart = body.data, body.stream, body.restart
        if chunked and data is not None:
            stream = [data]  # the caller asked for chunked framing
            restart = stream.copy
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
            trace=trace,
            restart=restart,
        )
        response._url = url
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
        options: _Options | None = None,
    ) -> HttpResponse:
        limit = self.max_redirects if max_redirects is None else max_redirects
        current = HttpHeaders(headers) if headers else HttpHeaders()
        seen = {(method, url.unparse())}
        history: list[HttpResponse] = []
        hops = 0
        while response.status_code in _REDIRECTS:
            location = response.headers.get("location")
            if not location:
                break
            if response._url is not None:
                url = response._url  # where it was sent (a request hook may have moved it)
            try:
                target = url.join(location)
            except InvalidRequest:
                break  # not an http(s) target: hand the redirect to the caller
            await response.discard()
            history.append(response)
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
            if options is not None and "redirect" in self.event_hooks.trace:
                Trace(self.event_hooks.trace, Request(method, target.unparse(), current))(
                    "redirect", status_code=status, location=target.unparse()
                )
            url = target
            response = await self._send(url, method, current, body, verify, ssl, timeouts, h2,
                                        options)
        if history:
            response.history = history
        return response

    # -- the opt-in layers ----------------------------------------------------------------

    def _auth_for(self, url: URL, headers: HttpHeaders, options: _Options) -> Auth | None:
        """The credentials for one hop: the caller's on the origin they asked for, else
        ``auths`` for the hop's host, else ``.netrc`` (with ``trust_env``)."""
        if options.auth is not None and url.origin == options.origin:
            return options.auth
        if self.auths is not None:
            found = self.auths.lookup(url.host, url.port)
            if found is not None:
                return found
        if self.trust_env and url.userinfo is None and "authorization" not in headers:
            from .auth import netrc_auth

            return netrc_auth(url.host)
        return None

    async def _send_with_layers(
        self,
        url: URL,
        method: str,
        headers: Any,
        body: Body,
        verify: bool,
        ssl: _ssl.SSLContext | None,
        timeouts: Timeouts,
        h2: str | None,
        options: _Options,
    ) -> HttpResponse:
        """One hop: the auth flow (a challenge answered with a new attempt) around
        ``_attempts``."""
        request = Request(method, url.unparse(), _copy_headers(headers), body=body)
        scheme = self._auth_for(url, request.headers, options)
        if scheme is None:
            return await self._attempts(request, verify, ssl, timeouts, h2, options)
        flow = scheme.auth_flow(request)
        request = next(flow)
        while True:
            response = await self._attempts(request, verify, ssl, timeouts, h2, options)
            try:
                request = flow.send(response)
            except StopIteration:
                return response
            except BaseException:
                await response.discard()
                raise
            await response.discard()
            request.body = request.body.replay()

    async def _attempts(
        self,
        request: Request,
        verify: bool,
        ssl: _ssl.SSLContext | None,
        timeouts: Timeouts,
        h2: str | None,
        options: _Options,
    ) -> HttpResponse:
        """Request hooks, then tries under the retry policy, response hooks on each
        response."""
        hooks = self.event_hooks
        policy = options.retry
        trace = Trace(hooks.trace, request) if hooks.trace else None  # elapsed spans retries
        attempt = 0
        while True:
            attempt += 1
            if hooks.request:
                await call_hooks(hooks.request, request)
            # A one-shot stream is never tried twice: it is gone once sent.
            last = (
                policy is None
                or attempt >= policy.attempts
                or (request.body.stream is not None and request.body.restart is None)
            )
            try:
                response = await self._send_once(request, verify, ssl, timeouts, h2, options,
                                                 trace)
            except AiosonicError as exc:
                if last or policy is None or not policy.should_retry_error(request.method, exc):
                    raise
                delay = policy.delay(attempt)
                reason = repr(exc)
            else:
                if hooks.response:
                    await call_hooks(hooks.response, response)
                if (
                    last
                    or policy is None
                    or not policy.should_retry_status(request.method, response.status_code)
                ):
                    return response
                delay = policy.delay(attempt, response.headers.get("retry-after"))
                reason = f"status {response.status_code}"
                await response.discard()
            if trace is not None:
                trace("retry", attempt=attempt, delay=delay, reason=reason)
            await asyncio.sleep(delay)
            request.body = request.body.replay()

    async def _send_once(
        self,
        request: Request,
        verify: bool,
        ssl: _ssl.SSLContext | None,
        timeouts: Timeouts,
        h2: str | None,
        options: _Options,
        trace: Trace | None,
    ) -> HttpResponse:
        url = request.parsed_url()
        body = request.body
        if options.upload_progress is not None:
            body = watch_upload(body, options.upload_progress)
        if self.transport is not None:
            response = await self._send_to_transport(request, url, body, timeouts)
        else:
            response = await self._send(url, request.method, request.headers, body, verify,
                                        ssl, timeouts, h2, trace=trace)
        if options.download_progress is not None:
            response._watch_download(options.download_progress)
        return response

    async def _send_to_transport(
        self, request: Request, url: URL, body: Body, timeouts: Timeouts
    ) -> HttpResponse:
        """Hand the request, with every header it would carry on the wire, to the
        transport; the cookie jar, head validation and ``request_timeout`` still apply."""
        assert self.transport is not None
        jar = self.cookie_jar
        pairs, _ = merge_headers(
            request.method, url, request.headers, body,
            cookie=jar.header_for(url) if jar is not None else None,
        )
        # What the network path would refuse (header injection, a bad method) is refused
        # here too, so that tests through a transport do not pass what production fails.
        encode_request_head(request.method, url.target, pairs)
        wire = Request(request.method, request.url, pairs, body=body)
        wire.extensions = request.extensions
        try:
            response = await asyncio.wait_for(
                self.transport.handle_request(wire), timeouts.request_timeout
            )
        except asyncio.TimeoutError as exc:
            if isinstance(exc, AiosonicError):
                raise  # the transport's own timeout error (ours are TimeoutErrors too)
            raise RequestTimeout("request_timeout elapsed waiting for the transport") from None
        response._url = url
        if jar is not None:
            jar.extract(url, response.raw_headers)
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
        **options: Unpack[RequestOptions],
    ) -> HttpResponse:
        """Do a GET request."""
        return await self.request(url, "GET", headers, params, None, None, _json.dumps, False,
                                  verify, ssl, timeouts, follow, http2, **options)

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
        **options: Unpack[RequestOptions],
    ) -> HttpResponse:
        """Do a POST request."""
        return await self.request(url, "POST", headers, params, data, json, json_serializer,
                                  multipart, verify, ssl, timeouts, follow, http2, **options)

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
        **options: Unpack[RequestOptions],
    ) -> HttpResponse:
        """Do a PUT request."""
        return await self.request(url, "PUT", headers, params, data, json, json_serializer,
                                  multipart, verify, ssl, timeouts, follow, http2, **options)

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
        **options: Unpack[RequestOptions],
    ) -> HttpResponse:
        """Do a PATCH request."""
        return await self.request(url, "PATCH", headers, params, data, json, json_serializer,
                                  multipart, verify, ssl, timeouts, follow, http2, **options)

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
        **options: Unpack[RequestOptions],
    ) -> HttpResponse:
        """Do a DELETE request."""
        return await self.request(url, "DELETE", headers, params, data or None, json,
                                  json_serializer, multipart, verify, ssl, timeouts, follow,
                                  http2, **options)

    async def head(
        self,
        url: str,
        headers: HeadersType | None = None,
        params: ParamsType | None = None,
        verify: bool = True,
        ssl: _ssl.SSLContext | None = None,
        timeouts: Timeouts | None = None,
        follow: bool = False,
        http2: bool = False,
        **options: Unpack[RequestOptions],
    ) -> HttpResponse:
        """Do a HEAD request (the response has headers and no body)."""
        return await self.request(url, "HEAD", headers, params, None, None, _json.dumps, False,
                                  verify, ssl, timeouts, follow, http2, **options)

    async def options(
        self,
        url: str,
        headers: HeadersType | None = None,
        params: ParamsType | None = None,
        verify: bool = True,
        ssl: _ssl.SSLContext | None = None,
        timeouts: Timeouts | None = None,
        follow: bool = False,
        http2: bool = False,
        **options: Unpack[RequestOptions],
    ) -> HttpResponse:
        """Do an OPTIONS request."""
        return await self.request(url, "OPTIONS", headers, params, None, None, _json.dumps,
                                  False, verify, ssl, timeouts, follow, http2, **options)

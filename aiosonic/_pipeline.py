"""The request pipeline: every request, from the client's arguments to its transport.

    start -> redirects -> auth -> hooks and retries -> transmit -> Transport.send(Exchange)

``start`` prepares what the caller passed (method, URL with its params, the encoded body,
the ``Call`` of everything else) and hands it to the first layer the request uses; the
client's verb methods await what it returns, so they run no coroutine of its own between
them and the transport.

Each layer is a plain function of the one below: it returns the awaitable of the layer
below when it has nothing to do for this request (so a request pays only for the layers it
uses: a bare ``get(url)`` goes straight from ``redirects`` to the transport), and a
coroutine that loops over the layer below when it has work (following redirects,
answering an auth challenge, trying again). No layer calls back into one above it.

``transmit`` turns one hop into an ``Exchange``: the route, the cookie header, and the
head from ``HeadCache`` (merged and encoded once per method, URL, header set, body headers
and route). It owns redirect rules (301/302 turn a POST into a GET, 303 anything but HEAD;
307/308 replay the body; credentials set for one origin are never sent to another), the
auth flow, hook calls and the retry loop. It never touches connections or parses bytes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from ._headers import HttpHeaders
from ._interfaces import Exchange, Transport
from ._mypyc import mypyc_attr
from ._request import NO_BODY, Body, HeadCache, encode_body
from ._upload import watch_upload
from ._url import URL, parse_url
from .exceptions import AiosonicError, InvalidRequest, MaxRedirects
from .hooks import EventHooks, Trace, call_hooks
from .limits import Limits
from .multipart import MultipartForm
from .request import Request
from .response import HttpResponse
from .retry import RetryPolicy

if TYPE_CHECKING:
    import ssl as _ssl

    from ._routes import Route
    from .auth import Auth, AuthsByHost
    from .connectors import TCPConnector
    from .cookies import CookieJar
    from .proxy import Proxy
    from .timeout import Timeouts

__all__ = ["Call", "Extras", "Pipeline", "check_decompress_limit"]

Progress = Callable[[int, int | None], object]
JsonSerializer = Callable[[Any], str | bytes]
#: The keyword options every verb takes besides its own parameters (``RequestOptions``).
_OPTIONS: Final = frozenset(
    {"max_redirects", "auth", "retry", "upload_progress", "download_progress", "expect100",
     "max_decompressed_size", "cookies"}
)
#: How long ``expect100=True`` holds a body back for a 100 Continue (curl's default).
EXPECT100_WAIT: Final = 1.0
#: Entries a per-client cache (parsed URLs with params, proxies) holds; cleared when full.
CACHE_MAX: Final = 1024

REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
IDEMPOTENT: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
# Headers that describe a body; dropped when a redirect turns the request into a GET.
_BODY_HEADERS: Final = frozenset({"content-length", "content-type", "transfer-encoding"})
# Credentials the caller set for one origin; never sent to another.
_ORIGIN_BOUND: Final = frozenset({"authorization", "cookie", "proxy-authorization"})


class Call:
    """What one request asked for beyond its method, URL, headers and body."""

    __slots__ = (
        "auth",
        "download_progress",
        "extras",
        "follow",
        "h2",
        "max_redirects",
        "origin",
        "retry",
        "ssl",
        "timeouts",
        "upload_progress",
        "verify",
    )

    def __init__(
        self,
        timeouts: Timeouts,
        verify: bool,
        ssl: _ssl.SSLContext | None,
        h2: str | None,
        follow: bool,
        max_redirects: int | None,
        origin: tuple[str, str, int],
        auth: Auth | None = None,
        retry: RetryPolicy | None = None,
        upload_progress: Progress | None = None,
        download_progress: Progress | None = None,
        extras: Extras | None = None,
    ) -> None:
        self.timeouts = timeouts
        self.verify = verify
        self.ssl = ssl
        self.h2 = h2
        self.follow = follow
        self.max_redirects = max_redirects
        self.origin = origin  # of the request as the caller made it (before redirects)
        self.auth = auth  # the caller's credentials: for that origin only
        self.retry = retry
        self.upload_progress = upload_progress
        self.download_progress = download_progress
        self.extras = extras  # the options few requests use (None: none of them)


class Extras:
    """The options of a request that few requests use, kept apart so that the others
    carry (and check) one None instead of each."""

    __slots__ = ("cookies", "decompress_limit", "expect100")

    def __init__(
        self, expect100: float | None, decompress_limit: int | None, cookies: str | None
    ) -> None:
        self.expect100 = expect100  # seconds to hold the body back for a 100 Continue
        self.decompress_limit = decompress_limit  # over Limits.max_decompressed_size
        self.cookies = cookies  # this request's own, as a Cookie header value


@mypyc_attr(allow_interpreted_subclasses=True)
class Pipeline:
    """The layers, as a base of ``HTTPClient`` (they read the client's settings as they
    are at the time of each request)."""

    connector: TCPConnector
    http2: bool
    cookie_jar: CookieJar | None
    event_hooks: EventHooks
    auth: Auth | None
    retry: RetryPolicy | None
    auths: AuthsByHost | None
    trust_env: bool
    max_redirects: int
    proxy: Proxy | None
    follow: bool  # HTTPClient(follow=): whether requests follow redirects by default
    _decompress_limit: int | None  # HTTPClient(max_decompressed_size=): over the Limits'
    _extras: Extras | None  # what a request without options of its own gets
    _heads: HeadCache
    _urls: dict[tuple[object, Any], URL]
    _transport: Transport  # what every request is sent through

    def _route(
        self, url: URL, verify: bool, ssl: _ssl.SSLContext | None, h2: str | None = None
    ) -> Route:
        raise NotImplementedError

    # -- start ----------------------------------------------------------------------------

    def _start(
        self,
        url: object,
        method: object,
        headers: Any,
        params: Any,
        data: Any,
        json: Any,
        json_serializer: JsonSerializer,
        multipart: bool,
        verify: bool,
        ssl: _ssl.SSLContext | None,
        timeouts: Timeouts | None,
        follow: bool | None,
        http2: bool,
        options: Mapping[str, Any],
    ) -> Awaitable[HttpResponse]:
        """``HTTPClient.request``'s arguments, checked and prepared, into the first layer.

        ``options`` are the keyword options of ``RequestOptions`` (a verb's ``**options``,
        passed as the dict it is: a call with no star-arguments into compiled code). ``url``
        and ``method`` are whatever the caller passed: they are checked here, with our
        errors (a compiled ``str`` annotation would raise its own TypeError first)."""
        max_redirects = auth = retry = upload_progress = download_progress = None
        extras = self._extras
        if options:
            for name in options:
                if name not in _OPTIONS:
                    raise TypeError(f"got an unexpected keyword argument {name!r}")
            max_redirects = options.get("max_redirects")
            auth = options.get("auth")
            retry = options.get("retry")
            upload_progress = options.get("upload_progress")
            download_progress = options.get("download_progress")
            expect100 = _expect100(options.get("expect100"))
            limit = options.get("max_decompressed_size")
            given = options.get("cookies")
            if expect100 is not None or limit is not None or given:
                extras = Extras(
                    expect100,
                    self._decompress_limit if limit is None else check_decompress_limit(limit),
                    cookie_header(given) if given else None,
                )
        if not isinstance(method, str):
            raise InvalidRequest(f"method must be a str, not {type(method).__name__}")
        method = method.upper()
        url_obj = parse_url(url) if not params else self._url(url, params)
        if data is None and json is None and not multipart:
            body = NO_BODY
        else:
            body = _encode(data, json, json_serializer, multipart)
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise InvalidRequest(f"retry must be a RetryPolicy, not {type(retry).__name__}")
        if auth is not None:
            from .auth import auth_from

            auth = auth_from(auth)
        connector = self.connector
        call = Call(
            timeouts or connector.timeouts,
            verify,
            ssl,
            "prior" if http2 else "alpn" if self.http2 or connector.http2 else None,
            self.follow if follow is None else follow,
            max_redirects,
            url_obj.origin,
            auth or self.auth,
            retry or self.retry,
            upload_progress,
            download_progress,
            extras,
        )
        return self._redirects(method, url_obj, headers, body, call)

    def _url(self, url: object, params: Any) -> URL:
        """``url`` parsed, with ``params`` appended (cached per URL and parameter set)."""
        try:
            key = (url, _params_key(params))
            found = self._urls.get(key)
        except TypeError:  # a parameter value that cannot be hashed
            return parse_url(url).with_params(params)
        if found is None:
            found = parse_url(url).with_params(params)
            if len(self._urls) >= CACHE_MAX:
                self._urls.clear()
            self._urls[key] = found
        return found

    # -- redirects ------------------------------------------------------------------------

    def _redirects(
        self, method: str, url: URL, headers: Any, body: Body, call: Call
    ) -> Awaitable[HttpResponse]:
        """The top of the pipeline: the first layer this request uses."""
        if call.follow:
            first = self._authenticated(method, url, headers, body, call)
            return self._follow(first, method, url, headers, body, call)
        if call.auth is not None or self.auths is not None or self.trust_env:
            return self._authenticated(method, url, headers, body, call)
        hooks = self.event_hooks
        if call.retry is not None or hooks.request or hooks.response or hooks.trace:
            return self._attempts(method, url, headers, body, call, None)
        return self._transmit(method, url, headers, body, call, None, None)

    async def _follow(
        self,
        first: Awaitable[HttpResponse],
        method: str,
        url: URL,
        headers: Any,
        body: Body,
        call: Call,
    ) -> HttpResponse:
        response = await first
        if response.status_code not in REDIRECTS:
            return response
        limit = self.max_redirects if call.max_redirects is None else call.max_redirects
        current = HttpHeaders(headers) if headers else HttpHeaders()
        seen = {(method, url.unparse())}
        history: list[HttpResponse] = []
        while response.status_code in REDIRECTS:
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
            if len(history) > limit:
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
            if "redirect" in self.event_hooks.trace:
                Trace(self.event_hooks.trace, Request(method, target.unparse(), current))(
                    "redirect", status_code=status, location=target.unparse()
                )
            url = target
            response = await self._authenticated(method, url, current, body, call)
        if history:
            response.history = history
        return response

    # -- auth -----------------------------------------------------------------------------

    def _auth_for(self, url: URL, headers: HttpHeaders, call: Call) -> Auth | None:
        """The credentials for one hop: the caller's on the origin they asked for, else
        ``auths`` for the hop's host, else ``.netrc`` (with ``trust_env``)."""
        if call.auth is not None and url.origin == call.origin:
            return call.auth
        if self.auths is not None:
            found = self.auths.lookup(url.host, url.port)
            if found is not None:
                return found
        if self.trust_env and url.userinfo is None and "authorization" not in headers:
            from .auth import netrc_auth

            return netrc_auth(url.host)
        return None

    def _authenticated(
        self, method: str, url: URL, headers: Any, body: Body, call: Call
    ) -> Awaitable[HttpResponse]:
        if call.auth is None and self.auths is None and not self.trust_env:
            return self._attempts(method, url, headers, body, call, None)
        return self._auth_flow(Request(method, url.unparse(), _copy(headers), body=body), call)

    async def _auth_flow(self, request: Request, call: Call) -> HttpResponse:
        """An auth challenge answered with a new attempt, as the scheme's flow says."""
        scheme = self._auth_for(request.parsed_url(), request.headers, call)
        if scheme is None:
            return await self._attempts_of(request, call)
        flow = scheme.auth_flow(request)
        request = next(flow)
        while True:
            response = await self._attempts_of(request, call)
            try:
                request = flow.send(response)
            except StopIteration:
                return response
            except BaseException:
                await response.discard()
                raise
            await response.discard()
            request.body = request.body.replay()

    # -- hooks and retries ----------------------------------------------------------------

    def _attempts_of(self, request: Request, call: Call) -> Awaitable[HttpResponse]:
        return self._attempts(request.method, request.parsed_url(), request.headers,
                              request.body, call, request)

    def _attempts(
        self,
        method: str,
        url: URL,
        headers: Any,
        body: Body,
        call: Call,
        request: Request | None,
    ) -> Awaitable[HttpResponse]:
        hooks = self.event_hooks
        if call.retry is None and not (hooks.request or hooks.response or hooks.trace):
            return self._transmit(method, url, headers, body, call, None, request)
        if request is None:
            request = Request(method, url.unparse(), _copy(headers), body=body)
        return self._retrying(request, call)

    async def _retrying(self, request: Request, call: Call) -> HttpResponse:
        """Request hooks, then tries under the retry policy, response hooks on each
        response."""
        hooks = self.event_hooks
        policy = call.retry
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
                response = await self._transmit(
                    request.method, request.parsed_url(), request.headers, request.body,
                    call, trace, request,
                )
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

    # -- transmit -------------------------------------------------------------------------

    def _transmit(
        self,
        method: str,
        url: URL,
        headers: Any,
        body: Body,
        call: Call,
        trace: Trace | None,
        request: Request | None,
    ) -> Awaitable[HttpResponse]:
        """One hop as an ``Exchange``, sent through the client's transport."""
        if call.upload_progress is not None:
            body = watch_upload(body, call.upload_progress)
        jar = self.cookie_jar
        cookie = jar.header_for(url) if jar is not None else None
        extras = call.extras
        if extras is not None and extras.cookies is not None:
            cookie = extras.cookies if cookie is None else cookie + "; " + extras.cookies
        route, head, pairs, chunked = self._heads.get(
            method, url, headers, body, cookie, call, self.proxy, self._route
        )
        data, stream, restart = body.data, body.stream, body.restart
        if chunked and data is not None:
            stream = [data]  # the caller asked for chunked framing
            restart = stream.copy
            data = None
        exchange = Exchange(method, url, route, head, pairs, call.timeouts, data, stream,
                            chunked, restart, method in IDEMPOTENT, trace, body)
        if request is not None and request.extensions:
            exchange.extensions = request.extensions
        if extras is not None:
            exchange.expect100 = extras.expect100
        sent = self._transport.send(exchange)
        if jar is None and call.download_progress is None and extras is None:
            return sent
        return _received(sent, url, jar, call.download_progress,
                         None if extras is None else extras.decompress_limit)


async def _received(
    sent: Awaitable[HttpResponse],
    url: URL,
    jar: CookieJar | None,
    download_progress: Progress | None,
    decompress_limit: int | None,
) -> HttpResponse:
    response = await sent
    if decompress_limit is not None:
        limits = response._limits
        if limits.max_decompressed_size != decompress_limit:
            response._limits = Limits(limits.max_head_size, limits.max_headers,
                                      limits.max_status_line, decompress_limit,
                                      limits.max_encodings)
    if jar is not None:
        jar.extract(url, response.raw_headers)
    if download_progress is not None:
        response._watch_download(download_progress)
    return response


def cookie_header(cookies: object) -> str:
    """A request's ``cookies=`` (a mapping of names to values) as a Cookie header value."""
    if not isinstance(cookies, Mapping):
        raise InvalidRequest(f"cookies must be a mapping, not {type(cookies).__name__}")
    from .cookies import check_cookie

    for name, value in cookies.items():
        check_cookie(str(name), str(value))
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def check_decompress_limit(value: object) -> int:
    """A ``max_decompressed_size`` given to the client or a request: a positive int."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"max_decompressed_size must be a positive int, not {value!r}")
    return value


def _expect100(value: object) -> float | None:
    """``expect100=``: True waits ``EXPECT100_WAIT`` seconds, a number that many, False or
    None not at all."""
    if value is None or value is False:
        return None
    if value is True:
        return EXPECT100_WAIT
    if isinstance(value, (int, float)) and 0 < value < float("inf"):
        return float(value)
    raise InvalidRequest(f"expect100 must be a bool or a positive number of seconds: {value!r}")


def _copy(headers: Any) -> HttpHeaders:
    """The caller's headers as a new ``HttpHeaders`` that hooks and auth may change."""
    return HttpHeaders(headers) if headers else HttpHeaders()


def _params_key(params: Any) -> Any:
    if type(params) is dict or isinstance(params, Mapping):  # dict first: no ABC check
        return tuple(params.items())
    return tuple(params)


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

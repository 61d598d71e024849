"""``BaseClient``: the base class of small typed wrappers around one HTTP API.

    class GitHub(BaseClient):
        base_url = "https://api.github.com"
        default_headers = {"Accept": "application/vnd.github+json"}
        parse_responses = True  # JSON or text back, HTTPStatusError on 4xx/5xx

        async def repo(self, owner: str, name: str) -> dict[str, Any]:
            return await self.get(f"/repos/{owner}/{name}")

    async with GitHub() as api:
        info = await api.repo("python", "cpython")

Each call goes through four hooks a subclass may override, in this order:
``process_request_url`` (join with ``base_url``), ``merge_headers`` (``default_headers``
under the call's own), ``process_request`` (send it) and ``process_response`` (by default
the ``HttpResponse`` itself, as upstream aiosonic 1.x returns it; with ``parse_responses``:
``HTTPStatusError`` on 4xx/5xx, then JSON for a JSON body, else text). A method outside
``methods`` raises ``InvalidRequest`` (a ``ValueError``, as upstream's) before anything is
sent.
It owns those defaults and hooks only; every request goes through an ``HTTPClient``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

from ._url import parse_url
from .client import HTTPClient
from .exceptions import InvalidRequest
from .response import HttpResponse

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["BaseClient"]


class BaseClient:
    """Subclass it, set ``base_url`` (and ``default_headers``, ``default_params``), and
    write the API's methods on top of ``get``/``post``/``put``/``patch``/``delete``
    (and ``head``/``options``).

    ``http_client``: an ``HTTPClient`` to share (it stays open when this wrapper closes);
    one is made, and closed with the wrapper, if None.

    Class attributes:

    - ``base_url``, ``default_headers``, ``default_params``: what every call starts from.
    - ``parse_responses``: False (the default, upstream's): a call returns the
      ``HttpResponse``. True: a 4xx or 5xx raises ``HTTPStatusError``, and a call returns
      the JSON body for a JSON Content-Type, else the text.
    - ``methods``: the HTTP methods ``request`` sends; any other raises ``InvalidRequest``
      (a ``ValueError``) before anything is sent (add to it for an API that speaks
      PROPFIND, say).
    """

    base_url: ClassVar[str] = ""
    default_headers: ClassVar[Mapping[str, str]] = {}
    default_params: ClassVar[Mapping[str, str]] = {}
    parse_responses: ClassVar[bool] = False
    methods: ClassVar[frozenset[str]] = frozenset(
        {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
    )

    def __init__(self, http_client: HTTPClient | None = None) -> None:
        self._owns_client = http_client is None
        self.client = http_client if http_client is not None else HTTPClient()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP client if this wrapper made it."""
        if self._owns_client:
            await self.client.close()

    # -- hooks ----------------------------------------------------------------------------

    def process_request_url(self, url: str) -> str:
        """An absolute ``http(s)://`` URL is used as is; anything else is a path joined to
        ``base_url`` (with exactly one slash between them)."""
        if url.startswith(("http://", "https://")) or not self.base_url:
            return url
        return self.base_url.rstrip("/") + "/" + url.lstrip("/")

    def merge_headers(self, headers: Mapping[str, str] | None) -> dict[str, str]:
        """``default_headers`` with the call's ``headers`` over them (names compared
        without case)."""
        merged = {name.lower(): (name, value) for name, value in self.default_headers.items()}
        for name, value in (headers or {}).items():
            merged[name.lower()] = (name, value)
        return dict(merged.values())

    def merge_params(self, params: Mapping[str, str] | None) -> dict[str, str] | None:
        """``default_params`` with the call's ``params`` over them."""
        if not self.default_params and not params:
            return None
        return {**self.default_params, **(params or {})}

    async def process_request(self, method: str, url: str, **kwargs: Any) -> HttpResponse:
        """Send the request (``kwargs`` are ``HTTPClient.request``'s)."""
        return await self.client.request(url, method, **kwargs)

    async def process_response(self, response: HttpResponse) -> Any:
        """Turn a response into the call's result: the response itself, or with
        ``parse_responses``, ``HTTPStatusError`` on 4xx/5xx, else the parsed JSON body if
        it is JSON, else the text."""
        if not self.parse_responses:
            return response
        response.raise_for_status()
        content_type = response.headers.get("content-type", "").split(";", 1)[0].strip()
        if content_type == "application/json" or content_type.endswith("+json"):
            return await response.json()
        return await response.text()

    # -- calls ----------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run a call through the hooks; ``kwargs`` go to ``HTTPClient.request``.

        ``method`` is compared without case; one not in ``methods`` raises
        ``InvalidRequest`` (a ``ValueError``, what upstream raises) before anything is sent."""
        verb = str(method).upper()
        if verb not in self.methods:
            raise InvalidRequest(
                f"HTTP method {method!r} is not supported by {type(self).__name__}"
            )
        full_url = self.process_request_url(url)
        parse_url(full_url)  # a clear InvalidURL now for a bad base_url or path
        response = await self.process_request(
            verb,
            full_url,
            headers=self.merge_headers(headers),
            params=self.merge_params(params),
            **kwargs,
        )
        return await self.process_response(response)

    async def get(self, url: str, **kwargs: Any) -> Any:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> Any:
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> Any:
        return await self.request("PUT", url, **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> Any:
        return await self.request("PATCH", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> Any:
        return await self.request("DELETE", url, **kwargs)

    async def head(self, url: str, **kwargs: Any) -> Any:
        return await self.request("HEAD", url, **kwargs)

    async def options(self, url: str, **kwargs: Any) -> Any:
        return await self.request("OPTIONS", url, **kwargs)

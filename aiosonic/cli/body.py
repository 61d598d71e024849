"""From ``Options`` to what ``HTTPClient.request`` takes: headers, query and body.

The CLI sets its default headers (User-Agent, Accept, Accept-Encoding) itself and
serialises JSON and urlencoded bodies itself, so that ``-v`` shows the request as it is sent.
Request items override defaults of the same name (compared without case). It never sends.
"""

from __future__ import annotations

import json
from base64 import b64encode
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from aiosonic import MultipartForm, __version__

from .args import Options

__all__ = ["PreparedRequest", "prepare"]

JSON_ACCEPT = "application/json, */*;q=0.5"
JSON_CONTENT_TYPE = "application/json"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


@dataclass
class PreparedRequest:
    """One request, ready to send to any number of URLs."""

    method: str
    headers: list[tuple[str, str]]
    params: list[tuple[str, str]]
    data: bytes | MultipartForm | None = None
    # Filled for display: the body when it is text, else a one-line description.
    preview: str = ""

    def target(self, url: str) -> str:
        """The request target (path and query) for ``url``, with the query items added."""
        parts = urlsplit(url)
        target = parts.path or "/"
        query = parts.query
        extra = urlencode(self.params)
        if extra:
            query = f"{query}&{extra}" if query else extra
        return f"{target}?{query}" if query else target

    def host(self, url: str) -> str:
        netloc = urlsplit(url).netloc
        return netloc.rpartition("@")[2]


def _merge(defaults: list[tuple[str, str]], given: list[tuple[str, str]]) -> list[tuple[str, str]]:
    names = {name.lower() for name, _ in given}
    return [pair for pair in defaults if pair[0].lower() not in names] + given


def prepare(options: Options) -> PreparedRequest:
    items = options.items
    wants_json = options.body_mode == "json" and (bool(items.data) or options.json_requested)
    defaults = [
        ("User-Agent", f"aiosonic/{__version__}"),
        ("Accept", JSON_ACCEPT if wants_json else "*/*"),
        ("Accept-Encoding", "gzip, deflate"),
    ]
    if options.auth is not None:
        credentials = options.auth.encode("utf-8")
        defaults.append(("Authorization", "Basic " + b64encode(credentials).decode("ascii")))
    body_headers: list[tuple[str, str]] = []
    data: bytes | MultipartForm | None = None
    preview = ""
    if options.raw is not None:
        data = options.raw.encode("utf-8")
        preview = options.raw
    elif options.body_mode == "multipart" and (items.data or items.files):
        form = MultipartForm()
        for name, value in items.data:
            form.add_field(name, str(value))
        for name, path in items.files:
            form.add_file(name, path)
        size = form.size()
        body_headers = [*form.get_headers().items(), ("Content-Length", str(size))]
        data = form
        preview = f"<multipart/form-data: {len(items.data)} fields, {len(items.files)} files, "
        preview += f"{size} bytes>"
    elif options.body_mode == "form" and items.data:
        text = urlencode([(name, str(value)) for name, value in items.data])
        data = text.encode("ascii")
        body_headers = [("Content-Type", FORM_CONTENT_TYPE)]
        preview = text
    elif items.data:
        text = json.dumps(dict(items.data), ensure_ascii=False)
        data = text.encode("utf-8")
        body_headers = [("Content-Type", JSON_CONTENT_TYPE)]
        preview = text
    if isinstance(data, bytes):
        body_headers.append(("Content-Length", str(len(data))))
    headers = _merge(_merge(defaults, body_headers), items.headers)
    return PreparedRequest(
        method=options.method,
        headers=headers,
        params=list(items.params),
        data=data,
        preview=preview,
    )

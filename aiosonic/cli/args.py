"""The command line's options: the argparse parser and the validated ``Options`` it yields.

``parse_args`` turns argv into ``Options`` or exits with status 2 (argparse's usage error)
after printing why. It knows nothing about sending requests or rendering output.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Literal

from aiosonic import __version__

from .exits import EXIT_CODES_HELP
from .items import ItemError, RequestItems, collect_items, expand_url, looks_like_method

__all__ = ["BodyMode", "Options", "Pretty", "build_parser", "parse_args"]

Pretty = Literal["all", "colors", "format", "none"]
BodyMode = Literal["json", "form", "multipart"]

DESCRIPTION = """\
An HTTP client for the command line, in the style of httpie, built on aiosonic.

request items:
  Header:Value     a request header                 key==value   a query parameter
  key=value        a data field (a JSON string)     key:=json    a raw JSON data field
  key=@path        a data field read from a file    key:=@path   raw JSON read from a file
  field@path       a file to upload (multipart/form-data)
  A backslash escapes a separator in the name (a\\=b=c sends the field "a=b").

Data fields are sent as a JSON object unless --form (urlencoded) or --multipart; file
fields imply --multipart. The method defaults to GET, or POST when there is data.
URL shorthands: ":8080/x" is http://localhost:8080/x, "example.com" is http://example.com.

Output: on a terminal the response head and a pretty body are shown (JSON indented and
highlighted, binary bodies replaced by a notice); when piped, only the body's bytes.
NO_COLOR=1 turns colours off unless --pretty asks for them."""

EPILOG = f"""\
parallel mode:
  aiosonic --parallel 20 --urls urls.txt     (or: aiosonic --parallel 20 @urls.txt)
  fetches every URL of the file (one per line, # comments) with N requests at once,
  shows live progress on a terminal and ends with a summary: status counts, errors,
  p50/p90/p99 latency and total time.

{EXIT_CODES_HELP}"""


@dataclass
class Options:
    """Everything one run was asked to do."""

    method: str
    url: str | None  # None in parallel mode
    items: RequestItems
    explicit_method: bool = False
    body_mode: BodyMode = "json"
    json_requested: bool = False
    raw: str | None = None
    auth: str | None = None
    follow: bool = False
    max_redirects: int = 30
    http2: bool = False
    timeout: float | None = None
    proxy: str | None = None
    insecure: bool = False
    cacert: str | None = None
    verbose: bool = False
    head_only: bool = False
    check_status: bool = False
    output: str | None = None
    pretty: Pretty | None = None  # None: decided by whether stdout is a terminal
    parallel: int | None = None
    urls_file: str | None = None


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aiosonic",
        usage="aiosonic [options] [METHOD] URL [REQUEST_ITEM ...]",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("args", nargs="*", metavar="[METHOD] URL [REQUEST_ITEM ...]",
                        help=argparse.SUPPRESS)
    body = parser.add_argument_group("request body")
    kind = body.add_mutually_exclusive_group()
    kind.add_argument("-j", "--json", action="store_true",
                      help="send data fields as a JSON object (the default) and ask for JSON")
    kind.add_argument("-f", "--form", action="store_true",
                      help="send data fields urlencoded (multipart when there are files)")
    kind.add_argument("--multipart", action="store_true",
                      help="send data fields and files as multipart/form-data")
    body.add_argument("--raw", metavar="DATA", help="send DATA as the request body, as is")

    request = parser.add_argument_group("request")
    request.add_argument("-a", "--auth", metavar="USER:PASS", help="HTTP Basic credentials")
    request.add_argument("-L", "--follow", action="store_true", help="follow redirects")
    request.add_argument("--max-redirects", type=_non_negative_int, default=30, metavar="N",
                         help="redirects -L may follow (default 30)")
    request.add_argument("--http2", action="store_true",
                         help="use HTTP/2: ALPN for https, prior knowledge (h2c) for http")
    request.add_argument("--timeout", type=_positive_float, metavar="SECONDS",
                         help="give up when connecting or waiting for data takes longer")
    request.add_argument("--proxy", metavar="URL", help="send through this HTTP proxy")
    request.add_argument("-k", "--insecure", action="store_true",
                         help="do not verify the server's TLS certificate")
    request.add_argument("--cacert", metavar="PATH",
                         help="trust the CA certificates in PATH (PEM) instead of the system's")

    output = parser.add_argument_group("output")
    output.add_argument("-v", "--verbose", action="store_true",
                        help="print the request head and body, then the response head")
    output.add_argument("-I", "--head", action="store_true", dest="head_only",
                        help="print heads only; sends HEAD unless a METHOD is given")
    output.add_argument("-o", "--output", metavar="FILE",
                        help="save the body to FILE (progress bar on a terminal)")
    output.add_argument("--pretty", choices=("all", "colors", "format", "none"),
                        help="force (all, colors, format) or turn off (none) pretty output")
    output.add_argument("--check-status", action="store_true",
                        help="exit 3, 4 or 5 on a 3xx, 4xx or 5xx response")

    many = parser.add_argument_group("parallel")
    many.add_argument("--parallel", type=_positive_int, metavar="N",
                      help="requests in flight at once with --urls (default 10)")
    many.add_argument("--urls", metavar="FILE", dest="urls_file",
                      help="fetch every URL listed in FILE and print a summary")

    parser.add_argument("--version", action="version", version=f"aiosonic {__version__}")
    return parser


def parse_args(argv: list[str]) -> Options:
    """``Options`` for ``argv``; prints the reason and raises ``SystemExit(2)`` if unusable."""
    parser = build_parser()
    ns = parser.parse_intermixed_args(argv)
    try:
        return _options(ns)
    except ItemError as exc:
        parser.error(str(exc))


def _options(ns: argparse.Namespace) -> Options:
    positional: list[str] = list(ns.args)
    explicit_method = False
    method = ""
    if positional and looks_like_method(positional[0]) and (
        len(positional) > 1 or ns.urls_file is not None
    ):
        method = positional.pop(0).upper()
        explicit_method = True
    urls_file: str | None = ns.urls_file
    url: str | None = None
    if urls_file is None:
        if not positional:
            raise ItemError("a URL is required")
        target = positional.pop(0)
        if target.startswith("@"):
            urls_file = target[1:]
        else:
            url = expand_url(target)
    if urls_file is None and ns.parallel is not None:
        raise ItemError("--parallel needs a list of URLs: --urls FILE or @FILE")
    items = collect_items(positional)

    mode: BodyMode = "form" if ns.form else "multipart" if ns.multipart else "json"
    if items.files:
        if ns.json:
            raise ItemError("file fields (field@path) cannot be sent as JSON; drop --json")
        mode = "multipart"
    if mode != "json" and items.has_raw_json:
        raise ItemError("raw JSON fields (key:=value) need a JSON body; drop --form/--multipart")
    if ns.raw is not None and (items.data or items.files):
        raise ItemError("--raw cannot be combined with data or file fields")
    has_body = bool(items.data or items.files) or ns.raw is not None
    if not method:
        method = "HEAD" if ns.head_only else "POST" if has_body else "GET"
    if urls_file is not None and (ns.output or ns.verbose):
        raise ItemError("-o and -v cannot be used with a list of URLs")
    return Options(
        method=method,
        url=url,
        items=items,
        explicit_method=explicit_method,
        body_mode=mode,
        json_requested=ns.json,
        raw=ns.raw,
        auth=ns.auth,
        follow=ns.follow,
        max_redirects=ns.max_redirects,
        http2=ns.http2,
        timeout=ns.timeout,
        proxy=ns.proxy,
        insecure=ns.insecure,
        cacert=ns.cacert,
        verbose=ns.verbose,
        head_only=ns.head_only,
        check_status=ns.check_status,
        output=ns.output,
        pretty=ns.pretty,
        parallel=(ns.parallel or 10) if urls_file is not None else None,
        urls_file=urls_file,
    )

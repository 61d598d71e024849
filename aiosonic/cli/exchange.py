"""One request from the command line: show it (``-v``), send it, show the response head,
then print, save (``-o``) or drop the body, and decide the exit code.

Bodies are streamed with ``read_chunks()``: piped output is written as it arrives, a
download goes straight to its file. Only what a terminal shows prettily is buffered.
It never parses arguments and never maps exceptions (``main`` does).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import BinaryIO, cast

from aiosonic import HttpResponse

from .console import Console
from .exits import ExitCode, exit_for_status
from .output import (
    Style,
    binary_notice,
    is_binary,
    render_body,
    render_request_head,
    render_response_head,
)
from .progress import DownloadProgress, LiveLine
from .session import Session

__all__ = ["run_exchange"]


def _chunks(response: HttpResponse) -> aclosing[AsyncGenerator[bytes, None]]:
    # Closing the generator when we stop early tells the response nobody will read the
    # rest, so its connection is closed rather than reused mid-body.
    return aclosing(cast(AsyncGenerator[bytes, None], response.read_chunks()))


async def run_exchange(session: Session, console: Console, style: Style) -> ExitCode:
    options = session.options
    url = options.url
    assert url is not None
    out = console.out
    if options.verbose:
        _show_request(session, url, console, style)
    response = await session.send(url)
    if options.verbose or options.head_only or console.out_is_tty:
        out.write(render_response_head(response, style.palette).encode("utf-8"))
        out.flush()
    if options.output is not None:
        await _download(response, options.output, console)
    elif options.head_only:
        await response.discard()
    else:
        await _print_body(response, console, style)
    out.flush()
    if not options.check_status:
        return ExitCode.OK
    code = exit_for_status(response.status_code)
    if code != ExitCode.OK and not console.out_is_tty:
        console.error(f"warning: HTTP {response.status_code} {response.reason}".rstrip())
    return code


def _show_request(session: Session, url: str, console: Console, style: Style) -> None:
    prepared = session.prepared
    version = "2" if session.options.http2 else "1.1"
    headers = [("Host", prepared.host(url)), *prepared.headers]
    text = render_request_head(prepared.method, prepared.target(url), version, headers,
                               style.palette)
    console.out.write(text.encode("utf-8"))
    if prepared.preview:
        content_type = next(
            (value for name, value in prepared.headers if name.lower() == "content-type"), ""
        )
        console.out.write(render_body(prepared.preview.encode("utf-8"), content_type, style))
        console.out.write(b"\n\n")
    console.out.flush()


async def _print_body(response: HttpResponse, console: Console, style: Style) -> None:
    out = console.out
    if not style.pretty and not console.out_is_tty:
        async for chunk in response.read_chunks():
            out.write(chunk)
        return
    pieces: list[bytes] = []
    async with _chunks(response) as stream:
        async for chunk in stream:
            if console.out_is_tty and is_binary(chunk):
                out.write(binary_notice(style.palette).encode("utf-8"))
                return
            pieces.append(chunk)
    rendered = render_body(b"".join(pieces), response.headers.get("content-type") or "", style)
    out.write(rendered)
    if console.out_is_tty and rendered and not rendered.endswith(b"\n"):
        out.write(b"\n")


def _expected_size(response: HttpResponse) -> int | None:
    # read_chunks() yields decoded bytes: a Content-Length of an encoded body says nothing.
    if response.headers.get("content-encoding"):
        return None
    length = response.headers.get("content-length") or ""
    return int(length) if length.isdigit() else None


def _create(path: str) -> BinaryIO:
    # Opening a local file blocks only briefly, and this loop serves nothing else meanwhile.
    return open(path, "wb")


async def _download(response: HttpResponse, path: str, console: Console) -> None:
    progress = DownloadProgress(_expected_size(response))
    live = LiveLine(console.err, console.err_width()) if console.err_is_tty else None
    try:
        with _create(path) as file:
            async for chunk in response.read_chunks():
                file.write(chunk)
                progress.add(len(chunk))
                if live is not None:
                    live.draw(progress.render(live.width))
    finally:
        if live is not None:
            live.draw(progress.render(live.width), force=True)
            console.err.write("\n")
    if console.err_is_tty:
        console.err.write(f"Saved {path}: {progress.summary()}\n")
        console.err.flush()

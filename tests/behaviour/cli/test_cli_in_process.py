"""The command line in-process: ``main()`` on the real stdout, option type errors, how
heads of every status class are shown on a terminal, a reader that goes away, and runs in
which every request fails."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from pathlib import Path

import pytest
from support.app import AppServer, payload, text_payload
from support.cli_run import cli, strip_ansi
from support.raw import RawRequest, RawServer, refused_port, simple_response

from aiosonic.cli.console import Console, _isatty
from aiosonic.cli.main import main, run
from aiosonic.cli.output import Style, render_body
from aiosonic.cli.progress import DownloadProgress, LiveLine


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["--timeout", "soon", "example.com"], "not a number: 'soon'"),
        (["--parallel", "many", "@urls.txt"], "not an integer: 'many'"),
        (["--parallel", "0", "@urls.txt"], "must be at least 1: '0'"),
        (["--max-redirects", "lots", "example.com"], "not an integer: 'lots'"),
        (["--max-redirects", "-1", "example.com"], "must be 0 or more: '-1'"),
        (["-v", "@urls.txt"], "-o and -v cannot be used with a list of URLs"),
        (["example.com", "X-Bad:one\ntwo"], "contains a line break or NUL"),
    ],
)
def test_bad_option_values_are_usage_errors(argv: list[str], complaint: str) -> None:
    out, err = io.BytesIO(), io.StringIO()
    assert run(argv, Console(out=out, err=err)) == 2
    assert complaint in err.getvalue()
    assert out.getvalue() == b""


async def test_main_writes_the_body_to_the_real_stdout(
    server: AppServer, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    code = await asyncio.to_thread(main, [server.url("/bytes/3000")])
    captured = capsysbinary.readouterr()
    assert code == 0
    assert captured.out == payload(3000)
    assert captured.err == b""


async def test_main_ends_quietly_when_the_reader_of_stdout_goes_away(
    server: AppServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `aiosonic URL | head -c 10`: the pipe's reader is gone before the body is written.
    read_end, write_end = os.pipe()
    os.close(read_end)
    stdout = io.TextIOWrapper(io.FileIO(write_end, "wb", closefd=False))
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", stderr)
    try:
        code = await asyncio.to_thread(main, [server.url("/bytes/200000")])
        assert code == 0
        assert stderr.getvalue() == ""  # no traceback, no message
        # stdout now goes nowhere, so the interpreter's last flush cannot fail either
        assert os.write(write_end, b"late") == 4
    finally:
        monkeypatch.undo()
        os.close(write_end)


def test_a_missing_or_closed_stream_is_not_a_terminal() -> None:
    assert _isatty(None) is False  # sys.stderr is None when started with stderr closed
    closed = io.StringIO()
    closed.close()
    assert _isatty(closed) is False
    console = Console.from_sys()
    assert console.out is sys.stdout.buffer
    assert console.err is sys.stderr


async def test_terminal_heads_are_coloured_by_status_class(server: AppServer) -> None:
    redirect = await cli(server.url("/absolute-redirect?to=/echo"), out_tty=True)
    assert redirect.code == 0
    assert redirect.text.startswith("\x1b[34mHTTP/1.1\x1b[0m \x1b[1;33m302\x1b[0m")
    missing = await cli(server.url("/status/404"), out_tty=True)
    assert missing.text.startswith("\x1b[34mHTTP/1.1\x1b[0m \x1b[1;31m404\x1b[0m")
    assert strip_ansi(missing.text).startswith("HTTP/1.1 404 Not Found\n")


@pytest.mark.parametrize(
    ("status", "shown"),
    [("200 ", "HTTP/1.1 200 OK\n"), ("599 ", "HTTP/1.1 599\n")],
)
async def test_an_empty_reason_phrase_is_filled_in_when_the_status_is_known(
    raw_server: type[RawServer], status: str, shown: str
) -> None:
    async def respond(request: RawRequest) -> bytes:
        return simple_response(b"hello", status=status)

    srv = await raw_server(respond=respond)  # type: ignore[call-arg]
    result = await cli(srv.url("/"), out_tty=True, env={"NO_COLOR": "1"})
    assert result.code == 0
    assert result.text.startswith(shown)
    assert result.text.endswith("\n\nhello\n")  # a newline added after the body on a terminal


async def test_verbose_request_line_keeps_the_url_query(server: AppServer) -> None:
    result = await cli("-v", server.url("/echo?a=1"), env={"NO_COLOR": "1"})
    assert result.code == 0
    assert result.text.startswith("GET /echo?a=1 HTTP/1.1\n")


async def test_a_run_in_which_every_request_fails_reports_no_latency(tmp_path: Path) -> None:
    sock = refused_port()
    urls = tmp_path / "urls.txt"
    urls.write_text(f"http://127.0.0.1:{sock.getsockname()[1]}/\n" * 3)
    try:
        result = await cli("--parallel", "2", "--urls", str(urls))
    finally:
        sock.close()
    assert result.code == 1
    assert "ConnectError: 3" in result.text
    assert "Latency:   n/a" in result.text


def test_json_that_does_not_decode_in_its_charset_is_shown_as_received() -> None:
    body = b'{"name": "caf\xe9"}'  # latin-1 bytes under a utf-8 label
    assert render_body(body, "application/json; charset=utf-8", Style(format=True)) == body


def test_an_unknown_charset_falls_back_to_utf8() -> None:
    body = '{"name": "café"}'.encode()
    shown = render_body(body, "application/json; format=x; charset=no-such", Style(format=True))
    assert shown == '{\n    "name": "café"\n}'.encode()


def test_download_progress_before_any_byte_and_on_a_narrow_terminal() -> None:
    progress = DownloadProgress(500, clock=lambda: 0.0)
    assert progress.render(80).endswith("] 0 B/500 B  0 B/s  ETA --:--")
    narrow = progress.render(30)
    assert narrow == "  0% 0 B/500 B  0 B/s  ETA --:--"[:29]  # no room for a bar


def test_clearing_a_live_line_that_was_never_drawn_writes_nothing() -> None:
    err = io.StringIO()
    line = LiveLine(err)
    line.clear()
    assert err.getvalue() == ""


async def test_a_refused_connection_is_one_line_without_a_doubled_prefix() -> None:
    sock = refused_port()
    try:
        result = await cli(f"http://127.0.0.1:{sock.getsockname()[1]}/")
    finally:
        sock.close()
    assert result.code == 1
    assert result.err.startswith("aiosonic: cannot connect to 127.0.0.1:")
    assert "cannot connect: cannot connect" not in result.err
    assert result.err.count("\n") == 1


async def test_a_compressed_download_shows_progress_without_a_total(
    server: AppServer, tmp_path: Path
) -> None:
    # Content-Length counts the gzip bytes, the file gets the decoded ones: no percentage.
    target = tmp_path / "text.txt"
    result = await cli("-o", str(target), server.url("/compressed/gzip?n=50000"),
                       err_tty=True)
    assert result.code == 0
    assert target.read_bytes() == text_payload(50000)
    assert "Saved " in result.err
    assert "%" not in result.err

"""``python -m aiosonic`` as a real subprocess: the entry point, exit codes and messages
on failures, and what a (pseudo-)terminal gets: colours, indentation, NO_COLOR, progress."""

from __future__ import annotations

from pathlib import Path

from support.app import AppServer, payload
from support.cli_run import cli_process, cli_pty, strip_ansi
from support.raw import refused_port


async def test_module_entry_point_pipes_raw_body(server: AppServer) -> None:
    result = await cli_process(server.url("/bytes/100000"))
    assert result.code == 0, result.err
    assert result.out == payload(100_000)
    assert result.err == ""


async def test_connection_refused(server: AppServer) -> None:
    sock = refused_port()
    try:
        port = sock.getsockname()[1]
        result = await cli_process(f"http://127.0.0.1:{port}/")
    finally:
        sock.close()
    assert result.code == 1
    assert result.out == b""
    assert result.err.startswith("aiosonic: cannot connect")
    assert result.err.count("\n") == 1  # one line, no traceback
    assert "Traceback" not in result.err


async def test_usage_error_exit_code() -> None:
    result = await cli_process("--bogus")
    assert result.code == 2
    assert "usage: aiosonic" in result.err


async def test_colours_and_indentation_on_a_terminal(server: AppServer) -> None:
    result = await cli_pty(server.url("/json"))
    assert result.code == 0, result.err
    text = result.text
    assert "\x1b[" in text
    head, _, body = strip_ansi(text).partition("\n\n")
    assert head.startswith("HTTP/1.1 200 OK\n")
    assert "Content-Type: application/json" in head
    assert '{\n    "name": "aiosonic",\n    "numbers": [\n        1,' in body


async def test_no_color_on_a_terminal(server: AppServer) -> None:
    result = await cli_pty(server.url("/json"), env={"NO_COLOR": "1"})
    assert result.code == 0, result.err
    assert "\x1b[" not in result.text
    assert '{\n    "name": "aiosonic",' in result.text  # still indented


async def test_progress_bar_on_a_terminal(server: AppServer, tmp_path: Path) -> None:
    target = tmp_path / "download.bin"
    result = await cli_pty("-o", str(target), server.url("/bytes/400000"), tty="stderr")
    assert result.code == 0, result.err
    assert target.read_bytes() == payload(400_000)
    assert "100%" in result.err
    assert "\r\x1b[K" in result.err
    assert result.out == b""

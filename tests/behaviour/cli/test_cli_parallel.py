"""Parallel mode: many URLs from a file, at most N in flight, and the summary."""

from __future__ import annotations

from pathlib import Path

from support.app import AppServer
from support.cli_run import cli, cli_process
from support.raw import refused_port


async def test_parallel_summary_counts_statuses_and_errors(
    server: AppServer, tmp_path: Path
) -> None:
    sock = refused_port()
    refused = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    urls = tmp_path / "urls.txt"
    lines = ["# a comment", "", *[server.url(f"/echo?i={i}") for i in range(18)]]
    lines += [server.url("/status/404"), refused]
    urls.write_text("\n".join(lines) + "\n")
    try:
        result = await cli_process("--parallel", "5", "--urls", str(urls))
    finally:
        sock.close()
    assert result.code == 1  # a request failed
    summary = result.text
    assert "Requests:  20 of 20" in summary
    assert "200: 18  404: 1" in summary
    assert "ConnectError: 1" in summary
    for mark in ("p50 ", "p90 ", "p99 "):
        assert mark in summary
    assert server.state.requests == 19


async def test_parallel_limits_requests_in_flight(server: AppServer, tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text("\n".join(server.url(f"/slow?delay=0.05&i={i}") for i in range(12)))
    result = await cli("--parallel", "4", f"@{urls}", "--check-status", err_tty=True)
    assert result.code == 0, result.err
    assert "200: 12" in result.text
    assert "Errors:    none" in result.text
    assert 1 < server.state.max_in_flight <= 4
    assert "12/12 done" in result.err  # the live line on a terminal


async def test_parallel_check_status(server: AppServer, tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text(f"{server.url('/status/200')}\n{server.url('/status/503')}\n")
    assert (await cli("--urls", str(urls))).code == 0
    checked = await cli("--urls", str(urls), "--check-status")
    assert checked.code == 5
    assert "200: 1  503: 1" in checked.text


async def test_parallel_bad_url_list(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    result = await cli("--urls", str(empty))
    assert result.code == 2
    assert "no URLs" in result.err
    missing = await cli("--urls", str(tmp_path / "missing.txt"))
    assert missing.code == 2
    assert "cannot read the URL list" in missing.err

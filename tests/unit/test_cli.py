"""Pure parts of the command line: request items, URL shorthands, JSON highlighting,
progress rendering, percentiles, the output style and usage errors. No network."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from support.cli_run import strip_ansi

from aiosonic.cli.ansi import Palette
from aiosonic.cli.args import parse_args
from aiosonic.cli.console import Console
from aiosonic.cli.exits import EXIT_CODES_HELP, ExitCode, exit_for_status
from aiosonic.cli.highlight import format_json
from aiosonic.cli.items import ItemError, collect_items, expand_url, parse_item
from aiosonic.cli.main import run
from aiosonic.cli.output import choose_style, render_body
from aiosonic.cli.parallel import Stats, percentile
from aiosonic.cli.progress import DownloadProgress, LiveLine, format_bytes, format_duration


@pytest.mark.parametrize(
    ("arg", "key", "sep", "value"),
    [
        ("X-Token:abc", "X-Token", ":", "abc"),
        ("name=value", "name", "=", "value"),
        ("q==1", "q", "==", "1"),
        ("n:=42", "n", ":=", "42"),
        ("doc:=@data.json", "doc", ":=@", "data.json"),
        ("text=@notes.txt", "text", "=@", "notes.txt"),
        ("file@/tmp/x.bin", "file", "@", "/tmp/x.bin"),
        ("url=http://h:1/?a=b", "url", "=", "http://h:1/?a=b"),  # leftmost separator wins
        ("Accept:a=b", "Accept", ":", "a=b"),
        (r"a\=b=c", "a=b", "=", "c"),
        (r"a\:b:=1", "a:b", ":=", "1"),
        ("empty=", "empty", "=", ""),
    ],
)
def test_parse_item(arg: str, key: str, sep: str, value: str) -> None:
    item = parse_item(arg)
    assert (item.key, item.sep, item.value) == (key, sep, value)


@pytest.mark.parametrize("arg", ["noseparator", "=value", ":x"])
def test_parse_item_rejects(arg: str) -> None:
    with pytest.raises(ItemError):
        parse_item(arg)


def test_collect_items_by_kind(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    doc = tmp_path / "doc.json"
    doc.write_text('{"k": [1, 2]}')
    items = collect_items(
        ["X-A: one", "q==1", "s=v", "n:=3", f"t=@{notes}", f"d:=@{doc}", f"f@{notes}"]
    )
    assert items.headers == [("X-A", "one")]
    assert items.params == [("q", "1")]
    assert items.data == [("s", "v"), ("n", 3), ("t", "hello"), ("d", {"k": [1, 2]})]
    assert items.files == [("f", str(notes))]
    assert items.has_raw_json


@pytest.mark.parametrize(
    "arg", ["n:=nope", "f@/does/not/exist", "t=@/does/not/exist", "Bad Header:x"]
)
def test_collect_items_errors(arg: str) -> None:
    with pytest.raises(ItemError):
        collect_items([arg])


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (":8080/x?y=1", "http://localhost:8080/x?y=1"),
        (":/x", "http://localhost/x"),
        (":", "http://localhost"),
        ("example.com/a", "http://example.com/a"),
        ("localhost:3000", "http://localhost:3000"),
        ("https://example.com", "https://example.com"),
    ],
)
def test_expand_url(given: str, expected: str) -> None:
    assert expand_url(given) == expected


@pytest.mark.parametrize("given", ["ftp://example.com", ":abc/x"])
def test_expand_url_rejects(given: str) -> None:
    with pytest.raises(ItemError):
        expand_url(given)


def test_method_and_url_detection() -> None:
    assert parse_args(["example.com"]).method == "GET"
    assert parse_args(["example.com", "a=1"]).method == "POST"
    options = parse_args(["delete", "example.com"])
    assert (options.method, options.url) == ("DELETE", "http://example.com")
    assert parse_args(["-I", "example.com"]).method == "HEAD"
    assert parse_args(["PURGE", "example.com", "x==1"]).method == "PURGE"
    assert parse_args(["example.com", "f@" + __file__]).body_mode == "multipart"
    many = parse_args(["@urls.txt"])
    assert (many.url, many.urls_file, many.parallel) == (None, "urls.txt", 10)


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--no-such-option", "example.com"],
        ["example.com", "nosep"],
        ["--form", "example.com", "a:=1"],
        ["--json", "example.com", "f@" + __file__],
        ["--parallel", "3", "example.com"],
        ["--timeout", "-1", "example.com"],
        ["--raw", "x", "example.com", "a=1"],
        ["ftp://example.com"],
    ],
)
def test_usage_errors_exit_2(argv: list[str]) -> None:
    out, err = io.BytesIO(), io.StringIO()
    assert run(argv, Console(out=out, err=err)) == 2
    assert "usage:" in err.getvalue() or "error:" in err.getvalue()
    assert out.getvalue() == b""


def test_format_json_keeps_tokens_and_indents() -> None:
    text = '{"a":[1,2.50e3,{}],"b":{"c":null,"d":"x:\\"y"},"e":[],"f":true}'
    plain = format_json(text, Palette.plain())
    assert plain is not None
    assert json.loads(plain) == json.loads(text)
    assert plain.splitlines() == [
        "{",
        '    "a": [',
        "        1,",
        "        2.50e3,",
        "        {}",
        "    ],",
        '    "b": {',
        '        "c": null,',
        '        "d": "x:\\"y"',
        "    },",
        '    "e": [],',
        '    "f": true',
        "}",
    ]
    coloured = format_json(text, Palette())
    assert coloured is not None
    assert strip_ansi(coloured) == plain
    palette = Palette()
    assert f'{palette.key}"a"' in coloured
    assert f'{palette.string}"x:\\"y"' in coloured
    assert f"{palette.number}2.50e3" in coloured
    assert f"{palette.literal}null" in coloured


def test_format_json_colours_only_keeps_layout() -> None:
    text = '{"a": 1,\n "b": [true]}'
    coloured = format_json(text, Palette(), indent=None)
    assert coloured is not None
    assert strip_ansi(coloured) == text
    assert "\x1b[" in coloured


@pytest.mark.parametrize("text", ["{bad", "", "[1,]", "nan"])
def test_format_json_rejects_non_json(text: str) -> None:
    assert format_json(text, Palette()) is None


def test_render_body_only_touches_json() -> None:
    style = choose_style("all", out_is_tty=False, no_color=False)
    assert render_body(b"<p>hi</p>", "text/html", style) == b"<p>hi</p>"
    assert render_body(b"{not json", "application/json", style) == b"{not json"
    assert b"\n    " in render_body(b'{"a": 1}', "application/problem+json", style)
    assert b"\n    " in render_body(b'{"a": 1}', "text/plain", style)  # mislabelled JSON
    assert render_body(b'{"a": 1}', "application/json", choose_style(None, False, False)) == (
        b'{"a": 1}'
    )


def test_choose_style() -> None:
    assert choose_style(None, out_is_tty=False, no_color=False).pretty is False
    tty = choose_style(None, out_is_tty=True, no_color=False)
    assert (tty.colors, tty.format) == (True, True)
    no_color = choose_style(None, out_is_tty=True, no_color=True)
    assert (no_color.colors, no_color.format) == (False, True)
    forced = choose_style("all", out_is_tty=False, no_color=True)
    assert (forced.colors, forced.format) == (True, True)  # an explicit flag beats NO_COLOR
    assert choose_style("none", out_is_tty=True, no_color=False).pretty is False
    assert choose_style("colors", out_is_tty=False, no_color=False).format is False


def test_console_no_color_follows_the_convention() -> None:
    err = io.StringIO()
    assert Console(io.BytesIO(), err, env={"NO_COLOR": "1"}).no_color
    assert not Console(io.BytesIO(), err, env={"NO_COLOR": ""}).no_color
    assert not Console(io.BytesIO(), err, env={}).no_color


def test_formatting_helpers() -> None:
    assert format_bytes(999) == "999 B"
    assert format_bytes(1234567) == "1.2 MB"
    assert format_duration(75) == "1:15"
    assert format_duration(3700) == "1:01:40"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_download_progress_known_total() -> None:
    clock = Clock()
    progress = DownloadProgress(total=10_000_000, clock=clock)
    clock.now += 2
    progress.add(2_500_000)
    line = progress.render(80)
    assert line.startswith(" 25% [")
    assert "2.5 MB/10.0 MB" in line
    assert "1.2 MB/s" in line  # 2.5 MB in 2 s
    assert "ETA 0:06" in line
    assert len(line) <= 79
    progress.add(7_500_000)
    assert "100%" in progress.render(80)
    assert "done" in progress.render(80)


def test_download_progress_unknown_total() -> None:
    clock = Clock()
    progress = DownloadProgress(total=None, clock=clock)
    clock.now += 4
    progress.add(4000)
    assert progress.render(80) == "4.0 kB  1.0 kB/s  0:04"


def test_live_line_throttles_and_clears() -> None:
    clock = Clock()
    stream = io.StringIO()
    live = LiveLine(stream, width=30, interval=0.5, clock=clock)
    live.draw("first")
    live.draw("skipped: too soon")
    clock.now += 1
    live.draw("x" * 100)
    live.clear()
    text = stream.getvalue()
    assert "skipped" not in text
    assert text.count("\r\x1b[K") == 3
    assert "x" * 29 in text and "x" * 30 not in text  # cut to the width


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 90) == 90.0
    assert percentile(values, 99) == 99.0
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_stats_summary_and_exit_codes() -> None:
    stats = Stats(total=4, latencies=[0.001, 0.002, 0.003], received=2000, elapsed=0.5)
    stats.statuses.update({200: 2, 404: 1})
    assert stats.exit_code(check_status=False) == ExitCode.OK
    assert stats.exit_code(check_status=True) == ExitCode.HTTP_4XX
    stats.errors["ConnectError"] += 1
    summary = stats.summary(concurrency=2)
    assert "4 of 4" in summary
    assert "200: 2  404: 1" in summary
    assert "ConnectError: 1" in summary
    assert "p50 2.0 ms  p90 3.0 ms  p99 3.0 ms" in summary
    assert stats.exit_code(check_status=False) == ExitCode.ERROR


def test_exit_codes_are_documented() -> None:
    assert [exit_for_status(s) for s in (200, 302, 404, 503)] == [0, 3, 4, 5]
    for code in ExitCode:
        assert f"\n  {int(code)} " in "\n" + EXIT_CODES_HELP

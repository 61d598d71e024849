"""The command line in-process (``run`` in a worker thread) against the aiohttp test server:
what it sends for each kind of request item and what it prints, saves and exits with."""

from __future__ import annotations

import json
from pathlib import Path

from support.app import AppServer, echo_body, header_values, loads, payload
from support.cli_run import cli, strip_ansi


async def test_get_body_piped_raw(server: AppServer) -> None:
    result = await cli(server.url("/bytes/70000"))
    assert result.code == 0
    assert result.out == payload(70000)  # only the body, byte for byte
    assert result.err == ""


async def test_streamed_body_piped_raw(server: AppServer) -> None:
    result = await cli(server.url("/stream/300000?piece=7000"))
    assert result.code == 0
    assert result.out == payload(300000)


async def test_data_items_are_sent_as_json(server: AppServer) -> None:
    result = await cli(
        server.url("/echo"), "name=ada", "age:=36", 'tags:=["x", "y"]', "nested:={\"k\": null}"
    )
    assert result.code == 0
    doc = loads(result.out)
    assert doc["method"] == "POST"  # data items make the default method POST
    assert header_values(doc, "Content-Type") == ["application/json"]
    assert header_values(doc, "Accept") == ["application/json, */*;q=0.5"]
    assert json.loads(echo_body(doc)) == {
        "name": "ada", "age": 36, "tags": ["x", "y"], "nested": {"k": None}
    }


async def test_explicit_method_and_json_from_files(server: AppServer, tmp_path: Path) -> None:
    (tmp_path / "bio.txt").write_text("line one\nline two")
    (tmp_path / "doc.json").write_text('{"deep": [1, 2]}')
    result = await cli(
        "PUT", server.url("/echo"), f"bio=@{tmp_path / 'bio.txt'}", f"doc:=@{tmp_path / 'doc.json'}"
    )
    doc = loads(result.out)
    assert doc["method"] == "PUT"
    assert json.loads(echo_body(doc)) == {"bio": "line one\nline two", "doc": {"deep": [1, 2]}}


async def test_form_fields_are_urlencoded(server: AppServer) -> None:
    result = await cli("--form", server.url("/echo"), "a=1", "b=two words", r"c\=d=é")
    doc = loads(result.out)
    assert doc["method"] == "POST"
    assert header_values(doc, "Content-Type") == [
        "application/x-www-form-urlencoded; charset=utf-8"
    ]
    assert echo_body(doc) == b"a=1&b=two+words&c%3Dd=%C3%A9"


async def test_multipart_file_upload(server: AppServer, tmp_path: Path) -> None:
    upload = tmp_path / "photo.bin"
    upload.write_bytes(payload(100_000, seed=3))
    for flags in (["--multipart"], []):  # a file item implies multipart
        result = await cli(*flags, server.url("/multipart"), "title=holiday", f"image@{upload}")
        assert result.code == 0, result.err
        doc = loads(result.out)
        assert doc["content_type"].startswith("multipart/form-data; boundary=")
        parts = {part["name"]: part for part in doc["parts"]}
        assert parts["title"]["filename"] is None
        assert echo_body({"body_b64": parts["title"]["data_b64"]}) == b"holiday"
        assert parts["image"]["filename"] == "photo.bin"
        assert echo_body({"body_b64": parts["image"]["data_b64"]}) == payload(100_000, seed=3)


async def test_query_params_and_headers(server: AppServer) -> None:
    result = await cli(
        server.url("/echo?keep=1"), "q==a b", "q==c", "X-One:1", "X-Two: two words",
        "User-Agent:cli-test",
    )
    doc = loads(result.out)
    assert doc["method"] == "GET"
    assert doc["query"] == "keep=1&q=a+b&q=c"
    assert header_values(doc, "X-One") == ["1"]
    assert header_values(doc, "X-Two") == ["two words"]
    assert header_values(doc, "User-Agent") == ["cli-test"]  # items replace the defaults


async def test_auth_and_raw_body(server: AppServer) -> None:
    result = await cli("--raw", "plain text", "-a", "user:pa ss", server.url("/echo"))
    doc = loads(result.out)
    assert doc["method"] == "POST"
    assert echo_body(doc) == b"plain text"
    assert header_values(doc, "Authorization") == ["Basic dXNlcjpwYSBzcw=="]


async def test_download_to_file(server: AppServer, tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    result = await cli("-o", str(target), server.url("/stream/500000?piece=10000"))
    assert result.code == 0
    assert target.read_bytes() == payload(500_000)
    assert result.out == b""
    assert result.err == ""  # no progress when stderr is not a terminal


async def test_download_progress_on_terminal_stderr(server: AppServer, tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    result = await cli("-o", str(target), server.url("/bytes/300000"), err_tty=True)
    assert result.code == 0
    assert target.read_bytes() == payload(300_000)
    assert "\r\x1b[K" in result.err
    assert "100%" in result.err
    assert "300.0 kB/300.0 kB" in result.err
    assert f"Saved {target}" in result.err


async def test_head_only(server: AppServer) -> None:
    result = await cli("-I", server.url("/json"))
    assert result.code == 0
    head, _, body = result.text.partition("\n\n")
    assert head.startswith("HTTP/1.1 200 OK\n")
    assert "Content-Type: application/json" in head
    assert body == ""
    assert server.state.requests == 1


async def test_verbose_shows_request_and_response_heads(server: AppServer) -> None:
    result = await cli("-v", server.url("/echo"), "x==1", "X-Test:yes", "k=v")
    assert result.code == 0
    text = result.text
    request, _, rest = text.partition("\n\n")
    assert request.splitlines()[0] == "POST /echo?x=1 HTTP/1.1"
    assert f"Host: 127.0.0.1:{server.port}" in request
    assert "X-Test: yes" in request
    assert "Content-Type: application/json" in request
    sent_body, _, rest = rest.partition("\n\n")
    assert json.loads(sent_body) == {"k": "v"}
    response, _, body = rest.partition("\n\n")
    assert response.startswith("HTTP/1.1 200 OK\n")
    doc = json.loads(body)
    assert header_values(doc, "X-Test") == ["yes"]
    assert echo_body(doc) == sent_body.encode()


async def test_redirects_followed_only_with_follow(server: AppServer) -> None:
    unfollowed = await cli("--check-status", server.url("/redirect/2"))
    assert unfollowed.code == 3
    assert "302" in unfollowed.err
    followed = await cli("-L", "--check-status", server.url("/redirect/2"))
    assert followed.code == 0
    assert loads(followed.out)["query"] == "from=redirect"
    too_many = await cli("-L", "--max-redirects", "1", server.url("/redirect/2"))
    assert too_many.code == 6
    assert too_many.err.startswith("aiosonic: too many redirects")


async def test_check_status_exit_codes(server: AppServer) -> None:
    for status, code in ((200, 0), (204, 0), (404, 4), (418, 4), (500, 5), (503, 5)):
        result = await cli("--check-status", server.url(f"/status/{status}"))
        assert result.code == code, status
        assert (f"warning: HTTP {status}" in result.err) == (code != 0)
    assert (await cli(server.url("/status/500"))).code == 0  # only with --check-status


async def test_terminal_output_is_pretty(server: AppServer) -> None:
    result = await cli(server.url("/json"), out_tty=True)
    text = result.text
    assert "\x1b[" in text
    plain = strip_ansi(text)
    head, _, body = plain.partition("\n\n")
    assert head.startswith("HTTP/1.1 200 OK")
    assert '\n    "name": "aiosonic",\n' in body
    assert body.endswith("}\n")
    no_color = await cli(server.url("/json"), out_tty=True, env={"NO_COLOR": "1"})
    assert "\x1b[" not in no_color.text
    assert '\n    "name": "aiosonic",\n' in no_color.text


async def test_pretty_flags_override_the_terminal(server: AppServer) -> None:
    forced = await cli("--pretty=all", server.url("/json"))
    assert "\x1b[" in forced.text
    assert not forced.text.startswith("HTTP/")  # piped: still only the body
    off = await cli("--pretty=none", server.url("/json"), out_tty=True)
    assert "\x1b[" not in off.text
    assert '"name": "aiosonic", "numbers"' in off.text  # as received, not re-indented


async def test_binary_body_on_terminal_is_not_printed(server: AppServer) -> None:
    result = await cli(server.url("/bytes/200000"), out_tty=True, env={"NO_COLOR": "1"})
    assert result.code == 0
    assert "NOTE: binary data not shown in terminal" in result.text
    assert payload(200_000)[:64] not in result.out
    piped = await cli(server.url("/bytes/2000"))
    assert piped.out == payload(2000)


async def test_timeout_in_process(server: AppServer) -> None:
    result = await cli("--timeout", "0.2", server.url("/slow?delay=5"))
    assert result.code == 7
    assert result.err.startswith("aiosonic: timed out")
    assert result.err.count("\n") == 1

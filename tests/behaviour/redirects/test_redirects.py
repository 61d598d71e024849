"""Following redirects (``follow=True``) against a real aiohttp server: how Location is
resolved, which method and body the next hop gets, limits and loops, and which caller headers
survive a change of origin."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from urllib.parse import quote

import pytest
from support.app import AppServer, echo_body, header_one, header_values, loads
from support.raw import simple_response

import aiosonic
from aiosonic.exceptions import InvalidRequest, MaxRedirects
from aiosonic.multipart import MultipartForm


def redirect_url(server: AppServer, to: str, status: int = 302, path: str = "/redirect",
                 host: str | None = None, **extra: str) -> str:
    query = f"status={status}&to={quote(to, safe='')}"
    for key, value in extra.items():
        query += f"&{key}={quote(value, safe='')}"
    return server.url(f"{path}?{query}", host=host)


# --------------------------------------------------------------------------- Location forms


@pytest.mark.parametrize(
    ("path", "location", "expected_path", "expected_query"),
    [
        ("/redirect", "/echo/abs?x=1", "/echo/abs", "x=1"),
        ("/dir/sub/redirect", "target?y=2", "/dir/sub/target", "y=2"),
        ("/dir/sub/redirect", "../up", "/dir/up", ""),
        ("/dir/sub/redirect", "?only=query", "/dir/sub/redirect", "only=query"),
    ],
)
async def test_relative_location_is_resolved_against_the_request_url(
    server, client, path, location, expected_path, expected_query
):
    if expected_path.endswith("redirect"):
        # "?only=query" lands on the redirect route again; make that hop end the chain
        location += "&status=200"
    resp = await client.get(redirect_url(server, location, path=path), follow=True)
    assert resp.status_code == 200
    if expected_path.endswith("redirect"):
        await resp.content()
        last = server.seen[-1]
        assert (last.path, last.query) == (expected_path, expected_query + "&status=200")
        return
    doc = loads(await resp.content())
    assert (doc["path"], doc["query"]) == (expected_path, expected_query)
    assert doc["method"] == "GET"


async def test_absolute_location_on_the_same_server(server, client):
    resp = await client.get(redirect_url(server, server.url("/echo/there?z=9")), follow=True)
    doc = loads(await resp.content())
    assert (doc["path"], doc["query"]) == ("/echo/there", "z=9")
    assert [s.path for s in server.seen] == ["/redirect", "/echo/there"]


async def test_absolute_location_on_another_server(server, server2, client):
    resp = await client.get(redirect_url(server, server2.url("/echo/other")), follow=True)
    doc = loads(await resp.content())
    assert doc["path"] == "/echo/other"
    assert header_one(doc, "Host") == f"127.0.0.1:{server2.port}"
    assert [s.path for s in server.seen] == ["/redirect"]
    assert [s.path for s in server2.seen] == ["/echo/other"]


async def test_scheme_relative_location(server, server2, client):
    location = f"//localhost:{server2.port}/echo/netpath"
    resp = await client.get(redirect_url(server, location), follow=True)
    doc = loads(await resp.content())
    assert doc["path"] == "/echo/netpath"
    assert header_one(doc, "Host") == f"localhost:{server2.port}"


async def test_redirect_with_a_large_unread_body_is_still_followed(server, client):
    # The 3xx body (1 MiB) is never read by the caller; the next hop must still work and the
    # client must stay usable afterwards.
    resp = await client.get(
        redirect_url(server, "/echo/after-big", size=str(1024 * 1024)), follow=True
    )
    doc = loads(await resp.content())
    assert doc["path"] == "/echo/after-big"
    again = await client.get(server.url("/echo/again"))
    assert loads(await again.content())["path"] == "/echo/again"


# --------------------------------------------------------------------------- not following


async def test_follow_false_returns_the_redirect_itself(server, client):
    resp = await client.get(redirect_url(server, "/echo/never", status=301))
    assert resp.status_code == 301
    assert resp.headers["Location"] == "/echo/never"
    assert await resp.content() == b"you are being redirected"
    assert [s.path for s in server.seen] == ["/redirect"]


@pytest.mark.parametrize("location", ["ftp://127.0.0.1/file.txt", "file:///etc/passwd",
                                      "mailto:someone@example.com"])
async def test_non_http_location_returns_the_redirect_response(server, client, location):
    resp = await client.get(redirect_url(server, location), follow=True)
    assert resp.status_code == 302
    assert resp.headers["Location"] == location
    assert await resp.content() == b"you are being redirected"
    assert len(server.seen) == 1


async def test_redirect_without_location_is_returned_as_is(server, client):
    resp = await client.get(server.url("/redirect?status=302"), follow=True)
    assert resp.status_code == 302
    assert "Location" not in resp.headers
    await resp.content()
    assert len(server.seen) == 1


# --------------------------------------------------------------------------- method and body


@pytest.mark.parametrize("status", [301, 302])
async def test_301_302_turn_post_into_a_bodyless_get(server, client, status):
    resp = await client.post(
        redirect_url(server, "/echo/landed", status=status),
        data=b"a=1&b=2",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Keep": "yes"},
        follow=True,
    )
    doc = loads(await resp.content())
    assert doc["method"] == "GET"
    assert echo_body(doc) == b""
    assert header_values(doc, "Content-Type") == []
    assert header_values(doc, "Content-Length") in ([], ["0"])
    assert header_values(doc, "Transfer-Encoding") == []
    assert header_one(doc, "X-Keep") == "yes"
    first = server.seen[0]
    assert first.method == "POST"


@pytest.mark.parametrize("status", [301, 302])
async def test_301_302_drop_the_content_type_a_json_body_implied(server, client, status):
    resp = await client.post(redirect_url(server, "/echo/json", status=status), json={"a": 1},
                             follow=True)
    doc = loads(await resp.content())
    assert doc["method"] == "GET"
    assert echo_body(doc) == b""
    assert header_values(doc, "Content-Type") == []
    assert server.seen[0].header("Content-Type") == ["application/json"]


@pytest.mark.parametrize("status", [301, 302])
async def test_301_302_keep_put_and_its_body(server, client, status):
    resp = await client.put(redirect_url(server, "/echo/put", status=status), data=b"payload",
                            follow=True)
    doc = loads(await resp.content())
    assert doc["method"] == "PUT"
    assert echo_body(doc) == b"payload"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_get_stays_get(server, client, status):
    resp = await client.get(redirect_url(server, "/echo/g", status=status), follow=True)
    doc = loads(await resp.content())
    assert doc["method"] == "GET"
    assert doc["path"] == "/echo/g"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_head_stays_head(server, client, status):
    resp = await client.request(redirect_url(server, "/echo/h", status=status), "HEAD",
                                follow=True)
    assert resp.status_code == 200
    assert await resp.content() == b""
    assert [(s.method, s.path) for s in server.seen] == [("HEAD", "/redirect"), ("HEAD", "/echo/h")]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_303_turns_any_method_into_get(server, client, method):
    resp = await client.request(
        redirect_url(server, "/echo/see-other", status=303),
        method,
        data=b"some body",
        headers={"Content-Type": "text/plain"},
        follow=True,
    )
    doc = loads(await resp.content())
    assert doc["method"] == "GET"
    assert echo_body(doc) == b""
    assert header_values(doc, "Content-Type") == []
    assert server.seen[0].method == method


def _form_with_file(tmp_path: Path) -> tuple[MultipartForm, bytes]:
    content = bytes(range(256)) * 64
    path = tmp_path / "replayed.bin"
    path.write_bytes(content)
    form = MultipartForm()
    form.add_field("text", "hello ✓")
    form.add_file("upload", str(path))
    return form, content


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize("kind", ["bytes", "str", "form", "json"])
async def test_307_308_replay_method_and_body(server, client, status, kind):
    expected_type = {
        "form": "application/x-www-form-urlencoded",
        "json": "application/json",
    }.get(kind)
    bodies: dict[str, dict[str, object]] = {
        "bytes": {"data": b"\x00\x01binary\xff"},
        "str": {"data": "text ✓"},
        "form": {"data": {"a": "1", "b": "two words"}},
        "json": {"json": {"k": [1, 2, "ü"]}},
    }
    resp = await client.request(
        redirect_url(server, "/form" if kind == "form" else "/echo/replayed", status=status),
        "PATCH" if kind == "str" else "POST",
        follow=True,
        **bodies[kind],  # type: ignore[arg-type]
    )
    assert resp.status_code == 200
    doc = loads(await resp.content())
    if kind == "form":
        assert doc["fields"] == [{"name": "a", "value": "1"}, {"name": "b", "value": "two words"}]
        assert doc["content_type"] == expected_type
        return
    assert doc["method"] == ("PATCH" if kind == "str" else "POST")
    body = echo_body(doc)
    if kind == "bytes":
        assert body == b"\x00\x01binary\xff"
    elif kind == "str":
        assert body == "text ✓".encode()
    else:
        assert json.loads(body) == {"k": [1, 2, "ü"]}
        assert header_one(doc, "Content-Type") == expected_type
    assert header_one(doc, "Content-Length") == str(len(body))


@pytest.mark.parametrize("status", [307, 308])
async def test_307_308_replay_a_multipart_form_with_files(server, client, tmp_path, fd_check,
                                                           status):
    form, content = _form_with_file(tmp_path)
    resp = await client.post(
        redirect_url(server, "/multipart", status=status), data=form, follow=True
    )
    doc = loads(await resp.content())
    parts = {p["name"]: p for p in doc["parts"]}
    assert list(parts) == ["text", "upload"]
    assert base64.b64decode(parts["text"]["data_b64"]) == "hello ✓".encode()
    assert base64.b64decode(parts["upload"]["data_b64"]) == content
    assert parts["upload"]["filename"] == "replayed.bin"
    # both sends opened the file, and both closed it
    assert fd_check(tmp_path / "replayed.bin") == []
    # the redirecting hop received the full body too
    assert server.seen[0].header("Content-Length") == [doc["content_length"]]


async def _agen():
    yield b"first "
    yield b"second"


def _gen():
    yield b"first "
    yield b"second"


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize("make_body", [_agen, _gen, lambda: io.BytesIO(b"file object")],
                         ids=["async-generator", "generator", "file-object"])
async def test_307_308_with_a_one_shot_body_raise_invalid_request(server, client, status,
                                                                   make_body):
    with pytest.raises(InvalidRequest) as excinfo:
        await client.post(redirect_url(server, "/echo/never", status=status), data=make_body(),
                          follow=True)
    assert isinstance(excinfo.value, ValueError)
    message = str(excinfo.value).lower()
    assert "redirect" in message
    assert "body" in message or "stream" in message
    # The target never received a request (with an empty body or otherwise)
    assert [s.path for s in server.seen] == ["/redirect"]
    # and the client is still usable
    resp = await client.get(server.url("/echo/ok"))
    assert resp.status_code == 200
    await resp.content()


async def test_one_shot_body_is_fine_when_the_redirect_drops_the_body(server, client):
    resp = await client.post(redirect_url(server, "/echo/get", status=303), data=_agen(),
                             follow=True)
    doc = loads(await resp.content())
    assert doc["method"] == "GET"


async def test_multipart_with_an_open_file_object_cannot_be_replayed(server, client):
    form = MultipartForm()
    form.add_field("f", io.BytesIO(b"once"), filename="once.txt")
    with pytest.raises(InvalidRequest):
        await client.post(redirect_url(server, "/multipart", status=307), data=form, follow=True)
    assert [s.path for s in server.seen] == ["/redirect"]


# --------------------------------------------------------------------------- params


async def test_params_are_not_reapplied_to_the_redirect_target(server, client):
    resp = await client.get(
        redirect_url(server, "/echo/target?b=2"), params={"a": "1"}, follow=True
    )
    doc = loads(await resp.content())
    assert doc["query"] == "b=2"
    assert "a=1" in server.seen[0].query.split("&")


# --------------------------------------------------------------------------- limits and loops


async def test_default_limit_allows_exactly_ten_redirects(server, client):
    resp = await client.get(server.url("/chain/10"), follow=True)
    assert resp.status_code == 200
    doc = loads(await resp.content())
    assert doc["query"] == "chain=done"
    assert len(server.seen) == 11


async def test_default_limit_refuses_eleven_redirects(server, client):
    with pytest.raises(MaxRedirects):
        await client.get(server.url("/chain/11"), follow=True)
    # ten hops were followed, the eleventh redirect was not
    assert len(server.seen) == 11
    assert not any(s.path.startswith("/echo") for s in server.seen)


async def test_client_max_redirects(server, new_client):
    client = new_client(max_redirects=2)
    resp = await client.get(server.url("/chain/2"), follow=True)
    assert resp.status_code == 200
    await resp.content()
    with pytest.raises(MaxRedirects):
        await client.get(server.url("/chain/3"), follow=True)


async def test_per_request_max_redirects_overrides_the_client(server, new_client):
    client = new_client(max_redirects=1)
    resp = await client.request(server.url("/chain/4?status=307"), follow=True, max_redirects=4)
    assert resp.status_code == 200
    await resp.content()
    with pytest.raises(MaxRedirects):
        await client.request(server.url("/chain/3"), follow=True, max_redirects=2)
    with pytest.raises(MaxRedirects):
        await client.request(server.url("/chain/1"), follow=True, max_redirects=0)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_loop_raises_max_redirects(server, client, status):
    with pytest.raises(MaxRedirects):
        await client.get(server.url(f"/loop?status={status}"), follow=True)
    assert len(server.seen) <= 11
    resp = await client.get(server.url("/echo/after-loop"))
    assert resp.status_code == 200
    await resp.content()


async def test_a_two_server_loop_raises_max_redirects(server, server2, client):
    # server -> server2 -> server -> server2 ... (every hop changes origin)
    with pytest.raises(MaxRedirects):
        await client.get(server.url(f"/bounce?to={quote(server2.origin(), safe='')}"), follow=True)
    assert server2.seen, "the loop crossed to the second server"
    assert len(server.seen) + len(server2.seen) <= 11


# --------------------------------------------------------------------------- origin-bound headers

CREDENTIALS = {
    "Authorization": "Bearer secret-token",
    "Cookie": "session=caller-cookie",
    "Proxy-Authorization": "Basic cHJveHk6c2VjcmV0",
}


@pytest.mark.parametrize("status", [302, 307])
async def test_same_origin_redirect_keeps_credentials(server, client, status):
    resp = await client.get(
        redirect_url(server, "/echo/same", status=status),
        headers={**CREDENTIALS, "X-Custom": "kept"},
        follow=True,
    )
    doc = loads(await resp.content())
    for name, value in CREDENTIALS.items():
        assert header_values(doc, name) == [value], name
    assert header_one(doc, "X-Custom") == "kept"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirect_to_another_port_drops_credentials(server, server2, client, status):
    resp = await client.get(
        redirect_url(server, server2.url("/echo/elsewhere"), status=status),
        headers={**CREDENTIALS, "X-Custom": "kept"},
        follow=True,
    )
    doc = loads(await resp.content())
    assert doc["path"] == "/echo/elsewhere"
    for name in CREDENTIALS:
        assert header_values(doc, name) == [], name
    assert header_one(doc, "X-Custom") == "kept"
    # the first origin did receive them
    for name, value in CREDENTIALS.items():
        assert server.seen[0].header(name) == [value]


async def test_redirect_to_another_host_on_the_same_port_drops_credentials(server, client):
    resp = await client.post(
        redirect_url(server, server.url("/echo/lh", host="localhost"), status=307),
        data=b"body",
        headers=[*CREDENTIALS.items(), ("X-Custom", "kept")],
        follow=True,
    )
    doc = loads(await resp.content())
    assert header_one(doc, "Host") == f"localhost:{server.port}"
    for name in CREDENTIALS:
        assert header_values(doc, name) == [], name
    assert header_one(doc, "X-Custom") == "kept"
    assert echo_body(doc) == b"body"


async def test_https_to_http_redirect_drops_credentials(tls_web, server, client,
                                                        trusting_context):
    secure = await tls_web("127.0.0.1")
    resp = await client.get(
        redirect_url(secure, server.url("/echo/downgraded")),
        headers={**CREDENTIALS, "X-Custom": "kept"},
        ssl=trusting_context,
        follow=True,
    )
    doc = loads(await resp.content())
    assert doc["path"] == "/echo/downgraded"
    for name in CREDENTIALS:
        assert header_values(doc, name) == [], name
    assert header_one(doc, "X-Custom") == "kept"
    assert secure.seen[0].header("Authorization") == [CREDENTIALS["Authorization"]]


async def test_credentials_stay_dropped_for_later_hops(server, server2, client):
    # server -> server2 -> server: once sent elsewhere, they are not restored
    back_home = redirect_url(server2, server.url("/echo/home"))
    resp = await client.get(
        redirect_url(server, back_home), headers={"Authorization": "Bearer t"}, follow=True
    )
    doc = loads(await resp.content())
    assert doc["path"] == "/echo/home"
    assert server2.seen[0].header("Authorization") == []
    assert header_values(doc, "Authorization") == []


async def test_url_userinfo_credentials_are_not_sent_after_leaving_the_origin(
    server, server2, client
):
    start = redirect_url(server, server2.url("/echo/no-creds")).replace("http://", "http://u:p@", 1)
    resp = await client.get(start, follow=True)
    doc = loads(await resp.content())
    assert server.seen[0].header("Authorization") == ["Basic dTpw"]
    assert header_values(doc, "Authorization") == []


async def test_simple_get_without_arguments_follows_too(server):
    # The fast path for method+URL-only requests must follow like any other request.
    async with aiosonic.HTTPClient() as http:
        resp = await http.get(server.url("/chain/3"), follow=True)
        assert loads(await resp.content())["query"] == "chain=done"


async def test_redirect_not_followed_by_default(server, client):
    resp = await client.get(server.url("/redirect/2"))
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/redirect/1"
    await resp.content()


async def test_redirect_chain_followed(server, client):
    resp = await client.get(server.url("/redirect/3"), follow=True)
    assert resp.status_code == 200
    doc = loads(await resp.content())
    assert doc["path"] == "/echo"
    assert doc["query"] == "from=redirect"
    # /redirect/3, 2, 1, 0 and /echo all reached the server
    assert server.state.requests == 5


async def test_redirect_to_absolute_url_on_another_server(server, raw_server, client):
    async def respond(request):
        return simple_response(b"landed on " + request.target.encode())

    other = await raw_server(respond=respond)
    resp = await client.get(
        server.url("/absolute-redirect"), params={"to": other.url("/target?x=1")}, follow=True
    )
    assert resp.status_code == 200
    assert await resp.content() == b"landed on /target?x=1"




async def test_the_clients_follow_is_the_default_a_request_may_override(server, new_client):
    # HTTPClient(follow=True), as upstream 1.1 has it: every request follows unless it
    # says follow=False.
    client = new_client(follow=True)
    followed = await client.get(server.url("/redirect/2"))
    assert followed.status_code == 200
    assert len(followed.history) == 3  # /redirect/2, /redirect/1, /redirect/0
    assert (await client.get(server.url("/redirect/2"), follow=False)).status_code == 302
    assert (await new_client().get(server.url("/redirect/2"))).status_code == 302

"""multipart/form-data bodies checked byte-exact by aiohttp's multipart reader, file handles,
the boundary, and streaming of a large file without buffering it in the client."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import re
import sys
from pathlib import Path
from typing import BinaryIO

import pytest
from support.app import AppServer, echo_body, header_one, loads, payload

from aiosonic.multipart import MultipartFile, MultipartForm

ALL_BYTES = bytes(range(256))


async def send(client, server: AppServer, form, path: str = "/multipart", **kwargs):
    resp = await client.post(server.url(path), data=form, **kwargs)
    assert resp.status_code == 200, await resp.content()
    return loads(await resp.content())


def data_of(part: dict) -> bytes:
    return base64.b64decode(part["data_b64"])


def open_binary(path: Path) -> BinaryIO:
    """An open file object for a small test file (sync: opening is instant here)."""
    return open(path, "rb")


def part_header(part: dict, name: str) -> str | None:
    for key, value in part["headers"]:
        if key.lower() == name.lower():
            return value  # type: ignore[no-any-return]
    return None


# --------------------------------------------------------------------------- content


async def test_fields_and_files_arrive_byte_exact(server, client, tmp_path):
    binary = ALL_BYTES * 300 + b"\r\n--" + ALL_BYTES
    on_disk = tmp_path / "blob.bin"
    on_disk.write_bytes(binary[::-1])
    opened = tmp_path / "opened.dat"
    opened.write_bytes(b"opened by the caller " + ALL_BYTES)
    form = MultipartForm()
    form.add_field("text", "plain text value")
    form.add_field("raw", ALL_BYTES)
    form.add_file("path_file", str(on_disk))
    form.add_field("memory", io.BytesIO(binary), filename="memory.bin")
    with open_binary(opened) as handle:
        form.add_field("handle", handle)
        doc = await send(client, server, form)
    parts = doc["parts"]
    assert [p["name"] for p in parts] == ["text", "raw", "path_file", "memory", "handle"]
    assert data_of(parts[0]) == b"plain text value"
    assert parts[0]["filename"] is None
    assert data_of(parts[1]) == ALL_BYTES
    assert data_of(parts[2]) == binary[::-1]
    assert parts[2]["filename"] == "blob.bin"
    assert data_of(parts[3]) == binary
    assert parts[3]["filename"] == "memory.bin"
    assert data_of(parts[4]) == b"opened by the caller " + ALL_BYTES
    assert parts[4]["filename"] == "opened.dat"


async def test_data_that_looks_like_a_boundary(server, client):
    form = MultipartForm()
    tricky = f"\r\n--{form.boundary[:-1]}\r\n--{form.boundary[:-1]}--\r\n".encode()
    form.add_field("tricky", tricky)
    form.add_field("after", "still here")
    doc = await send(client, server, form)
    assert [data_of(p) for p in doc["parts"]] == [tricky, b"still here"]


async def test_empty_values_and_empty_files(server, client, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    form = MultipartForm()
    form.add_field("blank", "")
    form.add_file("nothing", str(empty))
    doc = await send(client, server, form)
    assert [(p["name"], p["filename"], data_of(p)) for p in doc["parts"]] == [
        ("blank", None, b""),
        ("nothing", "empty.txt", b""),
    ]


async def test_non_ascii_names_filenames_and_values(server, client, tmp_path):
    path = tmp_path / "résumé 日本.txt"
    path.write_bytes("contenu ✓".encode())
    form = MultipartForm()
    form.add_field("naïve ✓ 名前", "välue ✓ 値")
    form.add_file("fichier", str(path))
    form.add_field("ünï", io.BytesIO(b"x"), filename="Ελληνικά.bin")
    doc = await send(client, server, form)
    parts = doc["parts"]
    assert parts[0]["name"] == "naïve ✓ 名前"
    assert data_of(parts[0]) == "välue ✓ 値".encode()
    assert parts[1]["filename"] == "résumé 日本.txt"
    assert data_of(parts[1]) == "contenu ✓".encode()
    assert (parts[2]["name"], parts[2]["filename"]) == ("ünï", "Ελληνικά.bin")


@pytest.mark.parametrize(
    "filename",
    ['a"b.txt', 'x"; name="evil', "two\r\nX-Injected: 1.txt", "back\\slash.txt", "semi;colon.txt"],
)
async def test_hostile_filenames_cannot_break_the_part_headers(server, client, filename):
    form = MultipartForm()
    form.add_field("upload", io.BytesIO(b"content"), filename=filename)
    form.add_field("next", "intact")
    doc = await send(client, server, form)
    upload, after = doc["parts"]
    assert upload["name"] == "upload"
    assert data_of(upload) == b"content"
    # quotes and line breaks are escaped (the HTML form encoding uses %22, %0D, %0A)
    expected = {
        filename,
        filename.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A"),
    }
    assert upload["filename"] in expected
    assert part_header(upload, "X-Injected") is None
    assert [k.lower() for k, _ in upload["headers"]] == ["content-disposition", "content-type"]
    assert (after["name"], data_of(after)) == ("next", b"intact")


async def test_quotes_in_field_names(server, client):
    form = MultipartForm()
    form.add_field('say "hi"', "v")
    doc = await send(client, server, form)
    assert doc["parts"][0]["name"] in {'say "hi"', "say %22hi%22"}
    assert data_of(doc["parts"][0]) == b"v"


async def test_many_parts_keep_their_order(server, client):
    form = MultipartForm()
    for index in range(300):
        form.add_field(f"f{index}", str(index) * (index % 7))
    doc = await send(client, server, form)
    assert [(p["name"], data_of(p)) for p in doc["parts"]] == [
        (f"f{i}", (str(i) * (i % 7)).encode()) for i in range(300)
    ]


async def test_aiohttp_request_post_reads_the_form_too(server, client, tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\n1,2\n")
    form = MultipartForm()
    form.add_field("field", "value")
    form.add_file("file", str(path))
    resp = await client.post(server.url("/form"), data=form)
    doc = loads(await resp.content())
    assert doc["fields"][0] == {"name": "field", "value": "value"}
    assert doc["fields"][1]["filename"] == "data.csv"
    assert base64.b64decode(doc["fields"][1]["data_b64"]) == b"a,b\n1,2\n"


# --------------------------------------------------------------------------- content types


async def test_part_content_types(server, client, tmp_path):
    png = tmp_path / "picture.png"
    png.write_bytes(b"\x89PNG\r\n")
    unknown = tmp_path / "mystery.zzzunknown"
    unknown.write_bytes(b"?")
    form = MultipartForm()
    form.add_field("text", "no content type for plain fields")
    form.add_file("png", str(png))
    form.add_file("unknown", str(unknown))
    form.add_field("explicit", MultipartFile(io.BytesIO(b"{}"), filename="x.bin",
                                             content_type="application/json"))
    form.add_field("guessed", MultipartFile(str(png), filename="renamed.json"))
    form.add_field("renamed", io.BytesIO(b"<p>"), filename="page.html")
    doc = await send(client, server, form)
    types = {p["name"]: part_header(p, "Content-Type") for p in doc["parts"]}
    assert types == {
        "text": None,
        "png": "image/png",
        "unknown": "application/octet-stream",
        "explicit": "application/json",
        "guessed": "application/json",
        "renamed": "text/html",
    }
    names = {p["name"]: p["filename"] for p in doc["parts"]}
    assert names["explicit"] == "x.bin"
    assert names["guessed"] == "renamed.json"
    assert data_of(doc["parts"][4]) == b"\x89PNG\r\n"


async def test_add_file_with_a_filename_override(server, client, tmp_path):
    path = tmp_path / "on-disk-name.txt"
    path.write_bytes(b"hello")
    form = MultipartForm()
    form.add_file("doc", str(path), filename="shown.txt")
    doc = await send(client, server, form)
    assert doc["parts"][0]["filename"] == "shown.txt"
    assert data_of(doc["parts"][0]) == b"hello"


# --------------------------------------------------------------------------- request headers


async def test_request_headers_and_length_match_the_body(server, client, tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(ALL_BYTES * 10)
    form = MultipartForm()
    form.add_field("a", "1")
    form.add_file("f", str(path))
    expected_body, expected_size = await form.get_body_size()
    assert len(expected_body) == expected_size
    resp = await client.post(server.url("/echo/raw"), data=form)
    doc = loads(await resp.content())
    assert echo_body(doc) == expected_body
    assert header_one(doc, "Content-Length") == str(expected_size)
    assert header_one(doc, "Transfer-Encoding") is None
    assert header_one(doc, "Content-Type") == f"multipart/form-data; boundary={form.boundary}"
    assert form.get_headers(expected_size) == {
        "Content-Type": f"multipart/form-data; boundary={form.boundary}",
        "Content-Length": str(expected_size),
    }
    assert form.get_headers() == {
        "Content-Type": f"multipart/form-data; boundary={form.boundary}"
    }


async def test_get_buffer_is_an_async_iterator_of_the_body(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"file body")
    form = MultipartForm()
    form.add_field("a", "1")
    form.add_file("f", str(path))
    pieces = [piece async for piece in form.get_buffer()]
    assert all(isinstance(piece, bytes) for piece in pieces)
    body = b"".join(pieces)
    assert body == (await form.get_body_size())[0]
    assert body.startswith(f"--{form.boundary}\r\n".encode())
    assert body.endswith(f"\r\n--{form.boundary}--\r\n".encode())
    assert b"\r\n\r\nfile body\r\n" in body


async def test_a_form_can_be_sent_twice(server, client, tmp_path):
    path = tmp_path / "twice.txt"
    path.write_bytes(b"again and again")
    form = MultipartForm()
    form.add_file("f", str(path))
    first = await send(client, server, form)
    second = await send(client, server, form)
    assert data_of(first["parts"][0]) == data_of(second["parts"][0]) == b"again and again"


async def test_boundary_is_random_per_form():
    boundaries = {MultipartForm().boundary for _ in range(50)}
    assert len(boundaries) == 50
    for boundary in boundaries:
        # RFC 2046 bchars, at most 70 characters, and 128 bits of hex randomness
        assert re.fullmatch(r"[0-9A-Za-z'()+_,\-./:=?]{1,70}", boundary)
        assert re.search(r"[0-9a-f]{32}", boundary)
    randomness = [re.search(r"[0-9a-f]{32}", b).group() for b in boundaries]  # type: ignore[union-attr]
    assert len(set(randomness)) == 50


async def test_boundary_stays_the_same_within_one_form():
    form = MultipartForm()
    form.add_field("a", "1")
    first, _ = await form.get_body_size()
    second, _ = await form.get_body_size()
    assert first == second
    assert form.get_headers()["Content-Type"].endswith(form.boundary)


# --------------------------------------------------------------------------- multipart=True


async def test_multipart_flag_with_a_dict_of_strings_and_files(server, client, tmp_path):
    path = tmp_path / "attached.bin"
    path.write_bytes(ALL_BYTES)
    with open_binary(path) as handle:
        resp = await client.post(
            server.url("/multipart"), data={"name": "välue", "upload": handle}, multipart=True
        )
        doc = loads(await resp.content())
    assert doc["content_type"].startswith("multipart/form-data; boundary=")
    name, upload = doc["parts"]
    assert (name["name"], name["filename"], data_of(name)) == ("name", None, "välue".encode())
    assert (upload["name"], upload["filename"]) == ("upload", "attached.bin")
    assert data_of(upload) == ALL_BYTES


@pytest.mark.parametrize("data", ["a=1", b"a=1", [("a", "1")], ("a", "1")], ids=repr)
async def test_multipart_flag_with_a_non_dict_raises_value_error(server, client, data):
    with pytest.raises(ValueError, match="multipart"):
        await client.post(server.url("/multipart"), data=data, multipart=True)
    assert server.seen == []


async def test_multipart_flag_without_data_does_not_depend_on_other_arguments(server, client):
    # Whatever multipart=True without data does (refuse, or send an empty body), adding an
    # unrelated header must not change it.
    outcomes = []
    for headers in (None, {"X-Unrelated": "1"}):
        try:
            resp = await client.post(server.url("/echo/mp"), multipart=True, headers=headers)
        except ValueError:
            outcomes.append(("refused", None, None))
            continue
        doc = loads(await resp.content())
        outcomes.append(("sent", echo_body(doc), header_one(doc, "Content-Type")))
    assert outcomes[0] == outcomes[1], outcomes


async def test_multipart_field_of_an_unsupported_type_is_refused():
    form = MultipartForm()
    with pytest.raises((TypeError, ValueError)):
        form.add_field("n", 12345)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- file handles


async def test_add_file_opens_lazily_and_closes_after_the_request(server, client, tmp_path,
                                                                  fd_check):
    path = tmp_path / "lazy.bin"
    path.write_bytes(ALL_BYTES * 1000)
    form = MultipartForm()
    form.add_file("f", str(path))
    assert fd_check(path) == []  # adding does not open it
    form_size = (await form.get_body_size())[1]
    assert fd_check(path) == []
    doc = await send(client, server, form, path="/multipart-hash")
    assert doc["parts"][0]["sha256"] == hashlib.sha256(ALL_BYTES * 1000).hexdigest()
    assert fd_check(path) == []
    assert form_size > 256_000


async def test_file_is_closed_when_the_server_rejects_the_upload_early(raw_server, client,
                                                                       tmp_path, fd_check):
    path = tmp_path / "rejected.bin"
    path.write_bytes(b"\0" * (8 * 1024 * 1024))

    async def handler(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        await reader.read(65536)
        writer.write(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n"
                     b"Connection: close\r\n\r\n")
        await writer.drain()

    srv = await raw_server(handler=handler)
    form = MultipartForm()
    form.add_file("f", str(path))
    try:
        resp = await client.post(srv.url("/upload"), data=form)
    except ConnectionError:
        resp = None  # a disconnect while sending is acceptable; a leaked handle is not
    if resp is not None:
        assert resp.status_code == 413
        await resp.content()
        del resp
    for _ in range(3):
        await asyncio.sleep(0)  # room for an async generator finaliser, no garbage collection
    assert fd_check(path) == []


async def test_file_is_closed_when_the_connection_drops_mid_upload(raw_server, client,
                                                                   tmp_path, fd_check):
    path = tmp_path / "dropped.bin"
    path.write_bytes(b"\1" * (8 * 1024 * 1024))

    async def handler(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        await reader.read(65536)
        transport = writer.transport
        transport.abort()  # reset, no answer

    srv = await raw_server(handler=handler)
    form = MultipartForm()
    form.add_file("f", str(path))
    with pytest.raises(ConnectionError):
        await client.post(srv.url("/upload"), data=form)
    for _ in range(3):
        await asyncio.sleep(0)  # room for an async generator finaliser, no garbage collection
    assert fd_check(path) == []


# --------------------------------------------------------------------------- large files


LARGE = 64 * 1024 * 1024

_CHILD = r"""
import asyncio, json, resource, sys
import aiosonic
from aiosonic.multipart import MultipartForm

def rss_kib():
    # Peak RSS of this process in KiB. VmHWM belongs to this process image alone, whereas
    # ru_maxrss can carry over the parent's peak through fork and exec.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

async def main(url, path):
    async with aiosonic.HTTPClient() as client:
        warm = await client.post(url, data=MultipartForm())  # connect, warm up code paths
        await warm.content()
        before = rss_kib()
        form = MultipartForm()
        form.add_field("note", "large")
        form.add_file("big", path)
        resp = await client.post(url, data=form)
        body = await resp.content()
        after = rss_kib()
    print(json.dumps({"before": before, "after": after, "status": resp.status_code,
                      "doc": json.loads(body)}))

url, path, loop_name = sys.argv[1:]
if loop_name == "uvloop":
    import uvloop
    uvloop.run(main(url, path))
else:
    asyncio.run(main(url, path))
"""


@pytest.fixture(scope="module")
def large_file(tmp_path_factory) -> tuple[Path, str]:
    """A 64 MiB file of non-repeating-looking blocks and its sha256."""
    path = tmp_path_factory.mktemp("large") / "large.bin"
    digest = hashlib.sha256()
    block = hashlib.sha256(b"seed").digest() * (1024 * 1024 // 32)
    with open(path, "wb") as handle:
        for index in range(LARGE // len(block)):
            piece = index.to_bytes(8, "big") + block[8:]
            digest.update(piece)
            handle.write(piece)
    return path, digest.hexdigest()


async def test_large_file_upload_is_streamed(server, large_file):
    path, sha256 = large_file
    loop_name = "uvloop" if type(asyncio.get_running_loop()).__module__.startswith(
        "uvloop") else "asyncio"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CHILD, server.url("/multipart-hash"), str(path), loop_name,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 40)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, stderr.decode()
    report = json.loads(stdout)
    assert report["status"] == 200
    parts = report["doc"]["parts"]
    assert [(p["name"], p["size"]) for p in parts] == [("note", 5), ("big", LARGE)]
    assert parts[1]["sha256"] == sha256
    assert parts[1]["filename"] == "large.bin"
    grown_mib = (report["after"] - report["before"]) / 1024
    assert grown_mib < 16, f"client peak RSS grew by {grown_mib:.1f} MiB for a 64 MiB upload"


async def test_multipart_form_with_field_and_file(server, client, tmp_path):
    file_bytes = payload(100_000, seed=11)
    path = tmp_path / "data.bin"
    path.write_bytes(file_bytes)
    form = MultipartForm()
    form.add_field("field1", "value1")
    form.add_file("file1", str(path))
    form.add_field("memory", io.BytesIO(b"in-memory content"), filename="mem.txt")
    resp = await client.post(server.url("/multipart"), data=form)
    assert resp.status_code == 200
    doc = loads(await resp.content())
    assert doc["content_type"].startswith("multipart/form-data; boundary=")
    parts = {part["name"]: part for part in doc["parts"]}
    assert list(parts) == ["field1", "file1", "memory"]
    assert base64.b64decode(parts["field1"]["data_b64"]) == b"value1"
    assert parts["field1"]["filename"] is None
    assert parts["file1"]["filename"] == "data.bin"
    assert base64.b64decode(parts["file1"]["data_b64"]) == file_bytes
    assert parts["memory"]["filename"] == "mem.txt"
    assert base64.b64decode(parts["memory"]["data_b64"]) == b"in-memory content"


async def test_multipart_flag_with_a_dict(server, client):
    resp = await client.post(server.url("/multipart"), data={"a": "1", "b": "two"}, multipart=True)
    doc = loads(await resp.content())
    assert doc["content_type"].startswith("multipart/form-data")
    assert [(p["name"], base64.b64decode(p["data_b64"])) for p in doc["parts"]] == [
        ("a", b"1"),
        ("b", b"two"),
    ]

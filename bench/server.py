"""The HTTP server every client is measured against, on loopback.

``start(body_size, cpu)`` starts nginx when an ``nginx`` binary is found (on ``PATH`` or at
``/usr/sbin/nginx``) with a generated single-worker configuration in a temporary directory,
and otherwise falls back to the embedded server defined here, run in its own process (on
uvloop when importable). Either way it waits until the port accepts connections and returns a
``RunningServer`` whose ``stop()`` shuts the process down and removes the temporary files.
Nothing is ever installed; nginx is only detected.

Both servers answer ``GET /`` with the same fixed ``make_body(body_size)`` plain-text body,
with ``Content-Length`` and keep-alive. nginx also serves ``GET /big`` (a static file of
``BIG_SIZE`` bytes) for download benchmarks; the embedded server answers every other path the
same. Both answer the ``realistic`` scenario's GET and POST at ``realistic.PATH`` after
checking the method, query string and headers (nginx through a ``map``, the embedded server
through ``realistic.answer``), and anything else there with a 400.

Both also expose how many requests they have served (nginx ``stub_status`` at
``STATUS_PATH``, the embedded server's own counter at the same path), which the harness uses
to check that the responses a client claims were really served.

``start_h2(body_size, cpu)`` starts a second nginx configuration for the HTTP/2 scenario: TLS
on loopback with ``http2`` enabled (``listen ... ssl http2`` before nginx 1.25.1, ``http2 on``
from then on; the other spelling is tried when ``nginx -t`` rejects the first), a certificate
for ``127.0.0.1`` and ``localhost`` issued by a throwaway ``trustme`` CA written into the
temporary directory (``RunningServer.cafile``), and ``stub_status`` on a separate plain-HTTP
port. There is no embedded HTTP/2 fallback: without nginx the scenario is skipped.

Run as ``python -m bench.server --port N --body-size B`` this module *is* the embedded server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from bench import pinning, realistic

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
BIG_SIZE = 16 * 1024 * 1024
#: The ``download`` scenario's body: ``GET /huge`` (a sparse static file).
HUGE_SIZE = 100 * 1024 * 1024
STATUS_PATH = "/__bench/status"
_WORDS = b"aiosonic benchmark body served on loopback with keep-alive "


def make_body(size: int) -> bytes:
    """A deterministic ASCII body of ``size`` bytes, safe inside an nginx string literal."""
    return (_WORDS * (size // len(_WORDS) + 1))[:size]


def find_nginx() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    fallback = "/usr/sbin/nginx"
    return fallback if os.access(fallback, os.X_OK) else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    """A started server process; ``stop()`` is idempotent."""

    url: str
    kind: str  # "nginx" or "embedded"
    description: str
    process: subprocess.Popen[bytes]
    workdir: Path | None = None
    log: Path | None = None
    counts_requests: bool = False
    #: Plain-HTTP port of the request counter (``None``: the port of ``url``).
    status_port: int | None = None
    #: The CA certificate (PEM) that clients must trust for an https ``url``.
    cafile: Path | None = None
    _stopped: bool = field(default=False, repr=False)

    def served_requests(self) -> int | None:
        """Requests served so far, from the server's own counter (None: not available)."""
        if not self.counts_requests:
            return None
        port = self.status_port or urlsplit(self.url).port
        conn = http.client.HTTPConnection(HOST, port, timeout=5)
        try:
            conn.request("GET", STATUS_PATH)
            text = conn.getresponse().read().decode("ascii", "replace")
        except (OSError, http.client.HTTPException):
            return None
        finally:
            conn.close()
        if self.kind == "nginx":
            # "Active connections: 1\nserver accepts handled requests\n 3 3 5\n..."
            match = re.search(r"^\s*\d+\s+\d+\s+(\d+)\s*$", text, re.MULTILINE)
            return int(match.group(1)) if match else None
        return int(text) if text.strip().isdigit() else None

    def prefetch(self, path: str) -> int:
        """GET ``path`` once and discard the body (its length is returned): the first read of
        a sparse file fills nginx's page cache, which must not be charged to whichever
        client happens to download it first."""
        conn = http.client.HTTPConnection(HOST, urlsplit(self.url).port, timeout=60)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            size = 0
            while chunk := response.read(1 << 20):
                size += len(chunk)
            return size
        finally:
            conn.close()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.process.poll() is None:
            self.process.terminate()  # nginx: fast shutdown; embedded: exits
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _nginx_build(binary: str) -> tuple[str, tuple[int, ...], bool]:
    """(``nginx/1.22.1``, version numbers, whether ``stub_status`` is compiled in)."""
    proc = subprocess.run([binary, "-V"], capture_output=True, text=True, timeout=10, check=False)
    text = proc.stderr + proc.stdout
    stub_status = "http_stub_status_module" in text
    match = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", text)
    if not match:
        return "nginx", (0, 0, 0), stub_status
    numbers = tuple(int(part) for part in match.groups())
    return f"nginx/{'.'.join(match.groups())}", numbers, stub_status


def _nginx_head(workdir: Path) -> str:
    """Everything before the ``server`` blocks, ending inside ``http {``."""
    temp_dirs = "\n".join(
        f"    {name}_temp_path {workdir / ('tmp_' + name)};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""\
# Generated by bench/server.py for one benchmark run.
worker_processes 1;
worker_rlimit_nofile 8192;
daemon off;
pid {workdir / "nginx.pid"};
error_log {workdir / "error.log"} warn;

events {{
    worker_connections 4096;
}}

http {{
    access_log off;
    server_tokens off;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    sendfile on;
    tcp_nodelay on;
{temp_dirs}
"""


def _realistic_map() -> str:
    """The ``http``-level map that gives ``$bench_realistic`` (get, post or bad) its value.

    The key joins the method, the raw query string, the ``realistic.HEADERS`` values in order
    and the Content-Type; only the exact GET and the JSON POST of the scenario match.
    """
    names = "|".join(f"$http_{name.replace('-', '_')}" for name, _ in realistic.HEADERS)
    values = [value for _, value in realistic.HEADERS]
    get_key = "|".join([f"GET {realistic.QUERY_STRING}", *values, ""])
    post_regex = "\\|".join(
        ["^POST ", *(re.escape(value) for value in values), re.escape(realistic.JSON_TYPE)]
    )
    # The GET key is longer than the default bucket (64 bytes) holds.
    return f"""
    map_hash_bucket_size 256;
    map "$request_method $args|{names}|$content_type" $bench_realistic {{
        default bad;
        "{get_key}" get;
        "~{post_regex}\\s*(;.*)?$" post;
    }}
"""


def _realistic_location() -> str:
    """The ``server``-level location answering the realistic scenario's two requests."""
    get, post = realistic.GET_ANSWER.decode("ascii"), realistic.POST_ANSWER.decode("ascii")
    return f"""
        location = {realistic.PATH} {{
            default_type {realistic.JSON_TYPE};
            if ($bench_realistic = get) {{ return 200 '{get}'; }}
            if ($bench_realistic = post) {{ return 200 '{post}'; }}
            return 400 '{realistic.REJECTED.decode("ascii")}';
        }}
"""


def _nginx_config(workdir: Path, port: int, body: bytes, stub_status: bool) -> str:
    www = workdir / "www"
    status = f"location = {STATUS_PATH} {{ stub_status; }}" if stub_status else ""
    return f"""{_nginx_head(workdir)}{_realistic_map()}
    server {{
        listen {HOST}:{port} backlog=4096;
        root {www};

        location = / {{
            default_type text/plain;
            return 200 "{body.decode("ascii")}";
        }}

        location = /big {{
            default_type application/octet-stream;
        }}

        location = /huge {{
            default_type application/octet-stream;
        }}
{_realistic_location()}
        {status}
    }}
}}
"""


#: How nginx is told to speak HTTP/2 on a TLS listener: the ``listen`` parameter (before
#: 1.25.1, deprecated since) or the ``http2`` directive (1.25.1 and later).
H2_LISTEN_PARAM = "listen-param"
H2_DIRECTIVE = "directive"


def _h2_styles(numbers: tuple[int, ...]) -> list[str]:
    """Both spellings, the one this nginx version should accept first."""
    if numbers >= (1, 25, 1):
        return [H2_DIRECTIVE, H2_LISTEN_PARAM]
    return [H2_LISTEN_PARAM, H2_DIRECTIVE]


def _nginx_h2_config(
    workdir: Path, port: int, status_port: int | None, body: bytes, style: str
) -> str:
    """TLS + HTTP/2 on ``port``; ``stub_status`` over plain HTTP on ``status_port``."""
    if style == H2_DIRECTIVE:
        listen = f"listen {HOST}:{port} ssl backlog=4096;\n        http2 on;"
    else:
        listen = f"listen {HOST}:{port} ssl http2 backlog=4096;"
    status = ""
    if status_port is not None:
        status = f"""
    server {{
        listen {HOST}:{status_port};
        location = {STATUS_PATH} {{ stub_status; }}
    }}
"""
    return f"""{_nginx_head(workdir)}
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:bench:1m;
    # One HTTP/2 connection may carry every in-flight request of a client (64 by default).
    http2_max_concurrent_streams 128;

    server {{
        {listen}
        ssl_certificate {workdir / "server-cert.pem"};
        ssl_certificate_key {workdir / "server-key.pem"};

        location = / {{
            default_type text/plain;
            return 200 "{body.decode("ascii")}";
        }}
    }}
{status}}}
"""


def _wait_ready(process: subprocess.Popen[bytes], port: int, log: Path | None) -> None:
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited with status {process.returncode} before listening"
                + (f":\n{_tail(log)}" if log else "")
            )
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not accept connections on port {port} within 10 s")


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _nginx_argv(binary: str, workdir: Path, conf: Path, numbers: tuple[int, ...]) -> list[str]:
    argv = [binary, "-p", str(workdir), "-c", str(conf)]
    if numbers >= (1, 19, 5):  # -e: startup errors go to our log, not /var/log/nginx
        argv += ["-e", str(workdir / "error.log")]
    return argv


def start_nginx(binary: str, body: bytes, cpu: int | None) -> RunningServer:
    workdir = Path(tempfile.mkdtemp(prefix="aiosonic-bench-nginx-"))
    try:
        # nginx workers drop to an unprivileged user when started as root: keep files readable.
        workdir.chmod(0o755)
        www = workdir / "www"
        www.mkdir(mode=0o755)
        for name, size in (("big", BIG_SIZE), ("huge", HUGE_SIZE)):
            with (www / name).open("wb") as sparse:
                sparse.truncate(size)  # written sparse: no disk space, reads as zeros
            (www / name).chmod(0o644)
        port = free_port()
        version, numbers, stub_status = _nginx_build(binary)
        conf = workdir / "nginx.conf"
        conf.write_text(_nginx_config(workdir, port, body, stub_status))
        argv = _nginx_argv(binary, workdir, conf, numbers)
        log = workdir / "error.log"
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return _launch(
        argv,
        cpu,
        port,
        log,
        url=f"http://{HOST}:{port}/",
        kind="nginx",
        description=f"{version}, 1 worker",
        workdir=workdir,
        counts_requests=stub_status,
    )


def _launch(argv: list[str], cpu: int | None, port: int, log: Path, **fields: Any) -> RunningServer:
    """Start a server process on ``cpu`` and wait until ``port`` accepts; ``fields`` describe
    it. Its work directory is removed if it cannot start."""
    try:
        with pinning.spawn_on(cpu), log.open("ab") as errors:
            process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors
            )
        server = RunningServer(process=process, log=log, **fields)
    except BaseException:
        workdir = fields.get("workdir")
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    try:
        _wait_ready(process, port, log)
    except BaseException:
        server.stop()
        raise
    return server


def _write_tls_files(workdir: Path) -> Path:
    """A throwaway CA and a server certificate for 127.0.0.1/localhost; returns the CA file.

    The server files are ``server-cert.pem`` (certificate chain) and ``server-key.pem``; the
    key stays owner-only, since the nginx master process reads it before dropping privileges.
    """
    try:
        import trustme
    except ImportError as exc:
        raise RuntimeError(
            "the HTTP/2 scenario needs trustme (the project's bench extra) to issue its certificate"
        ) from exc
    ca = trustme.CA()
    cert = ca.issue_cert(HOST, "localhost")
    cafile = workdir / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    (workdir / "server-cert.pem").write_bytes(b"".join(b.bytes() for b in cert.cert_chain_pems))
    key = workdir / "server-key.pem"
    cert.private_key_pem.write_to_path(str(key))
    key.chmod(0o600)
    for public in (cafile, workdir / "server-cert.pem"):
        public.chmod(0o644)
    return cafile


def _nginx_accepts(binary: str, workdir: Path, conf: Path, numbers: tuple[int, ...]) -> str:
    """The empty string when ``nginx -t`` accepts ``conf``, else its complaint."""
    argv = [*_nginx_argv(binary, workdir, conf, numbers), "-t", "-q"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    if proc.returncode == 0:
        return ""
    return (proc.stderr + proc.stdout).strip() or f"nginx -t exited with {proc.returncode}"


def start_nginx_h2(binary: str, body: bytes, cpu: int | None) -> RunningServer:
    """nginx with TLS and HTTP/2 on loopback (see the module docstring)."""
    workdir = Path(tempfile.mkdtemp(prefix="aiosonic-bench-nginx-h2-"))
    try:
        workdir.chmod(0o755)
        cafile = _write_tls_files(workdir)
        port = free_port()
        version, numbers, stub_status = _nginx_build(binary)
        status_port = free_port() if stub_status else None
        conf = workdir / "nginx.conf"
        complaints = []
        for style in _h2_styles(numbers):
            conf.write_text(_nginx_h2_config(workdir, port, status_port, body, style))
            complaint = _nginx_accepts(binary, workdir, conf, numbers)
            if not complaint:
                break
            complaints.append(f"[{style}] {complaint}")
        else:
            raise RuntimeError(
                f"{version} rejected both ways of enabling HTTP/2 over TLS:\n"
                + "\n".join(complaints)
            )
        log = workdir / "error.log"
        log.write_bytes(b"")  # drop what nginx -t logged
        argv = _nginx_argv(binary, workdir, conf, numbers)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    spelled = "http2 on" if style == H2_DIRECTIVE else "listen ... ssl http2"
    return _launch(
        argv,
        cpu,
        port,
        log,
        url=f"https://{HOST}:{port}/",
        kind="nginx",
        description=f"{version}, 1 worker, TLS + HTTP/2 ({spelled})",
        workdir=workdir,
        counts_requests=stub_status,
        status_port=status_port,
        cafile=cafile,
    )


def start_embedded(
    body_size: int, cpu: int | None, why: str = "nginx not found", upload: bool = False
) -> RunningServer:
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="aiosonic-bench-embedded-"))
    log = workdir / "server.log"
    argv = [sys.executable, "-m", "bench.server", "--port", str(port)]
    argv += ["--body-size", str(body_size)] + (["--upload"] if upload else [])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    with pinning.spawn_on(cpu), log.open("ab") as errors:
        process = subprocess.Popen(
            argv,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    if upload:
        description = (
            f"embedded upload sink (asyncio.Protocol on {loop}): reads and counts every "
            "request body (Content-Length or chunked), then answers 204 with X-Received-Bytes"
        )
    else:
        description = f"embedded asyncio.Protocol server on {loop} (FALLBACK: {why})"
    server = RunningServer(
        url=f"http://{HOST}:{port}/",
        kind="embedded",
        description=description,
        process=process,
        workdir=workdir,
        log=log,
        counts_requests=not upload,
    )
    try:
        _wait_ready(process, port, log)
    except BaseException:
        server.stop()
        raise
    return server


def start(body_size: int, cpu: int | None, use_nginx: bool = True) -> RunningServer:
    """nginx when available (and allowed), else the embedded fallback."""
    if not use_nginx:
        return start_embedded(body_size, cpu, why="--no-nginx")
    binary = find_nginx()
    if binary is not None:
        return start_nginx(binary, make_body(body_size), cpu)
    return start_embedded(body_size, cpu)


def start_upload(cpu: int | None) -> RunningServer:
    """The ``upload`` scenario's server: the embedded upload sink, in its own process.

    nginx answers ``return 204`` without waiting for the request body (it discards the body
    after responding), so it cannot tell how fast a client really uploads.
    """
    return start_embedded(0, cpu, upload=True)


def start_h2(body_size: int, cpu: int | None) -> RunningServer:
    """The HTTP/2 server: nginx only. Raises ``H2Unavailable`` when nginx is not found."""
    binary = find_nginx()
    if binary is None:
        raise H2Unavailable("nginx not found (there is no embedded HTTP/2 fallback)")
    return start_nginx_h2(binary, make_body(body_size), cpu)


class H2Unavailable(RuntimeError):
    """The HTTP/2 scenario cannot run on this machine (so it is skipped, not failed)."""


# --- embedded fallback server -------------------------------------------------------------


_STATUS_REQUEST = f"get {STATUS_PATH} ".encode()


_REALISTIC_REQUESTS = tuple(
    f"{method} {realistic.PATH}".encode().lower() for method in ("GET", "POST")
)


def _json_response(status: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nServer: bench-embedded\r\nContent-Type: {realistic.JSON_TYPE}"
        f"\r\nContent-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode("ascii") + body


_REALISTIC_ANSWERS = {
    body: _json_response("200 OK", body) for body in (realistic.GET_ANSWER, realistic.POST_ANSWER)
}
_REALISTIC_REJECTED = _json_response("400 Bad Request", realistic.REJECTED)


def _realistic_response(head: bytes) -> bytes:
    """The response to one request for ``realistic.PATH`` (``head`` without its blank line)."""
    request_line, *lines = head.decode("latin-1").split("\r\n")
    method, _, rest = request_line.partition(" ")
    target = rest.rpartition(" ")[0]
    _, _, query = target.partition("?")
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), value.strip())
    body = realistic.answer(method, query, headers)
    return _REALISTIC_REJECTED if body is None else _REALISTIC_ANSWERS[body]


class _Counter:
    __slots__ = ("requests",)

    def __init__(self) -> None:
        self.requests = 0


class _FixedResponder(asyncio.Protocol):
    """Answers every request on the connection with the same pre-built response.

    Requests are framed by ``\\r\\n\\r\\n``; a ``Content-Length`` request body is skipped.
    Pipelined requests are answered in one write. ``GET STATUS_PATH`` answers with the number
    of requests served so far; requests for ``realistic.PATH`` get the realistic scenario's
    verdict (``_realistic_response``).
    """

    __slots__ = ("buffer", "counter", "response", "transport")

    def __init__(self, response: bytes, counter: _Counter) -> None:
        self.response = response
        self.counter = counter
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only duck-typed alike.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        out: list[bytes] = []
        pos = 0
        close = False
        while True:
            end = buffer.find(b"\r\n\r\n", pos)
            if end < 0:
                break
            head = buffer[pos:end].lower()
            length = 0
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                value_end = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : value_end if value_end >= 0 else len(head)])
            if len(buffer) < end + 4 + length:
                break
            start, pos = pos, end + 4 + length
            self.counter.requests += 1
            if head.startswith(_REALISTIC_REQUESTS):
                out.append(_realistic_response(buffer[start:end]))
            elif head.startswith(_STATUS_REQUEST):
                count = str(self.counter.requests).encode()
                out.append(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(count), count))
            else:
                out.append(self.response)
            if b"\r\nconnection: close" in head:
                close = True
                break
        self.buffer = buffer[pos:]
        assert self.transport is not None
        if out:
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))
        if close or len(self.buffer) > 65536:
            self.transport.close()


class _UploadSink(asyncio.Protocol):
    """Reads request bodies (``Content-Length`` or chunked), counting and dropping them.

    After each complete body it answers ``204`` with ``X-Received-Bytes: <count>``, so the
    client can check that every byte arrived. Keep-alive; no pipelining needed.
    """

    HEAD, FIXED, SIZE, DATA, DATA_END, TRAILER = range(6)

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.state = self.HEAD
        self.line = b""  # partial head, chunk-size line or trailer
        self.left = 0  # body (FIXED) or chunk (DATA) bytes still to come; CRLF bytes (DATA_END)
        self.count = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def _respond(self) -> None:
        assert self.transport is not None
        self.transport.write(
            b"HTTP/1.1 204 No Content\r\nServer: bench-upload\r\n"
            b"X-Received-Bytes: %d\r\n\r\n" % self.count
        )
        self.state, self.count = self.HEAD, 0

    def data_received(self, data: bytes) -> None:
        pos, size = 0, len(data)
        while pos < size:
            state = self.state
            if state in (self.FIXED, self.DATA):
                take = min(self.left, size - pos)
                self.left -= take
                self.count += take
                pos += take
                if not self.left:
                    if state == self.FIXED:
                        self._respond()
                    else:
                        self.state, self.left = self.DATA_END, 2
                continue
            if state == self.DATA_END:
                take = min(self.left, size - pos)
                self.left -= take
                pos += take
                if not self.left:
                    self.state = self.SIZE
                continue
            # line-oriented states: HEAD (until a blank line), SIZE, TRAILER
            stop = b"\r\n\r\n" if state == self.HEAD else b"\r\n"
            window = 65536 if state == self.HEAD else 256  # never copy much of a body
            buffered = self.line + data[pos : pos + window]
            end = buffered.find(stop)
            if end < 0:
                if len(buffered) > 65536:
                    assert self.transport is not None
                    self.transport.close()
                    return
                self.line = buffered
                pos = min(size, pos + window)
                continue
            pos += end + len(stop) - len(self.line)
            line, self.line = buffered[:end], b""
            if state == self.HEAD:
                self._head(line.lower())
            elif state == self.SIZE:
                chunk = int(line.split(b";", 1)[0], 16)
                self.state, self.left = (self.DATA, chunk) if chunk else (self.TRAILER, 0)
            elif not line:  # TRAILER: the blank line ends the message
                self._respond()

    def _head(self, head: bytes) -> None:
        if b"\r\ntransfer-encoding: chunked" in head:
            self.state = self.SIZE
            return
        at = head.find(b"\r\ncontent-length:")
        length = 0
        if at >= 0:
            value_end = head.find(b"\r\n", at + 2)
            length = int(head[at + 17 : value_end if value_end >= 0 else len(head)])
        if length:
            self.state, self.left = self.FIXED, length
        else:
            self._respond()


async def _serve(port: int, body_size: int, upload: bool = False) -> None:
    body = make_body(body_size)
    response = (
        b"HTTP/1.1 200 OK\r\n"
        b"Server: bench-embedded\r\n"
        b"Content-Type: text/plain\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n"
        b"Connection: keep-alive\r\n"
        b"\r\n" + body
    )
    loop = asyncio.get_running_loop()
    stop: asyncio.Future[None] = loop.create_future()

    def request_stop() -> None:
        if not stop.done():
            stop.set_result(None)

    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows loops
            loop.add_signal_handler(signum, request_stop)
    counter = _Counter()
    factory: Any = _UploadSink if upload else (lambda: _FixedResponder(response, counter))
    server = await loop.create_server(factory, HOST, port, backlog=4096, reuse_address=True)
    async with server:
        await stop


def _main() -> None:
    parser = argparse.ArgumentParser(description="Embedded benchmark HTTP server.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body-size", type=int, default=600)
    parser.add_argument("--upload", action="store_true", help="be the upload sink instead")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(_serve(args.port, args.body_size, args.upload))
        return
    if sys.version_info >= (3, 11):
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(_serve(args.port, args.body_size, args.upload))
    else:
        uvloop.install()
        asyncio.run(_serve(args.port, args.body_size, args.upload))


if __name__ == "__main__":
    _main()

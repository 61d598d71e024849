"""Real web servers from the distribution's packages (nginx, apache2, caddy) on loopback.

Each runs in the foreground with a configuration generated here into a temporary directory
(its own ports, pid file, logs, temporary files; nothing of ``/etc/nginx``,
``/etc/apache2`` or ``/etc/caddy`` is read and no system service is touched), on two free
ports of 127.0.0.1: cleartext HTTP/1.1, and TLS (a trustme certificate for 127.0.0.1)
offering ``h2`` and ``http/1.1`` by ALPN. Every server:

* serves ``/static/small.txt`` (``SMALL_BODY``) and ``/static/large.bin`` (``large_body()``,
  ``LARGE_SIZE`` bytes) from its document root;
* passes ``/backend/...`` to ``ChecksumBackend`` (a threaded HTTP server on 127.0.0.1 of
  this process) with its own reverse proxy (nginx ``proxy_pass``, apache ``ProxyPass``,
  caddy ``reverse_proxy``), so a request body is received and re-sent by the real server,
  and what arrived is checked by SHA-256 at the end of the chain;
* closes a keep-alive connection after ``IDLE_TIMEOUT`` (1 s) idle, over HTTP/1.1 and
  HTTP/2 alike (nginx ``keepalive_timeout``, apache ``KeepAliveTimeout``, which it also
  announces as ``Keep-Alive: timeout=1`` to a client that sent ``Connection: keep-alive``,
  caddy's ``idle`` timeout);
* writes an access log with the client's port and the protocol of every request
  (``WebServer.hits()``), which is how the tests count the connections a client used.

The servers never resolve a name (IP literals only, ``ServerName 127.0.0.1``) and never
connect anywhere but the backend on 127.0.0.1; caddy runs with automatic HTTPS, OCSP
stapling, HTTP/3 and its admin endpoint off, its storage in the temporary directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .daemons import HOST, Daemon, group_of, private_directory, run_daemon, unprivileged_user

__all__ = [
    "IDLE_TIMEOUT",
    "LARGE_SIZE",
    "SMALL_BODY",
    "ChecksumBackend",
    "Hit",
    "Received",
    "WebServer",
    "apache_config",
    "caddy_config",
    "large_body",
    "nginx_config",
    "run_apache",
    "run_caddy",
    "run_nginx",
]

IDLE_TIMEOUT = 1  # seconds a server keeps an idle keep-alive connection open
SMALL_BODY = b"aiosonic interop: a small static file of known content\n" * 3
LARGE_SIZE = 8 * 1024 * 1024
_APACHE_MODULES = "/usr/lib/apache2/modules"

_LARGE: list[bytes] = []


def large_body() -> bytes:
    """The bytes of ``/static/large.bin`` (deterministic, made once)."""
    if not _LARGE:
        _LARGE.append(random.Random(LARGE_SIZE).randbytes(LARGE_SIZE))
    return _LARGE[0]


# --------------------------------------------------------------------------------------------
# The backend behind the servers' reverse proxies
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One request as the backend received it from a web server."""

    method: str
    path: str
    length: int
    sha256: str
    forwarded_for: str | None  # X-Forwarded-For, as the server set it


class _BackendHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive with the servers' upstream connections
    server: _BackendServer

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def _answer(self) -> None:
        body = self._body()
        digest = hashlib.sha256(body).hexdigest()
        received = Received(self.command, self.path, len(body), digest,
                            self.headers.get("X-Forwarded-For"))
        with self.server.lock:
            self.server.received.append(received)
        doc: dict[str, Any] = {"method": self.command, "path": self.path,
                               "length": len(body), "sha256": digest}
        if len(body) <= 65536:
            doc["body"] = body.decode("latin-1")
        answer = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_PUT = _answer  # the names http.server calls

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the web servers' access logs are the record


class _BackendServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__((HOST, 0), _BackendHandler)
        self.lock = threading.Lock()
        self.received: list[Received] = []


class ChecksumBackend:
    """A threaded HTTP/1.1 server on 127.0.0.1 answering every request with the JSON
    ``{"method", "path", "length", "sha256"[, "body"]}`` of what it received (the body
    itself, as latin-1 text, when at most 64 KiB); ``received`` keeps each one."""

    def __init__(self) -> None:
        self._server = _BackendServer()
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="interop-backend", daemon=True)

    def start(self) -> ChecksumBackend:
        self._thread.start()
        return self

    def received(self, path_prefix: str) -> list[Received]:
        """The requests received so far whose path starts with ``path_prefix``."""
        with self._server.lock:
            return [seen for seen in self._server.received if seen.path.startswith(path_prefix)]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


# --------------------------------------------------------------------------------------------
# The servers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One line of a server's access log."""

    client_port: int
    protocol: str  # "HTTP/1.1", "HTTP/2.0"
    method: str
    target: str  # path and query
    status: int


@dataclass(frozen=True)
class WebServer:
    """A running web server: its daemon (``ports``: cleartext, then TLS) and what it logs."""

    name: str
    daemon: Daemon
    access_log: Path
    json_log: bool = False  # caddy logs JSON, the others a line of fields

    @property
    def http_port(self) -> int:
        return self.daemon.ports[0]

    @property
    def https_port(self) -> int:
        return self.daemon.ports[1]

    def url(self, path: str, tls: bool) -> str:
        if tls:
            return f"https://{HOST}:{self.https_port}{path}"
        return f"http://{HOST}:{self.http_port}{path}"

    def hits(self, marker: str) -> list[Hit]:
        """The logged requests whose target contains ``marker`` (a test's own token)."""
        try:
            text = self.access_log.read_text(errors="replace")
        except FileNotFoundError:
            return []
        hits = []
        for line in text.splitlines():
            if marker not in line:
                continue
            hit = _parse_json_hit(line) if self.json_log else _parse_hit(line)
            if hit is not None and marker in hit.target:
                hits.append(hit)
        return hits

    def logs(self) -> str:
        return self.daemon.logs()


def _parse_hit(line: str) -> Hit | None:
    """``<client port> <protocol> <method> <target> <status>`` (nginx, apache)."""
    fields = line.split()
    if len(fields) != 5 or not fields[0].isdigit() or not fields[4].isdigit():
        return None
    return Hit(int(fields[0]), fields[1], fields[2], fields[3], int(fields[4]))


def _parse_json_hit(line: str) -> Hit | None:
    """One line of caddy's JSON access log."""
    try:
        entry = json.loads(line)
        request = entry["request"]
        return Hit(int(request["remote_port"]), request["proto"], request["method"],
                   request["uri"], int(entry["status"]))
    except (ValueError, KeyError, TypeError):
        return None


def _write_content(docroot: Path) -> None:
    static = docroot / "static"
    static.mkdir(parents=True)
    (static / "small.txt").write_bytes(SMALL_BODY)
    (static / "large.bin").write_bytes(large_body())
    for path in (docroot, static):
        path.chmod(0o755)
    for path in static.iterdir():
        path.chmod(0o644)


def _write_certificate(directory: Path, certificate: Any) -> tuple[Path, Path]:
    """The trustme certificate (chain) and key as PEM files the server reads at startup."""
    cert = directory / "server.crt"
    key = directory / "server.key"
    cert.write_bytes(b"".join(blob.bytes() for blob in certificate.cert_chain_pems))
    certificate.private_key_pem.write_to_path(str(key))
    return cert, key


# --------------------------------------------------------------------------------------------
# nginx
# --------------------------------------------------------------------------------------------


def nginx_config(directory: Path, ports: tuple[int, ...], cert: Path, key: Path,
                 backend_port: int, user: str | None) -> str:
    temp = "\n".join(
        f"    {kind}_temp_path {directory / 'temp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    site = f"""
        root {directory / "www"};
        location /backend/ {{
            proxy_pass http://{HOST}:{backend_port};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $remote_addr;
        }}"""
    return f"""daemon off;
master_process on;
worker_processes 1;
{f"user {user};" if user else ""}
pid {directory / "nginx.pid"};
error_log {directory / "error.log"} info;
events {{ worker_connections 1024; }}
http {{
    log_format interop '$remote_port $server_protocol $request_method $request_uri $status';
    access_log {directory / "access.log"} interop;
{temp}
    types {{ text/plain txt; application/octet-stream bin; }}
    keepalive_timeout {IDLE_TIMEOUT};
    keepalive_requests 10000;
    client_max_body_size 64m;
    server {{
        listen {HOST}:{ports[0]};
{site}
    }}
    server {{
        listen {HOST}:{ports[1]} ssl http2;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
{site}
    }}
}}
"""


@contextlib.contextmanager
def run_nginx(binary: str, certificate: Any, backend: ChecksumBackend) -> Iterator[WebServer]:
    """nginx (master and one worker) in the foreground (``daemon off``)."""
    user = unprivileged_user("www-data", "nobody")
    directory = private_directory("aiosonic-nginx-", mode=0o755)
    _write_content(directory / "www")
    cert, key = _write_certificate(directory, certificate)
    (directory / "temp").mkdir()
    config = directory / "nginx.conf"

    def prepare(ports: tuple[int, ...]) -> None:
        config.write_text(nginx_config(directory, ports, cert, key, backend.port, user))

    argv = [binary, "-p", str(directory), "-c", str(config), "-e", str(directory / "error.log")]
    with run_daemon("nginx", lambda ports: argv, directory, prepare=prepare, ports=2) as daemon:
        yield WebServer("nginx", daemon, directory / "access.log")


# --------------------------------------------------------------------------------------------
# apache2
# --------------------------------------------------------------------------------------------

_APACHE_LOADED = (
    "mpm_event", "authz_core", "mime", "ssl", "socache_shmcb", "http2", "proxy", "proxy_http",
)


def apache_modules() -> str | None:
    """The directory of apache's modules, if every module the configuration loads is there."""
    directory = Path(_APACHE_MODULES)
    if all((directory / f"mod_{name}.so").is_file() for name in _APACHE_LOADED):
        return str(directory)
    return None


def apache_config(directory: Path, ports: tuple[int, ...], cert: Path, key: Path,
                  backend_port: int, user: str | None, modules: str) -> str:
    load = "\n".join(
        f"LoadModule {name}_module {modules}/mod_{name}.so" for name in _APACHE_LOADED
    )
    identity = f"User {user}\nGroup {group_of(user)}\n" if user else ""
    site = f"""    DocumentRoot {directory / "www"}
    ProxyPass /backend/ http://{HOST}:{backend_port}/backend/
    ProxyPassReverse /backend/ http://{HOST}:{backend_port}/backend/"""
    return f"""ServerRoot {directory}
ServerName {HOST}
PidFile {directory / "httpd.pid"}
DefaultRuntimeDir {directory}
Mutex file:{directory}
ErrorLog {directory / "error.log"}
LogLevel warn
{load}
{identity}TypesConfig /dev/null
AddType text/plain .txt
AddType application/octet-stream .bin
HostnameLookups Off
KeepAlive On
KeepAliveTimeout {IDLE_TIMEOUT}
MaxKeepAliveRequests 0
StartServers 1
ServerLimit 2
ThreadsPerChild 64
MaxRequestWorkers 128
LogFormat "%{{remote}}p %H %m %U%q %>s" interop
CustomLog {directory / "access.log"} interop
SSLSessionCache shmcb:{directory / "ssl_scache"}(512000)
SSLRandomSeed startup builtin
Listen {HOST}:{ports[0]}
Listen {HOST}:{ports[1]}
<Directory {directory / "www"}>
    Require all granted
</Directory>
<VirtualHost {HOST}:{ports[0]}>
{site}
</VirtualHost>
<VirtualHost {HOST}:{ports[1]}>
    SSLEngine on
    SSLProtocol -all +TLSv1.2 +TLSv1.3
    SSLCertificateFile {cert}
    SSLCertificateKeyFile {key}
    Protocols h2 http/1.1
{site}
</VirtualHost>
"""


@contextlib.contextmanager
def run_apache(binary: str, certificate: Any, backend: ChecksumBackend) -> Iterator[WebServer]:
    """apache2 (event MPM, mod_ssl, mod_http2, mod_proxy_http) in the foreground."""
    modules = apache_modules()
    if modules is None:
        raise FileNotFoundError(f"apache modules {_APACHE_LOADED} are not all in "
                                f"{_APACHE_MODULES} (Debian package 'apache2-bin')")
    user = unprivileged_user("www-data", "nobody")
    directory = private_directory("aiosonic-apache-", mode=0o755)
    _write_content(directory / "www")
    cert, key = _write_certificate(directory, certificate)
    config = directory / "httpd.conf"

    def prepare(ports: tuple[int, ...]) -> None:
        config.write_text(
            apache_config(directory, ports, cert, key, backend.port, user, modules)
        )

    argv = [binary, "-f", str(config), "-DFOREGROUND"]
    with run_daemon("apache", lambda ports: argv, directory, prepare=prepare, ports=2) as daemon:
        yield WebServer("apache", daemon, directory / "access.log")


# --------------------------------------------------------------------------------------------
# caddy
# --------------------------------------------------------------------------------------------


def caddy_config(directory: Path, ports: tuple[int, ...], cert: Path, key: Path,
                 backend_port: int) -> str:
    site = f"""	bind {HOST}
	handle /backend/* {{
		reverse_proxy {HOST}:{backend_port}
	}}
	handle {{
		root * {directory / "www"}
		file_server
	}}
	log {{
		output file {directory / "access.log"}
		format json
	}}"""
    return f"""{{
	admin off
	auto_https off
	ocsp_stapling off
	storage file_system {directory / "storage"}
	log {{
		output file {directory / "caddy.log"}
	}}
	servers {{
		protocols h1 h2
		timeouts {{
			idle {IDLE_TIMEOUT}s
		}}
	}}
}}
http://{HOST}:{ports[0]} {{
{site}
}}
https://{HOST}:{ports[1]} {{
	tls {cert} {key} {{
		protocols tls1.2 tls1.3
	}}
{site}
}}
"""


@contextlib.contextmanager
def run_caddy(binary: str, certificate: Any, backend: ChecksumBackend) -> Iterator[WebServer]:
    """caddy (``caddy run``) with a Caddyfile; its data and config homes in the directory."""
    directory = private_directory("aiosonic-caddy-", mode=0o755)
    _write_content(directory / "www")
    cert, key = _write_certificate(directory, certificate)
    config = directory / "Caddyfile"

    def prepare(ports: tuple[int, ...]) -> None:
        config.write_text(caddy_config(directory, ports, cert, key, backend.port))

    env = {
        "HOME": str(directory),
        "XDG_DATA_HOME": str(directory / "data"),
        "XDG_CONFIG_HOME": str(directory / "config"),
    }
    argv = [binary, "run", "--config", str(config), "--adapter", "caddyfile"]
    with run_daemon("caddy", lambda ports: argv, directory, prepare=prepare, ports=2,
                    env=env) as daemon:
        yield WebServer("caddy", daemon, directory / "access.log", json_log=True)

"""Real proxy daemons from the distribution's packages, for the tests that go through them.

* ``squid_proxy``: Debian's ``squid`` as an HTTP proxy that CONNECTs to any port, started
  in the foreground (``-N``) with a configuration generated here: its own port, pid file
  and logs in a temporary directory, no cache, and nothing outbound but the tunnels it is
  asked for (no DNS server other than 127.0.0.1, no ICP/HTCP, no pinger). It never clashes
  with a system squid: nothing of it is shared with ``/etc/squid``. ``run_squid`` can also
  require Basic proxy credentials (its ``basic_ncsa_auth`` helper and an htpasswd file).
* ``socks5_proxy``: ``microsocks``, a SOCKS5 server without authentication
  (``run_microsocks`` also with RFC 1929 user name and password).
* ``run_tinyproxy``: tinyproxy (HTTP proxy, CONNECT to any port, optionally ``BasicAuth``).
* ``run_dante``: Dante's ``danted`` (SOCKS5), without authentication or with the
  ``username`` method. Dante checks those against the system's password database, so for
  that one it runs in a mount namespace of its own (``unshare --mount``, root only) where a
  generated ``/etc/passwd`` and ``/etc/shadow`` are bind-mounted over the real ones: the
  machine's files are never written, and nothing outside that one process sees the copies.

Each listens on 127.0.0.1 and connects to origins from another loopback address when the
system has one (``Daemon.outgoing``: 127.0.0.3 for squid, 127.0.0.2 for microsocks,
127.0.0.4 for tinyproxy and 127.0.0.5 for dante on Linux), so an origin can tell that a
connection came through the daemon. Targets must be IP literals of the loopback network:
no daemon is ever made to resolve a name.

``run_daemon`` is the common driver (also for the web servers of ``support.web_daemons``):
free ports, a configuration written for them, the daemon in the foreground in a session of
its own, a wait until every port accepts connections, SIGTERM at the end.

A fixture is started once per session and stopped at the end. When its binary is missing
it skips the test, unless ``CI`` is set (``CI=true``): in CI a missing daemon is a failure,
as ``.ci/run`` installs them (``apt-get install squid microsocks ...``).
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

__all__ = [
    "HOST",
    "Credentials",
    "Daemon",
    "DaemonError",
    "find_binary",
    "group_of",
    "htpasswd_line",
    "in_ci",
    "private_directory",
    "require_binary",
    "require_root",
    "run_daemon",
    "run_dante",
    "run_microsocks",
    "run_squid",
    "run_tinyproxy",
    "socks5_proxy",
    "squid_proxy",
    "unprivileged_user",
]

HOST = "127.0.0.1"
START_TIMEOUT = 20.0  # seconds for a daemon to accept connections
STOP_TIMEOUT = 10.0
_SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")  # squid lives here; not on every PATH


class DaemonError(RuntimeError):
    """A daemon did not start (its log is in the message)."""


@dataclass(frozen=True)
class Credentials:
    """A user name and password a proxy accepts."""

    user: str
    password: str


@dataclass(frozen=True)
class Daemon:
    """A running daemon: where it listens and where it connects from."""

    name: str
    host: str
    port: int  # the first of ``ports``
    outgoing: str  # the address its connections to origins come from
    directory: Path  # configuration, pid file and logs
    pid: int
    ports: tuple[int, ...] = ()  # every port it listens on (``port`` first)
    credentials: Credentials | None = None  # what it requires of clients, if anything

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def logs(self) -> str:
        """Everything it logged so far (for failure messages)."""
        parts = []
        for path in sorted(self.directory.glob("*.log")):
            with contextlib.suppress(OSError):
                parts.append(f"--- {path.name}\n{path.read_text(errors='replace')}")
        return "\n".join(parts)


def in_ci() -> bool:
    """True when running in CI (``CI=true``, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def find_binary(name: str) -> str | None:
    path = os.pathsep.join([os.environ.get("PATH", os.defpath), *_SBIN])
    return shutil.which(name, path=path)


def _missing(message: str) -> NoReturn:
    if in_ci():
        pytest.fail(f"{message}; CI must provide it (see .ci/run)", pytrace=False)
    pytest.skip(message)


def require_binary(name: str, package: str) -> str:
    """The path of ``name``; skips the test when it is missing (fails in CI)."""
    binary = find_binary(name)
    if binary is not None:
        return binary
    _missing(
        f"{name} is not installed (Debian package {package!r}: "
        f"apt-get install --no-install-recommends {package})"
    )


def require_root(what: str) -> None:
    """Skip (fail in CI, which runs as root) when this process is not root."""
    if os.geteuid() != 0:
        _missing(f"{what} needs root")


def _free_port(host: str) -> int:
    """A port that nothing listens on right now (the daemon binds it a moment later: a
    start that loses the race is retried on other ports)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _free_ports(host: str, count: int) -> tuple[int, ...]:
    ports: list[int] = []
    while len(ports) < count:
        port = _free_port(host)
        if port not in ports:
            ports.append(port)
    return tuple(ports)


def _outgoing_address(preferred: str) -> str:
    """``preferred`` (another loopback address) if this system can bind it, else HOST."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((preferred, 0))
    except OSError:
        return HOST
    return preferred


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait_listening(process: subprocess.Popen[bytes], host: str, ports: Sequence[int]) -> bool:
    """Poll until every one of ``ports`` on ``host`` accepts a connection: True; False if
    the process exited. Between attempts it waits on the process itself, so an exit is
    seen at once."""
    deadline = time.monotonic() + START_TIMEOUT
    waiting = list(ports)
    while time.monotonic() < deadline:
        waiting = [port for port in waiting if not _accepts(host, port)]
        if not waiting:
            return True
        try:
            process.wait(timeout=0.02)
        except subprocess.TimeoutExpired:
            continue
        return False
    raise DaemonError(f"nothing accepted connections on {host}:{waiting} in {START_TIMEOUT} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
    # Workers it forked are in the session (and process group) it was started in: end any
    # left behind. The group is ours alone (start_new_session), its id the daemon's pid.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def private_directory(prefix: str, owner: str | None = None, mode: int | None = None) -> Path:
    """A fresh directory, owned by ``owner`` when we are root (squid drops to that user,
    and pytest's own temporary directories are closed to other users); ``mode`` opens it
    (a web server's workers, running as another user, read its files)."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    if owner is not None and os.geteuid() == 0:
        entry = pwd.getpwnam(owner)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    if mode is not None:
        directory.chmod(mode)
    return directory


def unprivileged_user(*candidates: str) -> str | None:
    """The first of ``candidates`` that exists, when we are root (daemons refuse to run as
    root, or should not); None when we are not root (they run as us)."""
    if os.geteuid() != 0:
        return None
    for user in candidates or ("nobody",):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(user)
            return user
    raise DaemonError(f"running as root and none of the users {candidates} exists")


def group_of(user: str) -> str:
    """The name of ``user``'s primary group."""
    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name


@contextlib.contextmanager
def run_daemon(
    name: str,
    argv_for: Callable[[tuple[int, ...]], list[str]],
    directory: Path,
    outgoing: str = HOST,
    prepare: Callable[[tuple[int, ...]], None] | None = None,
    *,
    ports: int = 1,
    attempts: int = 5,
    env: Mapping[str, str] | None = None,
    credentials: Credentials | None = None,
) -> Iterator[Daemon]:
    """Start ``argv_for(ports)`` on ``ports`` free ports of 127.0.0.1 (``prepare(ports)``
    first writes its configuration), wait until every port accepts connections, yield it,
    stop it, remove ``directory``. A start whose daemon exits before listening (one of the
    ports was taken meanwhile) is retried on other ports."""
    failures: list[str] = []
    try:
        for attempt in range(attempts):
            chosen = _free_ports(HOST, ports)
            if prepare is not None:
                prepare(chosen)
            out = directory / f"{name}-stdout-{attempt}.log"
            with out.open("wb") as sink:
                process = subprocess.Popen(
                    argv_for(chosen),
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    cwd=directory,
                    env=None if env is None else {**os.environ, **env},
                    start_new_session=True,  # a ^C of the test run is not delivered to it
                )
            try:
                if _wait_listening(process, HOST, chosen):
                    yield Daemon(name, HOST, chosen[0], outgoing, directory, process.pid,
                                 chosen, credentials)
                    return
            finally:
                _stop(process)
            failures.append(f"attempt {attempt + 1} (ports {chosen}): exited {process.returncode}")
        logs = Daemon(name, HOST, 0, outgoing, directory, 0).logs()
        raise DaemonError(f"{name} did not start: {'; '.join(failures)}\n{logs}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def htpasswd_line(credentials: Credentials) -> str:
    """``user:hash`` with a SHA-512 crypt(3) hash (``$6$...``), made by apache2-utils'
    ``htpasswd``: what squid's ``basic_ncsa_auth`` and ``/etc/shadow`` both understand."""
    binary = require_binary("htpasswd", "apache2-utils")
    result = subprocess.run(
        [binary, "-nb", "-5", credentials.user, credentials.password],
        check=True, capture_output=True, text=True, timeout=10,
    )
    line = result.stdout.strip()
    if not line.startswith(f"{credentials.user}:$6$"):
        raise DaemonError(f"unexpected htpasswd output: {line!r}")
    return line


# --------------------------------------------------------------------------------------------
# squid
# --------------------------------------------------------------------------------------------

_SQUID_HELPERS = ("/usr/lib/squid", "/usr/lib64/squid", "/usr/libexec/squid")


def _squid_user() -> str | None:
    """The user squid must switch to when started as root (it refuses to run as root)."""
    return unprivileged_user("proxy", "squid", "nobody")


def _squid_helper(name: str) -> str:
    for directory in _SQUID_HELPERS:
        path = Path(directory, name)
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    _missing(f"squid's {name} helper is not installed (Debian package 'squid')")


def squid_config(
    directory: Path, port: int, outgoing: str, user: str | None, passwords: Path | None = None
) -> str:
    """A minimal squid.conf: CONNECT to any port from loopback, nothing else; with
    ``passwords`` (an htpasswd file) only for clients that give Basic credentials."""
    lines = [
        f"http_port {HOST}:{port}",
        "visible_hostname localhost",  # no gethostname()/DNS check at startup
        f"pid_filename {directory / 'squid.pid'}",
        f"cache_log {directory / 'cache.log'}",
        f"access_log stdio:{directory / 'access.log'}",
        "cache_store_log none",
        "logfile_rotate 0",
        f"coredump_dir {directory}",
        # no cache: no cache_dir (nothing on disk), nothing kept in memory
        "cache deny all",
        "cache_mem 1 MB",
        # who may do what: anyone on loopback, any method (CONNECT included), any port
        "acl loopback src 127.0.0.0/8 ::1",
    ]
    if passwords is not None:
        lines += [
            f"auth_param basic program {_squid_helper('basic_ncsa_auth')} {passwords}",
            "auth_param basic children 2 startup=1 idle=1",
            "auth_param basic realm aiosonic-interop",
            "auth_param basic credentialsttl 1 minute",
            "acl authenticated proxy_auth REQUIRED",
            "http_access allow loopback authenticated",
        ]
    else:
        lines.append("http_access allow loopback")
    lines += [
        "http_access deny all",
        # nothing outbound but the tunnels: targets are IP literals, and should a name ever
        # need resolving, the only DNS server is on loopback
        "dns_nameservers 127.0.0.1",
        "icp_port 0",
        "htcp_port 0",
        "pinger_enable off",
        f"tcp_outgoing_address {outgoing}",
        "shutdown_lifetime 0 seconds",  # SIGTERM: exit now, do not drain for 30 s
    ]
    if user is not None:
        lines.append(f"cache_effective_user {user}")
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def run_squid(binary: str, credentials: Credentials | None = None) -> Iterator[Daemon]:
    """squid in the foreground on a free port of 127.0.0.1, with its own configuration;
    with ``credentials``, Basic proxy authentication is required."""
    user = _squid_user()
    directory = private_directory("aiosonic-squid-", user)
    outgoing = _outgoing_address("127.0.0.3")
    config = directory / "squid.conf"
    passwords: Path | None = None
    if credentials is not None:
        passwords = directory / "passwords"
        passwords.write_text(htpasswd_line(credentials) + "\n")
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(passwords, entry.pw_uid, entry.pw_gid)

    def prepare(ports: tuple[int, ...]) -> None:
        config.write_text(squid_config(directory, ports[0], outgoing, user, passwords))

    with run_daemon(
        "squid", lambda ports: [binary, "-N", "-f", str(config)], directory, outgoing, prepare,
        credentials=credentials,
    ) as daemon:
        yield daemon


@pytest.fixture(scope="session")
def squid_proxy() -> Iterator[Daemon]:
    """A running squid (HTTP proxy, CONNECT to any port) for the whole session."""
    binary = require_binary("squid", "squid")
    with run_squid(binary) as daemon:
        yield daemon


# --------------------------------------------------------------------------------------------
# microsocks
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def run_microsocks(binary: str, credentials: Credentials | None = None) -> Iterator[Daemon]:
    """microsocks (SOCKS5) on a free port of 127.0.0.1; with ``credentials`` it requires
    the RFC 1929 user name and password (and, without ``-1``, on every connection)."""
    directory = private_directory("aiosonic-microsocks-")
    outgoing = _outgoing_address("127.0.0.2")
    auth: list[str] = []
    if credentials is not None:
        auth = ["-u", credentials.user, "-P", credentials.password]
    with run_daemon(
        "microsocks",
        lambda ports: [binary, "-i", HOST, "-p", str(ports[0]), "-b", outgoing, *auth],
        directory,
        outgoing,
        credentials=credentials,
    ) as daemon:
        yield daemon


@pytest.fixture(scope="session")
def socks5_proxy() -> Iterator[Daemon]:
    """A running microsocks (SOCKS5) for the whole session."""
    binary = require_binary("microsocks", "microsocks")
    with run_microsocks(binary) as daemon:
        yield daemon


# --------------------------------------------------------------------------------------------
# tinyproxy
# --------------------------------------------------------------------------------------------


def tinyproxy_config(
    directory: Path, port: int, outgoing: str, user: str | None,
    credentials: Credentials | None,
) -> str:
    """tinyproxy on 127.0.0.1 for loopback clients; no ``ConnectPort`` line, so CONNECT
    goes to any port; no ``Upstream``, so it only ever connects to the targets asked for."""
    lines = [
        f"Port {port}",
        f"Listen {HOST}",
        f"Bind {outgoing}",
        "Timeout 30",
        f'LogFile "{directory / "tinyproxy.log"}"',
        "LogLevel Info",
        f'PidFile "{directory / "tinyproxy.pid"}"',
        "MaxClients 100",
        "Allow 127.0.0.0/8",
        "DisableViaHeader Yes",
    ]
    if user is not None:
        lines += [f"User {user}", f"Group {group_of(user)}"]
    if credentials is not None:
        lines.append(f"BasicAuth {credentials.user} {credentials.password}")
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def run_tinyproxy(binary: str, credentials: Credentials | None = None) -> Iterator[Daemon]:
    """tinyproxy in the foreground (``-d``) on a free port of 127.0.0.1; with
    ``credentials``, its ``BasicAuth``."""
    user = unprivileged_user("tinyproxy", "nobody")
    directory = private_directory("aiosonic-tinyproxy-", user)
    outgoing = _outgoing_address("127.0.0.4")
    config = directory / "tinyproxy.conf"

    def prepare(ports: tuple[int, ...]) -> None:
        config.write_text(tinyproxy_config(directory, ports[0], outgoing, user, credentials))

    with run_daemon(
        "tinyproxy", lambda ports: [binary, "-d", "-c", str(config)], directory, outgoing,
        prepare, credentials=credentials,
    ) as daemon:
        yield daemon


# --------------------------------------------------------------------------------------------
# dante
# --------------------------------------------------------------------------------------------

DANTE_UID = 64999  # the uid of the one user the generated password database adds


def dante_config(directory: Path, port: int, outgoing: str, user: str | None,
                 username_method: bool) -> str:
    """danted: SOCKS5 CONNECT from loopback clients to loopback targets only."""
    lines = [
        f"logoutput: {directory / 'danted.log'}",
        f"internal: {HOST} port = {port}",
        f"external: {outgoing}",
        "clientmethod: none",
        f"socksmethod: {'username' if username_method else 'none'}",
    ]
    if user is not None:
        lines += ["user.privileged: root", f"user.unprivileged: {user}"]
    lines += [
        "client pass {",
        "    from: 127.0.0.0/8 to: 0.0.0.0/0",
        "    log: error",
        "}",
        "client block {",
        "    from: 0.0.0.0/0 to: 0.0.0.0/0",
        "    log: connect error",
        "}",
        "socks pass {",
        "    from: 127.0.0.0/8 to: 127.0.0.0/8",
        "    command: connect",
        "    log: error",
        "}",
        "socks block {",
        "    from: 0.0.0.0/0 to: 0.0.0.0/0",
        "    log: connect error",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _password_database(directory: Path, credentials: Credentials) -> tuple[Path, Path]:
    """Copies of the system's ``/etc/passwd`` and ``/etc/shadow`` with one more user, for
    dante's mount namespace (the originals are only read)."""
    passwd = directory / "passwd"
    shadow = directory / "shadow"
    hashed = htpasswd_line(credentials).split(":", 1)[1]
    passwd.write_text(
        Path("/etc/passwd").read_text()
        + f"{credentials.user}:x:{DANTE_UID}:{DANTE_UID}::/nonexistent:/usr/sbin/nologin\n"
    )
    shadow.touch(mode=0o600)
    shadow.write_text(
        Path("/etc/shadow").read_text() + f"{credentials.user}:{hashed}:19000:0:99999:7:::\n"
    )
    return passwd, shadow


@contextlib.contextmanager
def run_dante(binary: str, credentials: Credentials | None = None) -> Iterator[Daemon]:
    """danted in the foreground on a free port of 127.0.0.1. With ``credentials`` it
    requires the SOCKS5 username method, checked against a password database that only its
    own mount namespace sees (needs root and ``unshare``)."""
    user = unprivileged_user("nobody")
    directory = private_directory("aiosonic-dante-")
    outgoing = _outgoing_address("127.0.0.5")
    config = directory / "danted.conf"
    pid_file = directory / "danted.pid"
    command = [binary, "-f", str(config), "-p", str(pid_file), "-N", "1"]
    if credentials is not None:
        require_root("dante's username method (a private mount namespace)")
        unshare = require_binary("unshare", "util-linux")
        passwd, shadow = _password_database(directory, credentials)
        script = (
            f"mount --bind {shlex.quote(str(passwd))} /etc/passwd && "
            f"mount --bind {shlex.quote(str(shadow))} /etc/shadow && "
            f"exec {shlex.join(command)}"
        )
        command = [unshare, "--mount", "--propagation", "private", "sh", "-c", script]

    def prepare(ports: tuple[int, ...]) -> None:
        config.write_text(
            dante_config(directory, ports[0], outgoing, user, credentials is not None)
        )

    with run_daemon("dante", lambda ports: command, directory, outgoing, prepare,
                    credentials=credentials) as daemon:
        yield daemon

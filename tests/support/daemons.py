"""Real proxy daemons from the distribution's packages, for the tests that go through them.

* ``squid_proxy``: Debian's ``squid`` as an HTTP proxy that CONNECTs to any port, started
  in the foreground (``-N``) with a configuration generated here: its own port, pid file
  and logs in a temporary directory, no cache, and nothing outbound but the tunnels it is
  asked for (no DNS server other than 127.0.0.1, no ICP/HTCP, no pinger). It never clashes
  with a system squid: nothing of it is shared with ``/etc/squid``.
* ``socks5_proxy``: ``microsocks``, a SOCKS5 server without authentication.

Both listen on 127.0.0.1 and connect to origins from another loopback address when the
system has one (``Daemon.outgoing``, 127.0.0.3 for squid and 127.0.0.2 for microsocks on
Linux), so an origin can tell that a connection came through the daemon. Targets must be
IP literals of the loopback network: neither daemon is ever made to resolve a name.

A fixture is started once per session and stopped at the end. When its binary is missing
it skips the test, unless ``CI`` is set (``CI=true``): in CI a missing daemon is a failure,
as ``.ci/run`` installs them (``apt-get install squid microsocks``).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = [
    "Daemon",
    "DaemonError",
    "in_ci",
    "require_binary",
    "run_microsocks",
    "run_squid",
    "socks5_proxy",
    "squid_proxy",
]

HOST = "127.0.0.1"
START_TIMEOUT = 20.0  # seconds for a daemon to accept connections
STOP_TIMEOUT = 10.0
_SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")  # squid lives here; not on every PATH


class DaemonError(RuntimeError):
    """A daemon did not start (its log is in the message)."""


@dataclass(frozen=True)
class Daemon:
    """A running daemon: where it listens and where it connects from."""

    name: str
    host: str
    port: int
    outgoing: str  # the address its connections to origins come from
    directory: Path  # configuration, pid file and logs
    pid: int

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


def require_binary(name: str, package: str) -> str:
    """The path of ``name``; skips the test when it is missing (fails in CI)."""
    binary = find_binary(name)
    if binary is not None:
        return binary
    message = (
        f"{name} is not installed (Debian package {package!r}: "
        f"apt-get install --no-install-recommends {package})"
    )
    if in_ci():
        pytest.fail(f"{message}; CI must install it (see .ci/run)", pytrace=False)
    pytest.skip(message)


def _free_port(host: str) -> int:
    """A port that nothing listens on right now (the daemon binds it a moment later: a
    start that loses the race is retried on another port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


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


def _wait_listening(process: subprocess.Popen[bytes], host: str, port: int) -> bool:
    """Poll until ``host:port`` accepts a connection: True; False if the process exited.
    Between attempts it waits on the process itself, so an exit is seen at once."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if _accepts(host, port):
            return True
        try:
            process.wait(timeout=0.02)
        except subprocess.TimeoutExpired:
            continue
        return False
    raise DaemonError(f"nothing accepted connections on {host}:{port} in {START_TIMEOUT} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)


def _private_directory(prefix: str, owner: str | None) -> Path:
    """A fresh directory, owned by ``owner`` when we are root (squid drops to that user,
    and pytest's own temporary directories are closed to other users)."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    if owner is not None:
        entry = pwd.getpwnam(owner)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    return directory


@contextlib.contextmanager
def _run(
    name: str,
    argv_for: Callable[[int], list[str]],
    directory: Path,
    outgoing: str,
    prepare: Callable[[int], None] | None = None,
    attempts: int = 5,
) -> Iterator[Daemon]:
    """Start ``argv_for(port)`` on a free port (retried on another port if the daemon exits
    before listening, e.g. the port was taken meanwhile), yield it, stop it."""
    failures: list[str] = []
    try:
        for attempt in range(attempts):
            port = _free_port(HOST)
            if prepare is not None:
                prepare(port)
            out = directory / f"{name}-stdout-{attempt}.log"
            with out.open("wb") as sink:
                process = subprocess.Popen(
                    argv_for(port),
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    cwd=directory,
                    start_new_session=True,  # a ^C of the test run is not delivered to it
                )
            try:
                if _wait_listening(process, HOST, port):
                    yield Daemon(name, HOST, port, outgoing, directory, process.pid)
                    return
            finally:
                _stop(process)
            failures.append(f"attempt {attempt + 1} (port {port}): exited {process.returncode}")
        logs = Daemon(name, HOST, 0, outgoing, directory, 0).logs()
        raise DaemonError(f"{name} did not start: {'; '.join(failures)}\n{logs}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# squid
# --------------------------------------------------------------------------------------------


def _squid_user() -> str | None:
    """The user squid must switch to when started as root (it refuses to run as root)."""
    if os.geteuid() != 0:
        return None
    for user in ("proxy", "squid", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(user)
            return user
    raise DaemonError("running as root and no 'proxy' or 'nobody' user for squid")


def squid_config(directory: Path, port: int, outgoing: str, user: str | None) -> str:
    """A minimal squid.conf: CONNECT to any port from loopback, nothing else."""
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
        "http_access allow loopback",
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
def run_squid(binary: str) -> Iterator[Daemon]:
    """squid in the foreground on a free port of 127.0.0.1, with its own configuration."""
    user = _squid_user()
    directory = _private_directory("aiosonic-squid-", user)
    outgoing = _outgoing_address("127.0.0.3")
    config = directory / "squid.conf"

    def prepare(port: int) -> None:
        config.write_text(squid_config(directory, port, outgoing, user))

    with _run(
        "squid", lambda port: [binary, "-N", "-f", str(config)], directory, outgoing, prepare
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
def run_microsocks(binary: str) -> Iterator[Daemon]:
    """microsocks (SOCKS5, no authentication) on a free port of 127.0.0.1."""
    directory = _private_directory("aiosonic-microsocks-", None)
    outgoing = _outgoing_address("127.0.0.2")
    with _run(
        "microsocks",
        lambda port: [binary, "-i", HOST, "-p", str(port), "-b", outgoing],
        directory,
        outgoing,
    ) as daemon:
        yield daemon


@pytest.fixture(scope="session")
def socks5_proxy() -> Iterator[Daemon]:
    """A running microsocks (SOCKS5) for the whole session."""
    binary = require_binary("microsocks", "microsocks")
    with run_microsocks(binary) as daemon:
        yield daemon

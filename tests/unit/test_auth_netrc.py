"""``netrc_auth``: where the file is looked for, which entry wins, and that a broken file
never raises (temporary files, HOME and NETRC monkeypatched)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiosonic.auth import BasicAuth, netrc_auth

NETRC = """\
machine example.org login alice password s3cret
machine other.example
    login bob
    password "with space"
default login anon password guest
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home directory and no NETRC variable."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))
    monkeypatch.delenv("NETRC", raising=False)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def test_home_netrc_machine_and_default(home: Path) -> None:
    write(home / ".netrc", NETRC)
    assert netrc_auth("example.org") == BasicAuth("alice", "s3cret")
    assert netrc_auth("other.example") == BasicAuth("bob", "with space")
    assert netrc_auth("unknown.example") == BasicAuth("anon", "guest")


def test_underscore_netrc_is_the_fallback(home: Path) -> None:
    write(home / "_netrc", "machine example.org login u password p\n")
    assert netrc_auth("example.org") == BasicAuth("u", "p")
    write(home / ".netrc", "machine example.org login dot password first\n")
    assert netrc_auth("example.org") == BasicAuth("dot", "first")


def test_netrc_variable_wins_and_is_exclusive(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(home / ".netrc", NETRC)
    custom = write(home / "custom", "machine example.org login env password var\n")
    monkeypatch.setenv("NETRC", str(custom))
    assert netrc_auth("example.org") == BasicAuth("env", "var")
    assert netrc_auth("other.example") is None  # ~/.netrc is not consulted
    monkeypatch.setenv("NETRC", str(home / "missing"))
    assert netrc_auth("example.org") is None


def test_explicit_path_wins(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = write(home / "explicit", "machine example.org login x password y\n")
    monkeypatch.setenv("NETRC", str(write(home / "env", NETRC)))
    assert netrc_auth("example.org", str(explicit)) == BasicAuth("x", "y")
    assert netrc_auth("example.org", explicit) == BasicAuth("x", "y")


def test_no_entry_no_file(home: Path) -> None:
    assert netrc_auth("example.org") is None
    write(home / ".netrc", "machine example.org login a password b\n")
    assert netrc_auth("example.com") is None


def test_changes_to_the_file_are_seen(home: Path) -> None:
    path = write(home / ".netrc", "machine example.org login a password b\n")
    assert netrc_auth("example.org") == BasicAuth("a", "b")
    write(path, "machine example.org login changed password longer-password\n")
    assert netrc_auth("example.org") == BasicAuth("changed", "longer-password")


def test_non_ascii_credentials_are_sent_as_utf8(home: Path) -> None:
    write(home / ".netrc", "machine example.org login j\u00fcrgen password \u20ac\n")
    auth = netrc_auth("example.org")
    assert auth == BasicAuth("j\u00fcrgen", "\u20ac", encoding="utf-8")


def test_bracketed_ipv6_host(home: Path) -> None:
    write(home / ".netrc", "machine ::1 login six password p\n")
    assert netrc_auth("[::1]") == BasicAuth("six", "p")
    assert netrc_auth("::1") == BasicAuth("six", "p")


@pytest.mark.parametrize(
    "content",
    [
        b"machine example.org login",  # truncated
        b"machine example.org login u password p macdef\n",  # truncated macro
        b"machine example.org login u password p\nmachine",  # a machine without a name
        b"login u password p\n",  # no machine
        b"machine example.org bogus x\n",
        b"this is not a netrc file at all",
        b"\xff\xfe\x00 binary \x00\x01",
        b"machine example.org login us:er password p\n",  # not sendable as Basic
        b"machine example.org account only\n",  # neither login nor password
    ],
)
def test_broken_files_give_none(home: Path, content: bytes) -> None:
    path = home / ".netrc"
    path.write_bytes(content)
    assert netrc_auth("example.org") is None


def test_unreadable_and_odd_paths_give_none(home: Path) -> None:
    (home / "dir").mkdir()
    assert netrc_auth("example.org", str(home / "dir")) is None
    assert netrc_auth("example.org", str(home / "nul\x00byte")) is None
    locked = write(home / "locked", NETRC)
    locked.chmod(0)
    if not os.access(locked, os.R_OK):  # root reads anything
        assert netrc_auth("example.org", str(locked)) is None
    locked.chmod(0o600)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.binary(max_size=120)
    | st.text(alphabet='machine login password default "\\\n\t #xa', max_size=120).map(str.encode)
)
def test_any_content_gives_basic_auth_or_none(home: Path, content: bytes) -> None:
    path = home / "fuzz"
    path.write_bytes(content)
    result = netrc_auth("x", str(path))
    assert result is None or isinstance(result, BasicAuth)

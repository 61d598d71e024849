"""The package surface: lazy names, ``dir()``, ``python -m aiosonic``, value objects, and the
translation of socket errors into aiosonic's own exceptions."""

from __future__ import annotations

import importlib
import runpy
import ssl
import sys

import pytest

import aiosonic
from aiosonic.exceptions import (
    AiosonicError,
    ConnectError,
    ConnectTimeout,
    TLSError,
    map_oserror,
)


def test_unknown_attribute_is_an_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match="module 'aiosonic' has no attribute 'NoSuchThing'"):
        aiosonic.NoSuchThing  # noqa: B018
    assert not hasattr(aiosonic, "_private_guess")


def test_lazy_names_load_on_first_use_and_dir_lists_the_public_surface() -> None:
    from aiosonic.web_socket_client import WebSocketClient

    assert aiosonic.WebSocketClient is WebSocketClient
    listing = dir(aiosonic)
    assert listing == sorted(aiosonic.__all__)
    assert "SSEClient" in listing and "HTTPClient" in listing


def test_python_dash_m_aiosonic_prints_the_version(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["aiosonic", "--version"])
    monkeypatch.delitem(sys.modules, "aiosonic.__main__", raising=False)
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("aiosonic", run_name="__main__", alter_sys=True)
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"aiosonic {aiosonic.__version__}"


def test_importing_the_main_module_does_not_run_the_command_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["pytest", "--version"])
    monkeypatch.delitem(sys.modules, "aiosonic.__main__", raising=False)
    module = importlib.import_module("aiosonic.__main__")
    monkeypatch.delitem(sys.modules, "aiosonic.__main__")
    assert callable(module.main)
    assert capsys.readouterr() == ("", "")


def test_value_objects_of_different_kinds_are_never_equal() -> None:
    timeouts = aiosonic.Timeouts(sock_read=5)
    assert timeouts == aiosonic.Timeouts(sock_read=5)
    assert timeouts != aiosonic.Limits()
    assert timeouts != (None, 5, None, None)  # not equal to its own fields either
    assert {timeouts, aiosonic.Timeouts(sock_read=5)} == {timeouts}


def test_a_socket_timeout_while_connecting_becomes_connect_timeout() -> None:
    error = map_oserror(TimeoutError("timed out"), "cannot connect to h:1")
    assert type(error) is ConnectTimeout
    assert str(error) == "cannot connect to h:1: timed out"
    assert isinstance(error, TimeoutError)


def test_a_tls_error_without_a_verify_message_gives_its_reason() -> None:
    raw = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    raw.reason = "WRONG_VERSION_NUMBER"
    error = map_oserror(raw, "cannot connect to h:443")
    assert type(error) is TLSError
    assert str(error) == "cannot connect to h:443: TLS handshake failed: WRONG_VERSION_NUMBER"


def test_an_oserror_without_strerror_keeps_its_text() -> None:
    error = map_oserror(OSError("no route, said the kernel"), "cannot connect to h:1")
    assert type(error) is ConnectError
    assert str(error) == "cannot connect to h:1: no route, said the kernel"
    assert isinstance(error, AiosonicError)



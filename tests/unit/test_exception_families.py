"""Where each exception lives and what else it is: one class per error however it is
imported (``aiosonic.exceptions`` holds what upstream aiosonic documents there), and the
builtin or upstream families that programs written for upstream catch them by."""

from __future__ import annotations

import ssl

import pytest

import aiosonic
from aiosonic import _sse, exceptions, sse_client, web_socket_client
from aiosonic.exceptions import AiosonicError


@pytest.mark.parametrize("name", ["SSEError", "SSEConnectionError", "SSEParsingError"])
def test_sse_errors_are_one_class_importable_from_both_modules(name: str) -> None:
    cls = getattr(exceptions, name)
    assert getattr(sse_client, name) is cls
    if name != "SSEConnectionError":  # the parser raises only the other two
        assert getattr(_sse, name) is cls
    assert name in exceptions.__all__ and name in sse_client.__all__
    assert issubclass(cls, AiosonicError)
    assert cls.__module__ == "aiosonic.exceptions"


def test_sse_connection_error_keeps_its_status_and_body() -> None:
    error = exceptions.SSEConnectionError("refused", status_code=503, body=b"busy")
    assert (str(error), error.status_code, error.body) == ("refused", 503, b"busy")
    assert issubclass(exceptions.SSEParsingError, exceptions.SSEError)
    assert issubclass(exceptions.SSEConnectionError, exceptions.SSEError)


def test_response_consumed_is_a_connection_error() -> None:
    assert issubclass(exceptions.ResponseConsumed, ConnectionError)
    assert issubclass(exceptions.ResponseConsumed, AiosonicError)
    assert "ResponseConsumed" in exceptions.__all__


def test_no_protocol_handler_is_a_runtime_error_and_a_websocket_error() -> None:
    cls = web_socket_client.NoProtocolHandler
    assert issubclass(cls, RuntimeError) and issubclass(cls, web_socket_client.WebSocketError)
    assert not issubclass(web_socket_client.WebSocketError, RuntimeError)
    assert "NoProtocolHandler" in web_socket_client.__all__


def test_tls_errors_are_ssl_errors() -> None:
    assert issubclass(exceptions.TLSError, ssl.SSLError)
    assert issubclass(exceptions.TLSError, exceptions.ConnectError)
    assert issubclass(exceptions.TLSCertVerificationError, ssl.SSLCertVerificationError)
    assert issubclass(exceptions.TLSCertVerificationError, exceptions.TLSError)
    # A proxy's refusal is a connection failure, not a TLS one.
    assert not issubclass(exceptions.ProxyError, ssl.SSLError)


def test_map_oserror_keeps_the_certificate_details() -> None:
    raw = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate "
                                          "verify failed: certificate has expired")
    raw.verify_code, raw.verify_message = 10, "certificate has expired"
    raw.library, raw.reason = "SSL", "CERTIFICATE_VERIFY_FAILED"
    error = exceptions.map_oserror(raw, "cannot connect to h:443")
    assert type(error) is exceptions.TLSCertVerificationError
    assert str(error) == "cannot connect to h:443: TLS handshake failed: certificate has expired"
    assert (error.verify_code, error.verify_message) == (10, "certificate has expired")
    assert (error.library, error.reason, error.errno) == ("SSL", "CERTIFICATE_VERIFY_FAILED", 1)
    assert error.strerror == raw.strerror


def test_http_status_error_is_typed_with_the_response() -> None:
    # For type checkers (the import is under TYPE_CHECKING: exceptions imports nothing of
    # the package at run time).
    assert exceptions.HTTPStatusError.__init__.__annotations__["response"] == "HttpResponse"
    assert aiosonic.HTTPStatusError is exceptions.HTTPStatusError

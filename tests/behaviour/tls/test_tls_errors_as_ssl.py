"""TLS failures are ours and the standard library's at once: a program catching
``ssl.SSLError`` (or ``ssl.SSLCertVerificationError``), as programs written for upstream
aiosonic do, catches what a handshake with a real TLS server (trustme certificates) raises,
and so does one catching ``TLSError`` or ``ConnectError``; the ``ssl`` module's error stays
the ``__cause__``, its attributes are copied, and the message still says which host failed
and why."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from support.app import AppServer
from support.proxy_process import ProxyProcess

import aiosonic
from aiosonic.exceptions import AiosonicError, ConnectError, TLSCertVerificationError, TLSError

TlsWeb = Callable[..., Awaitable[AppServer]]

# OpenSSL's X509_V_ERR_* codes for the three certificate failures below.
UNTRUSTED = {19, 20}  # self-signed in the chain / unable to get the local issuer
EXPIRED = 10
HOSTNAME_MISMATCH = 62


async def fail(request: Awaitable[Any]) -> ssl.SSLError:
    """What ``except ssl.SSLError`` catches around ``request`` (it must fail)."""
    try:
        await request
    except ssl.SSLError as exc:
        return exc
    raise AssertionError("the request did not fail with an ssl.SSLError")


def assert_certificate_error(exc: ssl.SSLError, verify_code: set[int], host: str) -> None:
    assert isinstance(exc, ssl.SSLCertVerificationError)
    assert isinstance(exc, TLSCertVerificationError)
    assert isinstance(exc, TLSError) and isinstance(exc, ConnectError)
    assert isinstance(exc, AiosonicError) and isinstance(exc, ConnectionError)
    cause = exc.__cause__
    assert isinstance(cause, ssl.SSLCertVerificationError)
    assert not isinstance(cause, AiosonicError)  # the ssl module's own, as it was raised
    assert exc.verify_code == cause.verify_code
    assert exc.verify_code in verify_code
    assert exc.verify_message == cause.verify_message
    assert (exc.library, exc.reason) == (cause.library, cause.reason) == (
        "SSL", "CERTIFICATE_VERIFY_FAILED"
    )
    assert exc.errno == cause.errno
    # The message names the host and OpenSSL's reason, not a bare tuple or errno.
    message = str(exc)
    assert host in message and exc.verify_message in message
    assert "TLS handshake failed" in message
    assert not message.startswith(("(", "[Errno"))


async def test_untrusted_certificate_is_an_ssl_cert_verification_error(
    tls_web: TlsWeb, client: aiosonic.HTTPClient
) -> None:
    srv = await tls_web("127.0.0.1")
    exc = await fail(client.get(srv.url("/echo")))
    assert_certificate_error(exc, UNTRUSTED, f"127.0.0.1:{srv.port}")
    assert srv.seen == []


async def test_wrong_hostname_is_an_ssl_cert_verification_error(
    tls_web: TlsWeb, client: aiosonic.HTTPClient, trusting_context: ssl.SSLContext
) -> None:
    srv = await tls_web("other.example")
    exc = await fail(client.get(srv.url("/echo", host="localhost"), ssl=trusting_context))
    assert_certificate_error(exc, {HOSTNAME_MISMATCH}, "localhost")
    assert "localhost" in str(exc.verify_message)


async def test_expired_certificate_is_an_ssl_cert_verification_error(
    tls_web: TlsWeb, client: aiosonic.HTTPClient, trusting_context: ssl.SSLContext
) -> None:
    srv = await tls_web("localhost", expired=True)
    exc = await fail(client.get(srv.url("/echo", host="localhost"), ssl=trusting_context))
    assert_certificate_error(exc, {EXPIRED}, "localhost")


@pytest.mark.parametrize(
    "catch", [ssl.SSLError, ssl.SSLCertVerificationError, TLSError, ConnectError, OSError]
)
async def test_each_family_catches_a_verification_failure(
    tls_web: TlsWeb, client: aiosonic.HTTPClient, catch: type[Exception]
) -> None:
    srv = await tls_web("127.0.0.1")
    with pytest.raises(catch) as caught:
        await client.get(srv.url("/echo"))
    assert type(caught.value) is TLSCertVerificationError


async def test_a_handshake_failure_that_is_not_the_certificate(
    server: AppServer, client: aiosonic.HTTPClient
) -> None:
    # TLS to a plain-HTTP server: the handshake fails, no certificate was ever checked.
    exc = await fail(client.get(server.url("/echo").replace("http://", "https://")))
    assert type(exc) is TLSError
    assert not isinstance(exc, ssl.SSLCertVerificationError)
    cause = exc.__cause__
    assert isinstance(cause, ssl.SSLError) and not isinstance(cause, AiosonicError)
    assert exc.reason == cause.reason and exc.library == cause.library
    assert exc.reason  # OpenSSL's name for it, e.g. WRONG_VERSION_NUMBER
    assert f"127.0.0.1:{server.port}" in str(exc)
    assert server.seen == []


async def test_a_verification_failure_through_a_proxy_tunnel(
    tls_web: TlsWeb, new_client: Callable[..., aiosonic.HTTPClient], proxy_open: ProxyProcess
) -> None:
    srv = await tls_web("localhost")
    http = new_client(proxy=aiosonic.Proxy(proxy_open.address))
    exc = await fail(http.get(srv.url("/echo", host="localhost")))
    assert_certificate_error(exc, UNTRUSTED, "localhost")
    assert srv.seen == []


def test_a_tls_error_made_without_an_ssl_cause() -> None:
    # The one TLSError with no ssl error behind it (bytes before a SOCKS tunnel's
    # handshake) is still a readable ssl.SSLError.
    exc = TLSError("example.com:443 sent 5 bytes before the TLS handshake")
    assert isinstance(exc, ssl.SSLError)
    assert str(exc) == "example.com:443 sent 5 bytes before the TLS handshake"
    assert exc.args == ("example.com:443 sent 5 bytes before the TLS handshake",)
    assert exc.errno is None
    assert repr(exc) == "TLSError('example.com:443 sent 5 bytes before the TLS handshake')"

"""The public surface matches the aiosonic reference (../shared/spec/reference.txt)."""

from __future__ import annotations

import inspect
import json

import pytest

import aiosonic
from aiosonic import connection, connectors, exceptions, multipart, pools, proxy, resolver
from aiosonic.timeout import Timeouts


def params(func: object) -> dict[str, object]:
    return {
        name: p.default
        for name, p in inspect.signature(func).parameters.items()  # type: ignore[arg-type]
        if name != "self"
    }


def test_package_exports_and_no_private_names() -> None:
    for name in ("HTTPClient", "HttpHeaders", "HttpResponse", "TCPConnector", "Timeouts"):
        assert name in aiosonic.__all__
    assert all(not name.startswith("_") or name == "__version__" for name in aiosonic.__all__)
    assert connectors.TCPConnector is aiosonic.TCPConnector
    from aiosonic.client import HttpHeaders, HttpResponse

    assert HttpHeaders is aiosonic.HttpHeaders and HttpResponse is aiosonic.HttpResponse


def test_client_signatures() -> None:
    assert list(params(aiosonic.HTTPClient))[:4] == [
        "connector", "handle_cookies", "verify_ssl", "proxy"
    ]
    assert params(aiosonic.HTTPClient)["handle_cookies"] is False
    assert params(aiosonic.HTTPClient)["verify_ssl"] is True
    request = params(aiosonic.HTTPClient.request)
    assert list(request)[:13] == [
        "url", "method", "headers", "params", "data", "json", "json_serializer",
        "multipart", "verify", "ssl", "timeouts", "follow", "http2",
    ]
    assert request["method"] == "GET" and request["json_serializer"] is json.dumps
    # The reference's parameters in its order; our keyword-only options come after.
    assert list(params(aiosonic.HTTPClient.get)) == [
        "url", "headers", "params", "verify", "ssl", "timeouts", "follow", "http2", "options"
    ]
    for verb in ("post", "put", "patch", "delete"):
        assert list(params(getattr(aiosonic.HTTPClient, verb))) == [
            "url", "data", "headers", "json", "params", "json_serializer", "multipart",
            "verify", "ssl", "timeouts", "follow", "http2", "options",
        ]
        assert inspect.iscoroutinefunction(getattr(aiosonic.HTTPClient, verb))
    assert params(aiosonic.HTTPClient.delete)["data"] == b""
    assert params(aiosonic.HTTPClient.wait_requests) == {"timeout": 30}


def test_connector_pools_and_timeouts() -> None:
    assert list(params(aiosonic.TCPConnector).items())[:8] == [
        ("pool_size", 25), ("timeouts", None), ("connection_cls", None), ("pool_cls", None),
        ("resolver", None), ("ttl_dns_cache", 10000), ("use_dns_cache", True),
        ("conn_max_requests", 100),
    ]
    assert params(Timeouts) == {
        "sock_connect": 5, "sock_read": 30, "pool_acquire": None, "request_timeout": 60
    }
    assert connection.Connection is aiosonic.TCPConnector().connection_cls
    assert isinstance(aiosonic.TCPConnector().pool, pools.SmartPool)
    for pool in (pools.SmartPool, pools.CyclicQueuePool):
        assert list(params(pool)) == ["connector", "pool_size", "connection_cls"]
        for method in ("acquire", "release", "free_conns", "is_all_free", "cleanup"):
            assert callable(getattr(pool, method))
        assert inspect.iscoroutinefunction(pool.acquire)
        assert inspect.iscoroutinefunction(pool.cleanup)


def test_resolvers_multipart_proxy_exceptions() -> None:
    assert resolver.DefaultResolver is resolver.ThreadedResolver
    for cls in (resolver.ThreadedResolver, resolver.AsyncResolver):
        assert list(params(cls.resolve))[1:] == ["port", "family"]
        assert inspect.iscoroutinefunction(cls.close)
    form = multipart.MultipartForm
    assert list(params(form.add_field)) == ["name", "value", "filename"]
    assert list(params(form.add_file)) == ["name", "file_path", "filename"]
    assert params(form.get_headers) == {"size": None}
    assert inspect.iscoroutinefunction(form.get_body_size)
    assert list(params(multipart.MultipartFile)) == [
        "file_path_or_obj", "filename", "content_type"
    ]
    assert params(proxy.Proxy) == {"host": inspect.Parameter.empty, "auth": None}
    for name in (
        "BaseTimeout", "ConnectTimeout", "ReadTimeout", "RequestTimeout",
        "ConnectionPoolAcquireTimeout", "HttpParsingError", "MaxRedirects",
        "MissingWriterException", "MissingReaderException", "ConnectionDisconnected",
        "MissingEvent", "TimeoutException",
    ):
        assert issubclass(getattr(exceptions, name), exceptions.AiosonicError)
    for name in ("ConnectTimeout", "ReadTimeout", "RequestTimeout",
                 "ConnectionPoolAcquireTimeout"):
        assert issubclass(getattr(exceptions, name), exceptions.BaseTimeout)


@pytest.mark.parametrize("name", ["content", "text", "json", "read_chunks"])
def test_response_methods(name: str) -> None:
    method = getattr(aiosonic.HttpResponse, name)
    assert inspect.iscoroutinefunction(method) or inspect.isasyncgenfunction(method)

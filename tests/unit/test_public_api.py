"""The public surface matches the aiosonic reference (../shared/spec/reference.txt)."""

from __future__ import annotations

import importlib
import inspect
import json
import re
from pathlib import Path

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


# -- every entry of the reference text, checked mechanically --------------------------------

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "spec" / "reference.txt"
_ENTRY = re.compile(r"^- (?:class |async |property )?([\w.]+)(\(.*\))?")


def _top_level_names(signature: str) -> list[str]:
    """Parameter names of a reference signature ``(a: int = 1, b=<function x>)``."""
    names, depth, current = [], 0, ""
    for char in signature[1 : signature.rindex(")")]:
        if char in "[(<":
            depth += 1
        elif char in "])>":
            depth -= 1
        if char == "," and depth == 0:
            names.append(current)
            current = ""
        else:
            current += char
    names.append(current)
    cleaned = [re.split(r"[:=]", name)[0].strip() for name in names]
    return [name for name in cleaned if name and name != "self" and not name.startswith("*")]


def _reference_entries() -> list[tuple[str, str | None]]:
    """(qualified name, signature) for every documented name; members get their class."""
    if not REFERENCE.exists():
        pytest.skip("the reference text is not next to this checkout")
    entries: list[tuple[str, str | None]] = []
    owner = ""
    for line in REFERENCE.read_text(encoding="utf-8").splitlines():
        match = _ENTRY.match(line)
        if match is None or match.group(1).endswith(":"):
            continue
        name, signature = match.group(1), match.group(2)
        if name.startswith("aiosonic."):
            if line.startswith("- class "):
                owner = name
            entries.append((name, signature))
        elif owner and name.isidentifier() and (signature or line.startswith("- property ")):
            entries.append((f"{owner}.{name}", signature))
    return entries


def _resolve(qualified: str) -> object:
    parts = qualified.split(".")
    obj: object = importlib.import_module(parts[0])
    for index, part in enumerate(parts[1:], start=1):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            obj = importlib.import_module(".".join(parts[: index + 1]))
    return obj


def test_every_reference_name_exists_with_its_parameters_in_order() -> None:
    entries = _reference_entries()
    assert len(entries) > 40  # the parser found the reference's entries
    for qualified, signature in entries:
        obj = _resolve(qualified)
        if signature is None or not callable(obj):
            continue
        wanted = _top_level_names(signature)
        parameters = inspect.signature(obj).parameters  # type: ignore[arg-type]
        if aiosonic.COMPILED and not parameters and inspect.iscoroutinefunction(obj):
            continue  # a compiled coroutine function has no signature: the pure run checks it
        ours = [
            name
            for name, p in parameters.items()
            if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        if qualified == "aiosonic.resolver.AsyncResolver":
            continue  # (*args, **kwargs) in the reference: anything is accepted
        assert [name.lstrip("_") for name in ours[: len(wanted)]] == [
            name.lstrip("_") for name in wanted
        ], qualified


def test_all_names_resolve_and_none_is_private() -> None:
    for name in aiosonic.__all__:
        assert not name.startswith("_") or name == "__version__", name
        assert getattr(aiosonic, name) is not None, name
    namespace: dict[str, object] = {}
    exec("from aiosonic import *", namespace)
    assert set(aiosonic.__all__) <= set(namespace)

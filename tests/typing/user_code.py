"""Calls a user of the public API writes, checked by ``mypy --strict`` and pyright in
``make typecheck`` (never run: nothing here is called). Each line is a form the code
accepts at run time; a checker refusing one is a typing bug."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import aiosonic
from aiosonic.exceptions import HTTPStatusError


async def requests_as_users_write_them(client: aiosonic.HTTPClient) -> None:
    # params values are sent as str(value): numbers are fine
    await client.get("http://127.0.0.1:8080/", params={"page": 2, "ratio": 0.5, "q": "x"})
    await client.get("http://127.0.0.1:8080/", params=[("page", 2), ("tag", "a")])
    # any Mapping of headers, not only a dict
    fixed: Mapping[str, str] = MappingProxyType({"Accept": "application/json"})
    await client.get("http://127.0.0.1:8080/", headers=fixed)
    await client.get("http://127.0.0.1:8080/", headers=[("X-A", "1"), ("X-A", "2")])
    # json= takes what the serializer takes
    await client.post("http://127.0.0.1:8080/", json="a string")
    await client.post("http://127.0.0.1:8080/", json=[1, 2, 3])
    await client.post("http://127.0.0.1:8080/", json={"nested": {"ok": True}})
    await client.put("http://127.0.0.1:8080/", data=b"x" * 1000, expect100=True)
    response = await client.get("http://127.0.0.1:8080/")
    trailers: aiosonic.HttpHeaders = response.trailers
    del trailers


def the_error_carries_its_response(error: HTTPStatusError) -> int:
    return error.response.status_code


def a_client_as_upstream_1x_makes_it() -> aiosonic.HTTPClient:
    return aiosonic.HTTPClient(max_decompressed_size=10 * 1024 * 1024)

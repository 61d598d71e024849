"""Runner for curl_cffi: one ``AsyncSession`` (libcurl's multi interface on the event loop).

Run inside ``bench/.venvs/curl_cffi``. The session is ``AsyncSession(max_clients=N,
trust_env=False)``, N curl handles whose connections libcurl keeps alive; no browser is
impersonated. Each request is ``await session.get(url)``, which returns with the whole body in
``resp.content``. In the realistic scenario: ``session.get(url, params=..., headers=...)`` and
``session.post(url, json=..., headers=...)``.

The HTTP version is asked for explicitly: ``http_version=V1_1`` for plain HTTP, ``V2TLS`` with
``--http2`` (h2 offered in ALPN; libcurl multiplexes the requests over one connection).
``--cafile`` is passed as ``verify=`` (libcurl's CAINFO). ``resp.http_version`` is libcurl's
number (2: HTTP/1.1, 3: HTTP/2), reported as ``1.1`` or ``2``.

In the ``download`` scenario one handle streams the body: ``session.get(url, stream=True)``
and ``resp.aiter_content()``.
Only the standard library and ``curl_cffi`` are imported here.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

import _harness
import _realistic
import _transfer
import curl_cffi
from curl_cffi import CurlHttpVersion
from curl_cffi.requests import AsyncSession, Response

_VERSIONS = {int(CurlHttpVersion.V1_1): "1.1", int(CurlHttpVersion.V2_0): "2"}


def _version(resp: Any) -> str:
    return _VERSIONS.get(resp.http_version) or f"curl:{resp.http_version}"


async def open_client(opts: _harness.Options) -> tuple[_harness.Fetch, _harness.Close]:
    if opts.new_conn:
        raise ValueError("the curl_cffi runner keeps connections alive (no --new-conn)")
    options: dict[str, Any] = {
        "max_clients": opts.concurrency,
        "trust_env": False,
        "http_version": CurlHttpVersion.V2TLS if opts.http2 else CurlHttpVersion.V1_1,
    }
    if opts.cafile is not None:
        options["verify"] = opts.cafile  # a path: libcurl's CAINFO (the stubs only say bool)
    session: AsyncSession[Response] = AsyncSession(**options)

    if opts.workload is not None:
        work = _realistic.load(opts)
        url, headers, params, payload = work.url, work.headers, work.params, work.payload

        async def get() -> tuple[int, _realistic.Body, str]:
            resp = await session.get(url, params=params, headers=headers)
            return resp.status_code, resp.content, _version(resp)

        async def post() -> tuple[int, _realistic.Body, str]:
            resp = await session.post(url, json=payload, headers=headers)
            return resp.status_code, resp.content, _version(resp)

        return _realistic.alternate(work, get, post), session.close

    url = opts.url

    async def fetch() -> tuple[int, int, str]:
        resp = await session.get(url)
        return resp.status_code, len(resp.content), _version(resp)

    return fetch, session.close


async def open_transfer(opts: _transfer.TransferOptions) -> _transfer.TransferClient:
    """One curl handle; a download streams with ``stream=True`` and ``aiter_content()``."""
    session: AsyncSession[Response] = AsyncSession(
        max_clients=1, trust_env=False, http_version=CurlHttpVersion.V1_1
    )

    async def download(url: str) -> tuple[int, int]:
        got = 0
        # Any: curl_cffi leaves aiter_content() and aclose() unannotated.
        resp: Any = await session.get(url, stream=True, timeout=_transfer.TRANSFER_TIMEOUT)
        try:
            async for chunk in resp.aiter_content():
                got += len(chunk)
        finally:
            await resp.aclose()
        return resp.status_code, got

    return _transfer.TransferClient(download, None, session.close)


def library() -> dict[str, Any]:
    version = metadata.version("curl_cffi")
    return {"name": "curl_cffi", "version": version, "module": curl_cffi.__file__}


if __name__ == "__main__":
    _transfer.run(_harness.fetch_measure(open_client), open_transfer, library)

"""Runner for niquests: one ``AsyncSession`` over urllib3-future's pool.

Run inside ``bench/.venvs/niquests``. The session is ``AsyncSession(pool_connections=1,
pool_maxsize=N, disable_http3=True, revocation_configuration=None)`` with ``trust_env`` off:
one host, N pooled connections, no HTTP/3 upgrade attempt and no OCSP look-up (which would
leave loopback). Each request is ``await session.get(url)``, which returns with the whole body
in ``resp.content``. In the realistic scenario: ``session.get(url, params=..., headers=...)``
and ``session.post(url, json=..., headers=...)``.

For an https URL the session verifies against ``--cafile`` (``session.verify``); niquests
offers h2 in ALPN by default, so ``--http2`` needs nothing more. ``resp.http_version`` (11,
20) is reported as ``1.1`` or ``2``.

In the ``download`` scenario one connection streams the body: ``session.get(url,
stream=True)`` and ``iter_content(64 KiB)``.
Only the standard library and ``niquests`` are imported here.
"""

from __future__ import annotations

from typing import Any

import _harness
import _realistic
import _transfer
import niquests

_VERSIONS = {11: "1.1", 20: "2"}


def _version(resp: Any) -> str:
    return _VERSIONS.get(resp.http_version) or str(resp.http_version)


async def open_client(opts: _harness.Options) -> tuple[_harness.Fetch, _harness.Close]:
    if opts.new_conn:
        raise ValueError("the niquests runner keeps connections alive (no --new-conn)")
    session = niquests.AsyncSession(
        pool_connections=1,
        pool_maxsize=opts.concurrency,
        disable_http3=True,
        revocation_configuration=None,
    )
    session.trust_env = False
    if opts.cafile is not None:
        session.verify = opts.cafile

    if opts.workload is not None:
        work = _realistic.load(opts)
        url, headers, params, payload = work.url, work.headers, work.params, work.payload

        async def get() -> tuple[int, _realistic.Body, str]:
            resp = await session.get(url, params=params, headers=headers)
            return resp.status_code or 0, resp.content or b"", _version(resp)

        async def post() -> tuple[int, _realistic.Body, str]:
            resp = await session.post(url, json=payload, headers=headers)
            return resp.status_code or 0, resp.content or b"", _version(resp)

        return _realistic.alternate(work, get, post), session.close

    url = opts.url

    async def fetch() -> tuple[int, int, str]:
        resp = await session.get(url)
        return resp.status_code or 0, len(resp.content or b""), _version(resp)

    return fetch, session.close


#: The piece size a download is read in (niquests' default is 512 bytes).
DOWNLOAD_CHUNK = 64 * 1024


async def open_transfer(opts: _transfer.TransferOptions) -> _transfer.TransferClient:
    """One connection; a download streams with ``stream=True`` and ``iter_content()``."""
    session = niquests.AsyncSession(
        pool_connections=1, pool_maxsize=1, disable_http3=True, revocation_configuration=None
    )
    session.trust_env = False

    async def download(url: str) -> tuple[int, int]:
        got = 0
        resp = await session.get(url, stream=True)
        async for chunk in await resp.iter_content(DOWNLOAD_CHUNK):
            got += len(chunk)
        return resp.status_code or 0, got

    return _transfer.TransferClient(download, None, session.close)


def library() -> dict[str, Any]:
    return {"name": "niquests", "version": niquests.__version__, "module": niquests.__file__}


if __name__ == "__main__":
    _transfer.run(_harness.fetch_measure(open_client), open_transfer, library)

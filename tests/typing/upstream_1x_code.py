"""Programs written for upstream aiosonic 1.x, as their authors type them: checked by
``mypy --strict`` and pyright like ``user_code.py`` (never run). Each form runs here; a
checker refusing one is a typing bug."""

from __future__ import annotations

import ssl
from typing import Any

import aiosonic
from aiosonic import BaseClient, PoolConfig, TCPConnector, Timeouts
from aiosonic.exceptions import HttpParsingError, SSEConnectionError, SSEParsingError
from aiosonic.sse_client import SSEEvent


def connectors_of_both_signatures() -> list[TCPConnector]:
    return [
        TCPConnector({":default": PoolConfig(size=1)}),  # 1.x: pool_configs first
        TCPConnector({"https://api.example": {"size": 4}}, Timeouts(sock_connect=2)),
        TCPConnector(10, Timeouts()),  # the reference's pool_size first
        TCPConnector(pool_configs={":default": PoolConfig(size=2)}),
    ]


async def catching_what_upstream_raises(client: aiosonic.HTTPClient) -> int | None:
    try:
        await client.get("https://self-signed.example/")
    except ssl.SSLCertVerificationError as exc:
        return exc.verify_code
    except ssl.SSLError:
        return None
    except HttpParsingError:  # get("http://:3101")
        return None
    except (SSEConnectionError, SSEParsingError):
        return None
    return 0


class Api(BaseClient):
    base_url = "https://api.example"
    parse_responses = False
    methods = BaseClient.methods | {"PROPFIND"}


async def a_wrapper_returning_responses(api: Api) -> int:
    response: aiosonic.HttpResponse = await api.delete("/x")
    return response.status_code


def an_event_without_an_id(event: SSEEvent) -> str:
    if event.id is None:
        return event.last_event_id
    return event.id


def fields(event: SSEEvent) -> dict[str, Any]:
    return dict(event)

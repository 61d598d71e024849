"""TLS helpers: server contexts with certificates from a local trustme CA."""

from __future__ import annotations

import datetime as dt
import ssl
from typing import Any


def server_context(
    ca: Any,
    *names: str,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> ssl.SSLContext:
    """A server context whose certificate (from ``ca``) names ``names``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert = ca.issue_cert(*names, not_before=not_before, not_after=not_after)
    cert.configure_cert(context)
    return context

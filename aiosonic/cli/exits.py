"""Exit codes of the command line, and the one place where errors and statuses map to them.

It never prints; callers turn ``describe(exc)`` into a message line.
"""

from __future__ import annotations

import enum

from aiosonic.exceptions import (
    AiosonicError,
    BaseTimeout,
    ConnectError,
    ConnectionDisconnected,
    DecompressionError,
    HttpParsingError,
    InvalidRequest,
    MaxRedirects,
    TLSError,
)

__all__ = ["EXIT_CODES_HELP", "ExitCode", "describe", "exit_for_error", "exit_for_status"]


class ExitCode(enum.IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    HTTP_3XX = 3
    HTTP_4XX = 4
    HTTP_5XX = 5
    TOO_MANY_REDIRECTS = 6
    TIMEOUT = 7
    INTERRUPTED = 130


EXIT_CODES_HELP = """\
exit status:
  0    success (any HTTP status unless --check-status)
  1    error: connection refused or reset, DNS, TLS, invalid response, local file
  2    usage error (bad option or request item)
  3    --check-status: 3xx response (a redirect not followed)
  4    --check-status: 4xx response
  5    --check-status: 5xx response
  6    too many redirects (-L with --max-redirects)
  7    timed out (--timeout)
  130  interrupted (Ctrl-C)"""


def exit_for_status(status: int) -> ExitCode:
    """What ``--check-status`` makes of a final response status."""
    if 300 <= status < 400:
        return ExitCode.HTTP_3XX
    if 400 <= status < 500:
        return ExitCode.HTTP_4XX
    if 500 <= status < 600:
        return ExitCode.HTTP_5XX
    return ExitCode.OK


def exit_for_error(exc: BaseException) -> ExitCode:
    if isinstance(exc, BaseTimeout):
        return ExitCode.TIMEOUT
    if isinstance(exc, MaxRedirects):
        return ExitCode.TOO_MANY_REDIRECTS
    return ExitCode.ERROR


# Most specific first: TLSError is a ConnectError, BaseTimeout is a TimeoutError (OSError).
_KINDS: tuple[tuple[type[BaseException], str], ...] = (
    (BaseTimeout, "timed out"),
    (TLSError, "TLS error"),
    (ConnectError, "cannot connect"),
    (ConnectionDisconnected, "connection closed"),
    (HttpParsingError, "invalid response"),
    (DecompressionError, "cannot decode the response body"),
    (MaxRedirects, "too many redirects"),
    (InvalidRequest, "invalid request"),
    (AiosonicError, "error"),
    (OSError, "error"),
)


def describe(exc: BaseException) -> str:
    """A one-line, human description of a failed request (no traceback)."""
    kind = next((label for cls, label in _KINDS if isinstance(exc, cls)), "error")
    detail = str(exc) or type(exc).__name__
    if detail.lower().startswith(kind.lower()):
        return detail  # the message already says what kind of failure it is
    return f"{kind}: {detail}"

"""``MultipartForm``: a multipart/form-data body (RFC 7578) built from fields and files.

It owns part headers, the boundary (random from ``secrets``, never derived from earlier
requests), computing the size without reading files, and streaming the body in blocks.
Files given by path are opened lazily and closed once sent. It never touches the network.
"""

from __future__ import annotations

import io
import mimetypes
import os
from collections.abc import AsyncIterator
from typing import IO, Any

from ._request import Body

__all__ = ["MultipartFile", "MultipartForm"]

_BLOCK = 64 * 1024
CRLF = b"\r\n"


def _quote(value: str) -> str:
    # Per the HTML form encoding algorithm: escape what would end or break the quoted string.
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace(
        "\n", "%0A"
    )


class MultipartFile:
    """A file part with an explicit filename and content type.

    ``file_path_or_obj`` is a path (opened when sent, closed after) or an open binary file.
    """

    def __init__(
        self,
        file_path_or_obj: str | os.PathLike[str] | IO[bytes],
        filename: str | None = None,
        content_type: str | None = None,
    ) -> None:
        self.source = file_path_or_obj
        if filename is None:
            if isinstance(file_path_or_obj, (str, os.PathLike)):
                filename = os.path.basename(os.fspath(file_path_or_obj))
            else:
                name = getattr(file_path_or_obj, "name", None)
                filename = os.path.basename(name) if isinstance(name, str) else "file"
        self.filename = filename
        self.content_type = (
            content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        )

    def size(self) -> int:
        source = self.source
        if isinstance(source, (str, os.PathLike)):
            return os.path.getsize(source)
        position = source.tell()
        end = source.seek(0, io.SEEK_END)
        source.seek(position)
        return end - position

    def blocks(self) -> Any:
        source = self.source
        if isinstance(source, (str, os.PathLike)):
            with open(source, "rb") as handle:
                yield from iter(lambda: handle.read(_BLOCK), b"")
        else:
            yield from iter(lambda: source.read(_BLOCK), b"")


class _Part:
    __slots__ = ("content", "head")

    def __init__(self, head: bytes, content: bytes | MultipartFile) -> None:
        self.head = head
        self.content = content

    def size(self) -> int:
        content = self.content
        body = len(content) if isinstance(content, bytes) else content.size()
        return len(self.head) + body + len(CRLF)


class MultipartForm:
    """A multipart/form-data request body: ``add_field`` and ``add_file``, then send it with
    ``client.post(url, data=form)``."""

    def __init__(self) -> None:
        import secrets  # 3 ms of imports (hmac, hashlib, random): only for forms

        self.boundary = "aiosonic-" + secrets.token_hex(16)
        self._parts: list[_Part] = []

    def _head(self, name: str, filename: str | None, content_type: str | None) -> bytes:
        disposition = f'form-data; name="{_quote(name)}"'
        if filename is not None:
            disposition += f'; filename="{_quote(filename)}"'
        lines = [f"--{self.boundary}", f"Content-Disposition: {disposition}"]
        if content_type is not None:
            lines.append(f"Content-Type: {content_type}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")

    def add_field(
        self, name: str, value: str | bytes | io.IOBase | MultipartFile, filename: str | None = None
    ) -> None:
        """Add a field: a str (or bytes) value, or a file-like object / ``MultipartFile``."""
        if isinstance(value, MultipartFile):
            part = value
        elif isinstance(value, io.IOBase):
            part = MultipartFile(value, filename)  # type: ignore[arg-type]
        elif isinstance(value, (str, bytes)):
            raw = value.encode("utf-8") if isinstance(value, str) else value
            self._parts.append(_Part(self._head(name, filename, None), raw))
            return
        else:
            raise TypeError(f"multipart field {name!r} cannot be a {type(value).__name__}")
        self._parts.append(
            _Part(self._head(name, filename or part.filename, part.content_type), part)
        )

    def add_file(self, name: str, file_path: str, filename: str | None = None) -> None:
        """Add the file at ``file_path``; it is opened when sent and closed afterwards."""
        self.add_field(name, MultipartFile(file_path, filename))

    def _closing(self) -> bytes:
        return f"--{self.boundary}--\r\n".encode()

    def size(self) -> int:
        """The body size in bytes, computed without reading any file."""
        return sum(part.size() for part in self._parts) + len(self._closing())

    async def get_buffer(self) -> AsyncIterator[bytes]:
        """The body, block by block."""
        for part in self._parts:
            yield part.head
            if isinstance(part.content, bytes):
                yield part.content
            else:
                for block in part.content.blocks():
                    yield block
            yield CRLF
        yield self._closing()

    async def get_body_size(self) -> tuple[bytes, int]:
        """The whole body and its size in bytes."""
        body = b"".join([block async for block in self.get_buffer()])
        return body, len(body)

    def as_body(self) -> Body:
        """This form as a request body: streamed, with its size when every part knows it,
        and sendable again (for a 307/308 redirect) unless a part is an open file object."""
        try:
            size: int | None = self.size()
        except (OSError, ValueError):
            size = None  # a part that cannot tell its size: send chunked
        replayable = all(
            not isinstance(part.content, MultipartFile)
            or isinstance(part.content.source, (str, os.PathLike))
            for part in self._parts
        )
        return Body(
            stream=self.get_buffer(),
            length=size,
            headers=list(self.get_headers().items()),
            restart=self.get_buffer if replayable else None,
        )

    def get_headers(self, size: int | None = None) -> dict[str, str]:
        """The Content-Type (with the boundary) and, given ``size``, Content-Length headers."""
        headers = {"Content-Type": f"multipart/form-data; boundary={self.boundary}"}
        if size is not None:
            headers["Content-Length"] = str(size)
        return headers

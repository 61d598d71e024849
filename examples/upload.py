"""Upload a multipart form (a field and a file) and watch the upload progress.

    python examples/server.py &
    python examples/upload.py http://127.0.0.1:8080
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile

import aiosonic
from aiosonic.multipart import MultipartForm

BASE_URL = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BASE_URL", "http://127.0.0.1:8080")


def write_report(path: str) -> None:
    with open(path, "wb") as handle:
        handle.write(b"id,value\n" + b"1,42\n" * 100_000)


async def main() -> None:
    sent: list[int] = []

    def on_upload(done: int, total: int | None) -> None:
        sent.append(done)
        if done == total:
            print(f"uploaded {done:,} of {total:,} bytes")

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "report.csv")
        write_report(path)

        form = MultipartForm()
        form.add_field("title", "monthly report")
        form.add_file("report", path)  # opened when sent, streamed, closed afterwards

        async with aiosonic.HTTPClient() as client:
            response = await client.post(f"{BASE_URL}/upload", data=form, upload_progress=on_upload)
            result = await response.json()
    print("fields:", result["fields"])
    print("files:", result["files"])
    print("progress calls:", "several" if len(sent) > 1 else "one")


if __name__ == "__main__":
    asyncio.run(main())

"""``python -m bench.summary``: the headline table of README.md and docs/benchmarks.md.

Reads ``results/latest.json`` (what the last runs of the one-table scenarios stored) and prints
one Markdown table: a row per client in catalogue order, and for each of the ``realistic``,
``h1`` and ``h2`` scenarios the client's median req/s and ``aiosonic / X``. A client whose
every run failed shows FAILED; one the scenario did not measure, a dash. The table is pasted
into the documentation by hand after a full ``make bench``, so the numbers there are always a
real run's.

It must never run anything or write a file: it only reads the stored medians and prints.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench import records
from bench.clients import CLIENTS, PROJECT
from bench.report import RESULTS, fmt_rps

#: The scenarios of the headline table, in column order, with their column titles.
COLUMNS = (("realistic", "realistic"), ("h1", "plain GET"), ("h2", "HTTP/2 + TLS"))
#: What the first column says about a client beside its name and version.
KINDS = {
    PROJECT: "this repository",
    "upstream": "released",
    "pyreqwest": "Rust",
    "rnet": "Rust",
    "curl_cffi": "libcurl",
    "raw": "bare asyncio.Protocol: the ceiling",
    "raw_await": "raw, each request awaited: the floor of an awaitable API",
}


def _group(data: dict[str, list[dict[str, Any]]], key: str) -> dict[str, Any]:
    return next((g for g in data.get(key, []) if g.get("group") == key), {})


def _name(client: str, groups: list[dict[str, Any]]) -> str:
    version = next((g["versions"][client] for g in groups if client in g.get("versions", {})), "")
    version = "" if version == "-" else version  # raw has no library
    kind = KINDS.get(client)
    if client == PROJECT and version.endswith("compiled"):
        kind = "this repository, compiled build"
    text = f"{client} {version}".strip() if client != PROJECT else f"**{PROJECT}**"
    return f"{text} ({kind})" if kind else text


def _cells(client: str, group: dict[str, Any]) -> list[str]:
    values = group.get("values", {})
    value, base = values.get(client), values.get(PROJECT)
    if client in group.get("failed", []):
        return ["FAILED", "-"]
    if not value:
        return ["-", "-"]
    if client == PROJECT:
        return [f"**{fmt_rps(value)}**", "1.00"]
    return [fmt_rps(value), f"{base / value:.2f}x" if base else "n/a"]


def table(results: Path = RESULTS) -> str:
    data = records.load(results)
    groups = [_group(data, key) for key, _ in COLUMNS]
    heads = ["client"]
    for _, title in COLUMNS:
        heads += [f"{title} req/s", f"{PROJECT} / X"]
    lines = ["| " + " | ".join(heads) + " |", "|---" + "|---:" * (len(heads) - 1) + "|"]
    for client in CLIENTS:
        if not any(client in {*g.get("values", {}), *g.get("failed", [])} for g in groups):
            continue
        cells = [_name(client, groups)]
        for group in groups:
            cells += _cells(client, group)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.summary", description=__doc__)
    parser.add_argument("--results", type=Path, default=RESULTS, help="the Markdown results file")
    print(table(parser.parse_args(argv).results))


if __name__ == "__main__":
    main()

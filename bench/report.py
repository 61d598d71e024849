"""What a run found, and how it is shown: stdout tables, the Markdown results file, the chart.

Owns the result records (``Run`` for one client process, ``Summary`` for a client's runs in
one table), the req/s tables with their ``aiosonic / X`` ratios (text for stdout, Markdown
for ``bench/results/latest.md``), the failure notes, the setup lines above a table, the
sections of the results file (replacing a scenario's section and keeping the others), the
machine-readable medians beside it (through ``bench.records``) and the chart.

It must never start a server or a client, measure anything, or decide what a scenario runs:
it only formats and writes what it is handed.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import pinning, realistic, records
from bench.clients import BENCH_DIR, CLIENTS, PROJECT, REPO_ROOT
from bench.scenarios import SCENARIOS, Scenario, Target
from bench.settings import Settings

RESULTS = BENCH_DIR / "results" / "latest.md"
RESULTS_TITLE = "# aiosonic peer benchmark\n"
_SECTION = re.compile(r"<!-- bench:(\w+) -->\n.*?<!-- /bench:\1 -->\n", re.DOTALL)
HEADERS = ["client", "median req/s", "min", "max", "runs ok", "errors", f"{PROJECT} / X"]


@dataclass
class Run:
    """One client process: its req/s, or why it failed."""

    client: str
    rps: float | None = None
    errors: int = 0
    reason: str = ""
    stderr_tail: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.rps is None


@dataclass
class Summary:
    """One client's runs in one table; ``skipped`` counts the rounds it was not retried in."""

    client: str
    runs: list[Run]
    skipped: int = 0

    @property
    def good(self) -> list[float]:
        return [run.rps for run in self.runs if run.rps is not None]

    @property
    def median(self) -> float | None:
        return statistics.median(self.good) if self.good else None

    @property
    def errors(self) -> int:
        return sum(run.errors for run in self.runs)

    @property
    def info(self) -> dict[str, Any]:
        return next((run.info for run in self.runs if run.info), {})


def tail(text: str, lines: int = 15) -> str:
    """The last ``lines`` lines of a process's output, as failure notes quote it."""
    return "\n".join(text.strip().splitlines()[-lines:])


def fmt_rps(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def medians(summaries: list[Summary]) -> dict[str, float]:
    """Each client's median req/s, for the clients that have one."""
    return {s.client: s.median for s in summaries if s.median is not None}


# --- tables ---------------------------------------------------------------------------------


def table_rows(summaries: list[Summary], rounds: int) -> list[list[str]]:
    base = next((s.median for s in summaries if s.client == PROJECT), None)
    rows = []
    for summary in summaries:
        good = summary.good
        median = summary.median
        if median is None:
            ratio = "FAILED"
        elif summary.client == PROJECT:
            ratio = "1.00 (baseline)"
        elif base is None:
            ratio = "n/a (aiosonic failed)" if PROJECT in {s.client for s in summaries} else "n/a"
        else:
            ratio = f"{base / median:.2f}x"
        rows.append(
            [
                summary.client,
                fmt_rps(median) if median is not None else "FAILED",
                fmt_rps(min(good) if good else None),
                fmt_rps(max(good) if good else None),
                f"{len(good)}/{rounds}",
                str(summary.errors),
                ratio,
            ]
        )
    return rows


def text_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [HEADERS, *rows]) for i in range(len(HEADERS))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(HEADERS), line(["-" * w for w in widths]), *map(line, rows)])


def markdown_table(rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(HEADERS) + " |", "|" + "|".join(["---"] + ["---:"] * 6) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


# --- notes around the tables ----------------------------------------------------------------


def failure_notes(summaries: list[Summary]) -> list[tuple[str, str, str]]:
    """(client, headline, stderr tail) for each client with failed runs or bad responses."""
    notes = []
    for summary in summaries:
        failed = [run for run in summary.runs if run.failed]
        if failed:
            first = failed[0]
            headline = f"failed {len(failed)} of {len(summary.runs)} runs: {first.reason}"
            if summary.skipped:
                headline += f" (not retried in the {summary.skipped} later rounds)"
            notes.append((summary.client, headline, first.stderr_tail))
        elif summary.errors:
            first_error = next((run.reason for run in summary.runs if run.reason), "")
            notes.append((summary.client, f"{summary.errors} bad responses: {first_error}", ""))
    return notes


def _fenced(text: str) -> list[str]:
    """``text`` as an indented code block under a Markdown list item."""
    return ["", "  ```", *[f"  {t}" for t in text.splitlines()], "  ```"]


def _version_text(info: dict[str, Any]) -> str:
    """The library version a run reported, with ``compiled`` for a compiled aiosonic."""
    version = str(info.get("version", "?"))
    return f"{version} compiled" if info.get("compiled") else version


def versions_line(summaries: list[Summary], scenario: Scenario) -> str:
    parts = []
    for summary in summaries:
        info = summary.info
        if summary.client in ("raw", "raw_await") or not info:
            continue
        version = _version_text(info)
        extra = f", {info['pool_api']}" if info.get("pool_api") else ""
        if summary.client in scenario.http2_clients and info.get("h2"):
            extra += f", h2 {info['h2']}"
        parts.append(f"{summary.client} {version}{extra}")
    return "; ".join(parts) if parts else "-"


def footnote(scenario: Scenario, summaries: list[Summary]) -> str:
    text = f"`{PROJECT} / X` is the ratio of median req/s; above 1 means this project is faster."
    if any(s.client == "raw" for s in summaries):
        text += (
            " `raw` is a bare asyncio.Protocol loop, the ceiling for any client on this event loop."
        )
    if any(s.client == "raw_await" for s in summaries):
        text += (
            " `raw_await` is the same loop with each request awaited through one future: the"
            " floor of any `await client.get(url)` API."
        )
    if scenario.key == "h2":
        text += (
            " Every client gets the same number of requests in flight; the HTTP/2 clients may "
            "multiplex them over one TLS connection, aiohttp (HTTP/1.1 only) needs as many TLS "
            "connections."
        )
    return text


def _realistic_request() -> str:
    """The realistic scenario's two requests, as the setup lines describe them."""
    headers = ", ".join(f"{name}: {value}" for name, value in realistic.HEADERS)
    return (
        f"alternately GET {realistic.PATH} with query parameters {realistic.QUERY_STRING} and "
        f"the headers {headers} ({len(realistic.GET_ANSWER)}-byte JSON answer), and POST "
        f"{realistic.PATH} of a JSON body ({len(realistic.payload_bytes())} bytes compact, "
        f"each client's own json= encoder) with the same headers "
        f"({len(realistic.POST_ANSWER)}-byte JSON answer); HTTP/1.1 keep-alive"
    )


def describe_setup(
    settings: Settings,
    target: Target,
    server_text: str,
    cpus: pinning.CpuPlan,
    cross_checked: bool,
    tls_text: str | None = None,
) -> list[tuple[str, str]]:
    """The (key, value) lines above a table: when, where, what was requested and checked."""
    durations = f"{settings.duration:g} s timed per run"
    if "httpx" in settings.clients and settings.duration_for("httpx") != settings.duration:
        durations += f" (httpx {settings.duration_for('httpx'):g} s)"
    now = datetime.datetime.now(datetime.timezone.utc)
    scenario = target.scenario
    verification = "status 200 and body length of every response"
    if scenario.key == "h2":
        h2_clients = [name for name in settings.clients if name in scenario.http2_clients]
        h1_clients = [name for name in settings.clients if name not in scenario.http2_clients]
        request = f"GET over TLS, {target.expect_len}-byte body"
        if h2_clients:
            request += f"; HTTP/2 offered (ALPN) by {', '.join(h2_clients)}"
        if h1_clients:
            request += f"; HTTP/1.1 keep-alive for {', '.join(h1_clients)}"
        concurrency = (
            "in flight",
            f"{settings.concurrency} requests per client (pool size {settings.concurrency})",
        )
        verification += (
            ", and its HTTP version (2 for the HTTP/2 clients, 1.1 for the others; a run "
            "whose first response is in the wrong version fails)"
        )
    elif scenario.key == "realistic":
        request = _realistic_request()
        concurrency = ("connections", f"{settings.concurrency} (one request in flight on each)")
        verification = (
            "status 200 and the whole body of every answer (a GET answer or a POST answer); "
            "the server answers 400 unless the method, the query string, the three headers "
            "and (POST) a JSON Content-Type are exactly the scenario's"
        )
    else:
        request = f"GET with keep-alive, {target.expect_len}-byte body"
        concurrency = ("connections", str(settings.concurrency))
    if cross_checked:
        verification += "; each run's count checked against the server's request counter"
    build = (
        "compiled (mypyc, built from the working tree into bench/.run/compiled)"
        if settings.build == "compiled"
        else "pure Python (the repository's sources)"
    )
    setup = [
        ("date", now.strftime("%Y-%m-%d %H:%M UTC")),
        ("event loop", "uvloop" if settings.uvloop else "asyncio"),
        ("python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("aiosonic build", build),
        ("server", server_text),
    ]
    if tls_text:
        setup.append(("tls", tls_text))
    setup += [
        ("request", request),
        concurrency,
        (
            "timing",
            f"{durations}, {settings.warmup:g} s warm-up, {settings.rounds} interleaved rounds, "
            "median reported",
        ),
        ("verification", verification),
        ("CPU pinning", cpus.describe()),
        (
            "malloc",
            "primed in every client (1 MiB block freed first, see bench/runners/_harness.py)"
            if settings.prime_malloc
            else "not primed (--no-malloc-prime): asyncio reads may mmap per recv",
        ),
        ("machine", f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}"),
        ("command", settings.command()),
    ]
    return setup


# --- sections of the results file -----------------------------------------------------------


def _heading(scenario: Scenario) -> str:
    return f"## {scenario.key}: {scenario.title}"


def markdown_section(
    scenario: Scenario, settings: Settings, setup: list[tuple[str, str]], summaries: list[Summary]
) -> str:
    """One scenario's part of the results file: setup, table, labels, failures."""
    rows = table_rows(summaries, settings.rounds)
    lines = [_heading(scenario), ""]
    lines += [f"- {key}: {value}" for key, value in setup]
    lines += ["", markdown_table(rows), ""]
    lines += [f"- `{s.client}`: {scenario.label(s.client)}" for s in summaries]
    lines += ["", footnote(scenario, summaries), ""]
    notes = failure_notes(summaries)
    if notes:
        lines += ["### Failures and bad responses", ""]
        for client, headline, stderr_tail in notes:
            lines.append(f"- **{client}**: {headline}")
            if stderr_tail:
                lines += _fenced(stderr_tail)
        lines.append("")
    return "\n".join(lines)


#: One table of a sweep: its title, its summaries and the settings it ran with.
SweepPart = tuple[str, list[Summary], Settings]


def sweep_section(
    scenario: Scenario, settings: Settings, setup: list[tuple[str, str]], parts: list[SweepPart]
) -> str:
    """A sweep's part of the results file: the shared setup, then one table per level."""
    lines = [_heading(scenario), ""]
    lines += [f"- {key}: {value}" for key, value in setup]
    for title, summaries, narrowed in parts:
        lines += ["", f"### {title}", "", markdown_table(table_rows(summaries, narrowed.rounds))]
        for client, headline, stderr_tail in failure_notes(summaries):
            lines.append(f"\n- **{client}** failed: {headline}")
            if stderr_tail:
                lines += _fenced(stderr_tail)
    lines += [""]
    lines += [f"- `{name}`: {scenario.label(name)}" for name in settings.clients]
    everyone = [summary for _, summaries, _ in parts for summary in summaries]
    lines += ["", footnote(scenario, everyone), ""]
    return "\n".join(lines)


def skipped_section(scenario: Scenario, settings: Settings, reason: str) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"{_heading(scenario)}\n\nSkipped on {now} (`{settings.command()}`): {reason}\n"


def update_results(path: Path, key: str, section: str) -> None:
    """Replace scenario ``key``'s section of the results file, keeping the other sections.

    Sections are delimited by ``<!-- bench:KEY -->`` / ``<!-- /bench:KEY -->`` and written in
    scenario order; anything else in the file (such as a file from before sections) is
    dropped.
    """
    sections: dict[str, str] = {}
    try:
        for match in _SECTION.finditer(path.read_text()):
            sections[match.group(1)] = match.group(0)
    except OSError:
        pass
    sections[key] = f"<!-- bench:{key} -->\n{section.strip()}\n\n<!-- /bench:{key} -->\n"
    order = [k for k in SCENARIOS if k in sections] + [k for k in sections if k not in SCENARIOS]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(RESULTS_TITLE + "".join("\n" + sections[k] for k in order))


def shown(path: Path) -> Path:
    """``path`` relative to the repository when inside it, for messages."""
    resolved = path.resolve()
    return resolved.relative_to(REPO_ROOT) if resolved.is_relative_to(REPO_ROOT) else resolved


def save(output: Path, key: str, section: str, groups: list[dict[str, Any]]) -> None:
    """Write scenario ``key``'s Markdown section and its medians, and say where."""
    update_results(output, key, section)
    records.store(output, key, groups)
    print(f"\n{key} section written to {shown(output)}")


def publish(
    scenario: Scenario,
    settings: Settings,
    setup: list[tuple[str, str]],
    summaries: list[Summary],
) -> None:
    """Print a one-table scenario's table and notes, then write its section and medians."""
    versions = versions_line(summaries, scenario)
    setup.insert(-1, ("versions", versions))
    print()
    print(text_table(table_rows(summaries, settings.rounds)))
    print()
    print(footnote(scenario, summaries).replace("`", ""))
    print(f"versions: {versions}")
    for client, headline, stderr_tail in failure_notes(summaries):
        print(f"\n{client}: {headline}")
        if stderr_tail:
            print("  " + stderr_tail.replace("\n", "\n  "))
    section = markdown_section(scenario, settings, setup, summaries)
    found = {s.client: _version_text(s.info) for s in summaries if s.info.get("version")}
    failed = [s.client for s in summaries if s.median is None]
    groups = [
        records.group(scenario.key, "req/s", medians(summaries), versions=found, failed=failed)
    ]
    save(settings.output, scenario.key, section, groups)


def chart(output: Path) -> None:
    """Redraw the chart beside ``output`` (``records.chart_path``); a chart that cannot be
    drawn is only a warning."""
    try:
        drawn = records.draw_chart(output, list(SCENARIOS), list(CLIENTS), PROJECT)
        print(f"\nchart written to {shown(drawn)}")
    except Exception as exc:  # a missing chart must not fail the benchmark
        print(f"warning: no chart: {type(exc).__name__}: {exc}")

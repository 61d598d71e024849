"""The ``download``, ``upload`` and ``import`` scenarios (parent side).

- ``download``: every client streams nginx's sparse 100 MiB ``/huge`` file ``REPEAT`` times
  per run (after an untimed 16 MiB warm-up) and reports MiB/s and its peak RSS growth
  (``runners/_transfer.py``).
- ``upload``: 100 MiB POSTs to the embedded upload sink (``server.start_upload``), from a
  ``bytes`` body and from an async iterator of 64 KiB pieces; MiB/s.
- ``import``: ``python -X importtime -c "import X"`` in fresh processes, bytecode cached as
  in an installed package; the cumulative time of the top-level package, in ms.

Rounds are interleaved (the client order rotates each round) and medians reported, as in
the other scenarios; a failing client is reported with its stderr tail, never fatal. It must
never send traffic anywhere but the loopback servers it starts itself.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import pinning, records, server
from bench.clients import CLIENTS, check_origin

PROJECT = "aiosonic"
MIB = 1024 * 1024
REPEAT = 3
IMPORT_RUNS = 5
#: The top-level package the ``import`` scenario times for each client.
MODULES = {"aiosonic": "aiosonic", "upstream": "aiosonic", "aiohttp": "aiohttp", "httpx": "httpx",
           "pyreqwest": "pyreqwest", "rnet": "rnet", "curl_cffi": "curl_cffi",
           "niquests": "niquests"}


@dataclass
class Job:
    key: str
    title: str
    clients: list[str]
    labels: dict[str, str]
    pythons: dict[str, Path]
    envs: dict[str, dict[str, str]]
    scripts: dict[str, Path]
    failures: dict[str, Any]
    rounds: int
    quick: bool
    uvloop: bool
    prime_malloc: bool
    cpus: pinning.CpuPlan
    nginx: bool
    output: Path
    command: str
    write_section: Callable[[str, str], None] = field(default=lambda key, text: None)
    #: Which build of this repository's aiosonic runs (``--build``).
    build: str = "pure"


@dataclass
class Result:
    value: float | None = None
    reason: str = ""
    tail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _spawn(
    job: Job,
    argv: list[str],
    client: str,
    timeout: float,
    cwd: Path = server.REPO_ROOT,
    env: dict[str, str] | None = None,
) -> tuple[int, str, str]:
    proc = pinning.popen(argv, job.cpus.clients, cwd, env if env is not None else job.envs[client])
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return -1, out, f"timed out after {timeout:.0f} s\n{err}"
    return proc.returncode, out, err


def _transfer_run(job: Job, client: str, args: list[str]) -> Result:
    argv = [str(job.pythons[client]), str(job.scripts[client]), "--name", client, *args]
    argv += ["--repeat", str(REPEAT)] + (["--uvloop"] if job.uvloop else [])
    argv += ["--prime-malloc"] if job.prime_malloc else []
    code, out, err = _spawn(job, argv, client, 180.0)
    parsed = None
    for line in reversed(out.splitlines()):
        try:
            parsed = json.loads(line)
            break
        except ValueError:
            continue
    if code != 0 or not isinstance(parsed, dict):
        last = next((ln for ln in reversed(err.splitlines()) if ln.strip()), "")
        return Result(reason=f"exit status {code}: {last.strip()}", tail=_tail(err))
    problem = check_origin(CLIENTS[client], dict(parsed.get("library") or {}), job.build)
    if problem:
        return Result(reason=problem)
    if parsed.get("errors"):
        return Result(reason=f"{parsed['errors']} bad transfers: {parsed.get('first_error')}",
                      tail=_tail(err), extra=parsed)
    return Result(value=float(parsed["value"]), extra=parsed)


_IMPORT_LINE = re.compile(r"import time:\s*(\d+)\s*\|\s*(\d+)\s*\|(\s*)(\S+)")


def _import_run(job: Job, client: str) -> Result:
    module = MODULES[client]
    argv = [str(job.pythons[client]), "-X", "importtime", "-c", f"import {module}"]
    # Outside the repository: ``-c`` puts the working directory first on sys.path, which
    # would shadow the upstream package with this repository's.
    # As an installed package is imported: with its bytecode cached (the first run writes
    # the caches when the environment forbade it, PYTHONDONTWRITEBYTECODE).
    env = {k: v for k, v in job.envs[client].items() if k != "PYTHONDONTWRITEBYTECODE"}
    _spawn(job, argv, client, 60.0, cwd=Path(tempfile.gettempdir()), env=env)
    code, _, err = _spawn(job, argv, client, 60.0, cwd=Path(tempfile.gettempdir()), env=env)
    if code != 0:
        return Result(reason=f"exit status {code}", tail=_tail(err))
    for match in _IMPORT_LINE.finditer(err):
        if match.group(4) == module and len(match.group(3)) <= 1:
            return Result(value=int(match.group(2)) / 1000.0)
    return Result(reason=f"no top-level line for {module} in -X importtime output")


def _rounds(
    job: Job, tables: list[tuple[str, Callable[[str], Result]]]
) -> dict[str, dict[str, list[Result]]]:
    """{table: {client: [Result, ...]}}, every round running every table and client."""
    out: dict[str, dict[str, list[Result]]] = {t: {c: [] for c in job.clients} for t, _ in tables}
    active = [c for c in job.clients if c not in job.failures]
    for client, failure in job.failures.items():
        reason = getattr(failure, "reason", "") or "setup failed"
        failed = Result(reason=reason, tail=getattr(failure, "stderr_tail", str(failure)))
        for title, _ in tables:
            out[title][client].append(failed)
    for number in range(job.rounds):
        shift = number % len(active) if active else 0
        for title, call in tables:
            for client in active[shift:] + active[:shift]:
                result = call(client)
                out[title][client].append(result)
                shown = f"{result.value:,.1f}" if result.value is not None else "FAILED"
                print(f"round {number + 1}/{job.rounds}  {title:<13} {client:<9} {shown}"
                      + (f"  ({result.reason})" if result.reason else ""), flush=True)
    return out


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _table(job: Job, results: dict[str, list[Result]], unit: str, lower_better: bool,
           memory: bool) -> tuple[list[str], dict[str, float]]:
    heads = ["client", f"median {unit}", "min", "max", "runs ok", f"{PROJECT} / X"]
    if memory:
        heads += ["RSS before (MiB)", "peak RSS growth (MiB)"]
    medians = {c: m for c, rs in results.items()
               if (m := _median([r.value for r in rs if r.value is not None])) is not None}
    base = medians.get(PROJECT)
    lines = ["| " + " | ".join(heads) + " |", "|---" + "|---:" * (len(heads) - 1) + "|"]
    for client, runs in results.items():
        good = [r.value for r in runs if r.value is not None]
        median = medians.get(client)
        if median is None:
            ratio = "FAILED"
        elif client == PROJECT:
            ratio = "1.00 (baseline)"
        elif base is None:
            ratio = "n/a"
        else:
            ratio = f"{(median / base if lower_better else base / median):.2f}x"
        cells = [client, f"{median:,.1f}" if median is not None else "FAILED",
                 f"{min(good):,.1f}" if good else "-", f"{max(good):,.1f}" if good else "-",
                 f"{len(good)}/{len(runs)}", ratio]
        if memory:
            kept = [r.extra for r in runs if r.value is not None]
            before = _median([e["rss_before_kib"] / 1024 for e in kept if e.get("rss_before_kib")])
            growth = _median([e["growth_kib"] / 1024 for e in kept
                              if e.get("growth_kib") is not None])
            cells += [f"{before:.1f}" if before is not None else "-",
                      f"{growth:.1f}" if growth is not None else "-"]
        lines.append("| " + " | ".join(cells) + " |")
    for client, runs in results.items():
        failed = [r for r in runs if r.value is None]
        if failed:
            lines.append(f"\n- **{client}** failed {len(failed)} of {len(runs)} runs: "
                         f"{failed[0].reason}")
            if failed[0].tail:
                lines += ["", "  ```", *[f"  {t}" for t in failed[0].tail.splitlines()], "  ```"]
    return lines, medians


def run(job: Job) -> int:
    if not job.clients:
        print(f"{job.key} skipped: none of the selected clients takes part in it")
        return 0
    running: server.RunningServer | None = None
    # import: always IMPORT_RUNS fresh processes; transfers: at most 3 rounds (heavy).
    job.rounds = IMPORT_RUNS if job.key == "import" else min(job.rounds, 3)
    size = server.HUGE_SIZE if not job.quick else 32 * MIB
    setup = [
        ("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("event loop", "uvloop" if job.uvloop else "asyncio"),
        ("python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("aiosonic build", job.build),
    ]
    try:
        if job.key == "download":
            if not job.nginx or server.find_nginx() is None:
                job.write_section(job.key, f"## {job.key}: {job.title}\n\nSkipped: needs nginx.\n")
                print("download SKIPPED: needs nginx")
                return 0
            running = server.start(600, job.cpus.server)
            url = running.url
            args = ["--mode", "download", "--url", url + "huge", "--size", str(size),
                    "--warm-url", url + "big", "--warm-size", str(server.BIG_SIZE)]
            if job.quick:  # the quick run downloads the 16 MiB file only
                size = server.BIG_SIZE
                args[3], args[5] = url + "big", str(size)
            for path in ("/big", "/huge" if not job.quick else "/big"):
                running.prefetch(path)  # the server's page cache, warm before any client
            tables = [("download", lambda c: _transfer_run(job, c, args))]
            setup += [("server", f"{running.description}, static sparse file, sendfile on, "
                       "read once before the first round (a warm page cache for every client)"),
                      ("transfer", f"GET of a {size // MIB} MiB body, {REPEAT} in a row on one "
                       "keep-alive connection per run, after an untimed 16 MiB warm-up; bytes "
                       "counted, never stored"),
                      ("unit", "MiB/s = 1,048,576 bytes/s over the timed downloads"),
                      ("memory", "RSS before = VmRSS after the warm-up; peak RSS growth = VmHWM "
                       "after the downloads minus that (VmHWM reset via /proc/self/clear_refs)")]
        elif job.key == "upload":
            running = server.start_upload(job.cpus.server)
            base = ["--url", running.url + "upload", "--size", str(size)]
            by_bytes = ["--mode", "upload-bytes", *base]
            by_iter = ["--mode", "upload-iter", *base]
            tables = [
                ("upload bytes", lambda c: _transfer_run(job, c, by_bytes)),
                ("upload iter", lambda c: _transfer_run(job, c, by_iter)),
            ]
            setup += [("server", running.description),
                      ("transfer", f"POST of {size // MIB} MiB, {REPEAT} in a row on one "
                       "keep-alive connection per run, after an untimed 1 MiB upload; bytes: one "
                       "prebuilt bytes body; iter: an async generator of 64 KiB pieces (sent "
                       "chunked by every client)"),
                      ("unit", "MiB/s = 1,048,576 bytes/s"),
                      ("verification", "status 204 and the server's X-Received-Bytes equal to "
                       "the body size, for every upload")]
        else:
            tables = [("import", lambda c: _import_run(job, c))]
            for client in job.clients:  # compile bytecode first: measured runs are all alike
                if client not in job.failures:
                    _import_run(job, client)
            setup += [("measure", f"python -X importtime -c 'import X' in a fresh process, "
                       "cumulative microseconds of the top-level package, "
                       f"{job.rounds} interleaved runs per client (one unrecorded run first)")]
        setup += [("rounds", f"{job.rounds} interleaved, median reported"),
                  ("CPU pinning", job.cpus.describe()),
                  ("machine", f"{platform.machine()}, {os.cpu_count()} CPUs, "
                   f"{platform.platform()}"),
                  ("command", job.command)]
        for key, value in setup:
            print(f"{key:>12}: {value}")
        results = _rounds(job, tables)
    except KeyboardInterrupt:
        return 130
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"error: cannot benchmark {job.key}: {exc}")
        return 2
    finally:
        if running is not None:
            running.stop()
    lines = [f"## {job.key}: {job.title}", "", *[f"- {k}: {v}" for k, v in setup]]
    groups = []
    lower = job.key == "import"
    for title, _ in tables:
        table, medians = _table(job, results[title], "ms" if lower else "MiB/s", lower,
                                memory=job.key == "download")
        lines += ["", f"### {title}", "", *table]
        print("\n" + title + "\n" + "\n".join(table))
        groups.append(records.group(title, "ms" if lower else "MiB/s", medians, not lower))
    lines += ["", *[f"- `{c}`: {job.labels[c]}" for c in job.clients], ""]
    lines.append(f"`{PROJECT} / X`: " + ("the client's time / aiosonic's (above 1: aiosonic "
                 "imports faster)." if lower else "aiosonic's median / the client's (above 1: "
                 "aiosonic is faster)."))
    job.write_section(job.key, "\n".join(lines) + "\n")
    records.store(job.output, job.key, groups)
    ours = [r for t, _ in tables for r in results[t].get(PROJECT, [])]
    return 1 if any(r.value is None for r in ours) else 0

"""Running the request/response clients: one process per run, in interleaved rounds.

Owns the command line each runner script is started with, running one client process
(pinned, with a time limit) and judging the JSON line it prints (origin of the library,
event loop, HTTP version, error share, and the server's own request count), the rounds in
which every client runs once in an order rotated by one per round, and the exit status a
scenario's results give.

It must never start or stop a server, format a table or write a results file: a scenario
hands it a ``Target`` and gets ``Summary`` records back.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import pinning, realistic
from bench.clients import CLIENTS, PROJECT, REPO_ROOT, RUNNERS, Client, check_origin, client_env
from bench.report import Run, Summary, fmt_rps, tail
from bench.scenarios import Target
from bench.settings import Settings
from bench.venvs import Prepared

#: Reads the server's request counter (``None`` when it cannot be read).
ServedCounter = Callable[[], int | None]

#: A run in which more than this share of the requests failed measured failures, not
#: throughput: it is reported as failed.
MAX_ERROR_SHARE = 0.01


def client_command(client: Client, python: Path, settings: Settings, target: Target) -> list[str]:
    """The runner script's command line for one run of ``client`` against ``target``."""
    argv = [str(python), str(RUNNERS / client.script), "--name", client.name]
    argv += ["--url", target.url, "--concurrency", str(settings.concurrency)]
    argv += ["--duration", str(settings.duration_for(client.name))]
    argv += ["--warmup", str(settings.warmup)]
    if target.expect_len is not None:
        argv += ["--expect-len", str(target.expect_len)]
    if target.scenario.key == "realistic":
        argv += ["--workload", realistic.runner_argument(target.url)]
    if target.scenario.key == "newconn":
        argv.append("--new-conn")
    if target.scenario.key == "h2":
        argv += ["--expect-version", target.scenario.expected_version(client.name)]
        if client.name in target.scenario.http2_clients:
            argv.append("--http2")
    if target.cafile is not None:
        argv += ["--cafile", str(target.cafile)]
    if settings.uvloop:
        argv.append("--uvloop")
    if settings.prime_malloc:
        argv.append("--prime-malloc")
    return argv


def _last_result(stdout: str, name: str) -> dict[str, Any] | None:
    """The last JSON object on stdout that names this client."""
    for line in reversed(stdout.splitlines()):
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict) and parsed.get("client") == name:
            return parsed
    return None


def _problem(
    client: Client,
    settings: Settings,
    target: Target,
    result: dict[str, Any],
    info: dict[str, Any],
    served: ServedCounter | None,
    served_before: int | None,
) -> str:
    """Why a run that printed a result still does not count ("" when it counts)."""
    expected_loop = "uvloop" if settings.uvloop else "asyncio"
    problem = check_origin(client, info, settings.build)
    if not problem and result.get("loop") != expected_loop:
        problem = f"ran on {result.get('loop')}, expected {expected_loop}"
    if not problem and target.scenario.key == "h2":
        wanted = target.scenario.expected_version(client.name)
        got = result.get("protocol")
        if got is not None and got != wanted:
            problem = f"first response was HTTP/{got}, expected HTTP/{wanted}"
    if not problem and not result.get("ok"):
        problem = f"no valid responses ({result.get('errors')} errors: {result.get('first_error')})"
    ok, errors = int(result.get("ok") or 0), int(result.get("errors") or 0)
    if not problem and errors > MAX_ERROR_SHARE * (ok + errors):
        problem = f"{errors} of {ok + errors} requests failed (first: {result.get('first_error')})"
    served_after = served() if served is not None and served_before is not None else None
    if not problem and served_before is not None and served_after is not None:
        claimed = int(result.get("ok") or 0) + int(result.get("warmup_ok") or 0)
        if claimed > served_after - served_before:
            problem = (
                f"claims {claimed} valid responses but the server served only "
                f"{served_after - served_before} requests during the run"
            )
    return problem


def run_client(
    client: Client,
    python: Path,
    settings: Settings,
    target: Target,
    cpu: int | None,
    served: ServedCounter | None = None,
) -> Run:
    """Run one client process and judge its result.

    ``served`` reads the server's request counter; when given, a client claiming more valid
    responses than the server served during its run is failed. In the h2 scenario the HTTP
    version of the client's first response must be the expected one (the runner already
    counts every response in another version as bad). A run with more than
    ``MAX_ERROR_SHARE`` of its requests failed is failed.
    """
    argv = client_command(client, python, settings, target)
    served_before = served() if served is not None else None
    timeout = settings.warmup + settings.duration_for(client.name) + 60.0
    proc = pinning.popen(argv, cpu, REPO_ROOT, client_env(client, settings.build))
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        return Run(client.name, reason=f"timed out after {timeout:.0f} s", stderr_tail=tail(stderr))
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    result = _last_result(stdout, client.name)
    if proc.returncode != 0 or result is None:
        last_line = next((ln.strip() for ln in reversed(stderr.splitlines()) if ln.strip()), "")
        return Run(
            client.name,
            reason=f"exit status {proc.returncode}" + (f": {last_line}" if last_line else ""),
            stderr_tail=tail(stderr),
        )
    info = dict(result.get("library") or {})
    problem = _problem(client, settings, target, result, info, served, served_before)
    errors = int(result.get("errors") or 0)
    if problem:
        return Run(client.name, errors=errors, reason=problem, stderr_tail=tail(stderr), info=info)
    reason = str(result.get("first_error") or "")
    return Run(client.name, rps=float(result["rps"]), errors=errors, reason=reason, info=info)


def run_rounds(
    settings: Settings,
    prepared: Prepared,
    target: Target,
    cpu: int | None,
    served: ServedCounter | None,
) -> list[Summary]:
    """Every round runs each working client once, the order rotated by one per round."""
    runs: dict[str, list[Run]] = {name: [] for name in settings.clients}
    skipped = dict.fromkeys(settings.clients, 0)
    for name, failure in prepared.failures.items():
        runs[name].append(failure)
        skipped[name] = settings.rounds - 1
    active = [name for name in settings.clients if name not in prepared.failures]
    for round_no in range(settings.rounds):
        shift = round_no % len(active) if active else 0
        for name in active[shift:] + active[:shift]:
            python = prepared.pythons[name]
            run = run_client(CLIENTS[name], python, settings, target, cpu, served)
            runs[name].append(run)
            prefix = f"round {round_no + 1}/{settings.rounds}  {name:<9}"
            if run.failed:
                print(f"{prefix} FAILED: {run.reason}", flush=True)
            else:
                errors = f"  ({run.errors} bad responses)" if run.errors else ""
                print(f"{prefix} {fmt_rps(run.rps):>9} req/s{errors}", flush=True)
        if round_no == 0:  # a client that cannot run even once is not retried
            for name in [name for name in active if runs[name][0].failed]:
                active.remove(name)
                skipped[name] = settings.rounds - 1
    return [Summary(name, runs[name], skipped[name]) for name in settings.clients]


def verdict(summaries: list[Summary]) -> int:
    """1 when any run of this project failed, else 0.

    A peer failing is a result worth reporting (upstream aiosonic cannot finish the h2
    scenario), not a failure of the benchmark; only this project failing is.
    """
    ours = [summary for summary in summaries if summary.client == PROJECT]
    return 1 if any(run.failed for summary in ours for run in summary.runs) else 0

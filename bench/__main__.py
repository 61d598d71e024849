"""``python -m bench``: the command line, and the dispatch of each scenario to its family.

Owns the options (parsed into ``bench.settings.Settings``), the process-wide setup before
any scenario (SIGTERM as an interrupt, the open-files limit, CPU plan, the clients'
interpreters through ``bench.venvs``), running the selected scenarios in catalogue order
with the exit status of the worst, and the chart at the end.

It must never measure, run a client, start a server or format results itself: the scenario
families in ``bench.scenarios`` and ``bench.report`` do. The scenarios are listed, one line
each, in the package docstring (``bench/__init__.py``).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from bench import pinning, report, venvs
from bench.clients import BUILDS, CLIENTS
from bench.scenarios import SCENARIOS, Scenario, protocols, sweeps, transfers
from bench.settings import Settings

#: A scenario family's entry point: (scenario, its settings, the setup) -> exit status.
Runner = Callable[[Scenario, Settings, venvs.Prepared], int]
RUNNER: dict[str, Runner] = {
    "realistic": protocols.run,
    "h1": protocols.run,
    "h2": protocols.run,
    "scale": sweeps.run,
    "newconn": sweeps.run,
    "download": transfers.run,
    "upload": transfers.run,
    "import": transfers.run,
}


def parse_args(argv: list[str]) -> Settings:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Throughput of aiosonic (this repo) against its peers: a realistic mix of "
        "GETs with headers and query and JSON POSTs, plain GETs over HTTP/1.1 keep-alive (h1) "
        "and over HTTP/2 + TLS (h2), and more.",
    )
    parser.add_argument("--quick", action="store_true", help="1 s runs, 2 rounds")
    parser.add_argument(
        "--scenario",
        default="all",
        help="comma-separated list of "
        + ", ".join(SCENARIOS)
        + " or all (default). realistic: GET with 3 headers and 2 query params alternating "
        "with a small JSON POST, HTTP/1.1 keep-alive; h1: plain GETs, HTTP/1.1 keep-alive; "
        "h2: HTTP/2 over TLS (nginx only); "
        "scale: concurrency 1..1024; newconn: a connection per request; download/upload: "
        "100 MiB bodies; import: cold import time",
    )
    parser.add_argument(
        "--no-chart",
        action="store_true",
        help="do not redraw the chart (bench/results/chart.png beside latest.md)",
    )
    parser.add_argument("--uvloop", action="store_true", help="run every client on uvloop")
    parser.add_argument(
        "--build",
        choices=BUILDS,
        default="pure",
        help="the build of this repository's aiosonic the aiosonic client runs: pure (the "
        "sources, default) or compiled (the mypyc wheel, built into bench/.run/compiled "
        "whenever the sources differ from it)",
    )
    parser.add_argument(
        "--clients",
        default=",".join(CLIENTS),
        help=f"comma-separated subset of {','.join(CLIENTS)} (default: all)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=32, help="realistic, h1: connections (default 32)"
    )
    parser.add_argument(
        "--h2-concurrency", type=int, default=64, help="h2: requests in flight (default 64)"
    )
    parser.add_argument("--duration", type=float, help="timed seconds per run (3, quick: 1)")
    parser.add_argument("--warmup", type=float, default=0.5, help="warm-up seconds (0.5)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (5, quick: 2)")
    parser.add_argument(
        "--url", help="h1: benchmark this server instead of starting one (h2 is then skipped)"
    )
    parser.add_argument("--body-size", type=int, default=600, help="response body bytes (600)")
    parser.add_argument(
        "--no-nginx", action="store_true", help="use the embedded server even if nginx exists"
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    parser.add_argument(
        "--no-malloc-prime",
        action="store_true",
        help="do not prime glibc malloc in the clients (see runners/_harness.py)",
    )
    parser.add_argument("--output", type=Path, default=report.RESULTS, help="Markdown result file")
    ns = parser.parse_args(argv)

    picked = [name.strip() for name in ns.scenario.split(",") if name.strip()]
    if "all" in picked:
        picked = list(SCENARIOS)
    bad = [name for name in picked if name not in SCENARIOS]
    if bad or not picked:
        parser.error(f"unknown scenarios {bad}; choose from all, {', '.join(SCENARIOS)}")
    clients = [name.strip() for name in ns.clients.split(",") if name.strip()]
    unknown = [name for name in clients if name not in CLIENTS]
    if unknown or not clients:
        parser.error(f"unknown clients {unknown}; choose from {', '.join(CLIENTS)}")
    checked = (("concurrency", ns.concurrency), ("h2-concurrency", ns.h2_concurrency))
    for label, value in (*checked, ("rounds", ns.rounds)):
        if value is not None and value < 1:
            parser.error(f"--{label} must be at least 1")
    if ns.duration is not None and ns.duration <= 0:
        parser.error("--duration must be positive")
    return Settings(
        scenarios=[name for name in SCENARIOS if name in picked],
        clients=[name for name in CLIENTS if name in clients],
        concurrency=ns.concurrency,
        h2_concurrency=ns.h2_concurrency,
        duration=ns.duration if ns.duration is not None else (1.0 if ns.quick else 3.0),
        warmup=max(ns.warmup, 0.0),
        rounds=ns.rounds if ns.rounds is not None else (2 if ns.quick else 5),
        uvloop=ns.uvloop,
        url=ns.url,
        body_size=ns.body_size,
        nginx=not ns.no_nginx,
        pin=not ns.no_pin,
        prime_malloc=not ns.no_malloc_prime,
        output=ns.output,
        argv=argv,
        chart=not ns.no_chart,
        build=ns.build,
    )


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def raise_open_files_limit() -> None:
    """Soft RLIMIT_NOFILE up to the hard limit (inherited by nginx and the clients)."""
    try:
        import resource
    except ImportError:  # not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as exc:
            print(f"warning: cannot raise the open-files limit from {soft}: {exc}")


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    cpus = pinning.plan(settings.pin)
    raise_open_files_limit()
    venvs.ensure_peer_libraries(settings)
    prepared = venvs.prepare(settings, cpus)

    worst = 0
    for number, key in enumerate(settings.scenarios):
        scenario = SCENARIOS[key]
        narrowed = settings.for_scenario(scenario)
        if len(settings.scenarios) > 1:
            print(("\n" if number else "") + f"=== {key}: {scenario.title} ".ljust(78, "="))
        code = RUNNER[key](scenario, narrowed, prepared.only(narrowed.clients))
        if code == 130:
            return code
        worst = max(worst, code)
    if settings.chart:
        report.chart(settings.output)
    return worst


if __name__ == "__main__":
    sys.exit(main())

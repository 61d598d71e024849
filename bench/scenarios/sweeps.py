"""The ``scale`` and ``newconn`` scenarios: one table per level, each with a fresh nginx.

- ``scale``: keep-alive GETs at each of ``SCALE_LEVELS`` (pool size = concurrency); httpx
  only up to ``HTTPX_SCALE_MAX``.
- ``newconn``: a new connection for every request, over plain HTTP/1.1, then over TLS.

Both run the heavy settings (at most ``HEAVY_ROUNDS`` rounds of ``HEAVY_DURATION`` s) and need
nginx: without it the section says the scenario was skipped; with ``--url`` it is not run.

Owns the levels, a server per level, the rounds against it and the sweep's setup lines. It
must never send a request anywhere but the server it started on loopback, and never change
how a client is run or judged (``rounds`` does).
"""

from __future__ import annotations

import dataclasses
import http.client
import sys
from typing import Any

from bench import records, report, server
from bench.report import Summary, SweepPart
from bench.scenarios import HTTPX_SCALE_MAX, SCALE_LEVELS, Scenario, Target
from bench.scenarios.probes import probe
from bench.scenarios.rounds import run_rounds, verdict
from bench.settings import Settings
from bench.venvs import Prepared


def _levels(scenario: Scenario, settings: Settings) -> list[tuple[str, Settings]]:
    """(table title, settings) for each table of the scale and newconn scenarios."""
    if scenario.key == "scale":
        levels = []
        for level in SCALE_LEVELS:
            clients = [c for c in settings.clients if c != "httpx" or level <= HTTPX_SCALE_MAX]
            narrowed = dataclasses.replace(settings, concurrency=level, clients=clients)
            levels.append((f"concurrency {level}", narrowed))
        return levels
    plain = dataclasses.replace(settings, concurrency=settings.concurrency)
    return [("plain HTTP/1.1", plain), ("HTTP/1.1 over TLS", plain)]


def _group_label(scenario: Scenario, narrowed: Settings, tls: bool) -> str:
    """The name of one table's medians in ``latest.json`` and the chart."""
    if scenario.key == "scale":
        return f"{scenario.key} c={narrowed.concurrency}"
    return "newconn TLS" if tls else "newconn"


def _sweep_setup(
    scenario: Scenario, settings: Settings, setup: list[tuple[str, str]], versions: str
) -> list[tuple[str, str]]:
    """The first table's setup lines, rewritten to describe every table of the sweep."""
    setup = [(k, v) for k, v in setup if k not in ("connections", "request")]
    if scenario.key == "scale":
        setup.insert(4, ("request", "GET with keep-alive, small body; pool size = concurrency"))
        setup.insert(5, ("skipped", f"httpx above concurrency {HTTPX_SCALE_MAX} (too slow)"))
    else:
        setup.insert(4, ("request", "GET, small body, a new TCP (+TLS) connection for each"))
        setup.insert(5, ("concurrency", str(settings.concurrency)))
        setup.insert(6, ("tls", "second table: nginx TLS (trustme CA), HTTP/1.1 only offered"))
    setup.insert(-1, ("versions", versions))
    return setup


def run(scenario: Scenario, settings: Settings, prepared: Prepared) -> int:
    """``scale`` (one table per concurrency) and ``newconn`` (plain, then TLS): each table
    has its own server and interleaved rounds, like ``h1``."""
    if settings.url:
        print(f"{scenario.key} skipped: --url given (this scenario starts its own nginx)")
        return 0
    if not settings.nginx or server.find_nginx() is None:
        reason = "needs nginx (--no-nginx given or nginx not found)"
        section = report.skipped_section(scenario, settings, reason)
        report.update_results(settings.output, scenario.key, section)
        print(f"{scenario.key} scenario SKIPPED: {reason}")
        return 0
    settings = settings.heavy()
    cpus = prepared.cpus
    parts: list[SweepPart] = []
    setup: list[tuple[str, str]] = []
    groups: list[dict[str, Any]] = []
    try:
        for index, (title, narrowed) in enumerate(_levels(scenario, settings)):
            tls = scenario.key == "newconn" and index == 1
            print(f"--- {scenario.key}: {title}", flush=True)
            running = (
                server.start_h2(settings.body_size, cpus.server)
                if tls
                else server.start(settings.body_size, cpus.server)
            )
            try:
                status, expect_len, _ = probe(running.url, running.cafile)
                if status != 200:
                    raise RuntimeError(f"GET {running.url} answered {status}")
                target = Target(scenario, running.url, expect_len, running.cafile)
                if not setup:
                    server_text = f"{running.description} (a fresh one per table)"
                    setup = report.describe_setup(narrowed, target, server_text, cpus, True)
                served = running.served_requests if running.counts_requests else None
                only = prepared.only(narrowed.clients)
                summaries = run_rounds(narrowed, only, target, cpus.clients, served)
            finally:
                running.stop()
            print(report.text_table(report.table_rows(summaries, narrowed.rounds)), flush=True)
            parts.append((title, summaries, narrowed))
            label = _group_label(scenario, narrowed, tls)
            groups.append(records.group(label, "req/s", report.medians(summaries)))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except (OSError, RuntimeError, ValueError, http.client.HTTPException) as exc:
        print(f"error: cannot benchmark {scenario.key}: {exc}", file=sys.stderr)
        return 2
    everyone: list[Summary] = [summary for _, summaries, _ in parts for summary in summaries]
    setup = _sweep_setup(scenario, settings, setup, report.versions_line(everyone, scenario))
    section = report.sweep_section(scenario, settings, setup, parts)
    report.save(settings.output, scenario.key, section, groups)
    return verdict(everyone)

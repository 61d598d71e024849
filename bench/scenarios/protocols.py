"""The ``realistic``, ``h1`` and ``h2`` scenarios: small requests, one server and one table each.

- ``realistic``: ``bench.realistic``'s GET with headers and query parameters alternating
  with its JSON POST, over plain HTTP/1.1 keep-alive to the same server as ``h1``, every
  client library, ``--concurrency`` in flight. The server's answers are probed first (and a
  request without the headers must get a 400). With ``--url`` it is skipped: an external
  server does not answer these requests.
- ``h1``: keep-alive GETs over plain HTTP/1.1 to nginx (or the embedded fallback, or the
  server at ``--url``), every client, ``--concurrency`` connections.
- ``h2``: GETs over TLS to nginx with HTTP/2 enabled, ``--h2-concurrency`` in flight; the
  clients that offer HTTP/2 must get it on every response, aiohttp runs HTTP/1.1 over TLS.
  Without nginx, or with ``--url``, the scenario is skipped (there is no embedded HTTP/2
  server) and its section says so.

Owns starting and checking the scenario's server, the interleaved rounds against it and the
hand-over to ``bench.report``. It must never send a request anywhere but that server (on
loopback, or ``--url``), and never change how a client is run or judged (``rounds`` does).
"""

from __future__ import annotations

import http.client
import ssl
import sys
from pathlib import Path

from bench import pinning, realistic, report, server
from bench.scenarios import Scenario, Target
from bench.scenarios.probes import probe, realistic_probe, tls_probe
from bench.scenarios.rounds import run_rounds, verdict
from bench.settings import Settings
from bench.venvs import Prepared


def _start_server(
    scenario: Scenario, settings: Settings, cpus: pinning.CpuPlan
) -> server.RunningServer:
    """The scenario's server; raises ``server.H2Unavailable`` when h2 must be skipped and
    ``Skipped`` when realistic must (``--url``)."""
    if scenario.key == "realistic" and settings.url:
        raise Skipped(
            "--url points the benchmark at an external server, which does not answer the "
            "realistic scenario's requests"
        )
    if scenario.key == "h2":
        if settings.url:
            raise server.H2Unavailable(
                "--url points the benchmark at an external HTTP/1.1 server; the h2 scenario "
                "needs its own nginx"
            )
        if not settings.nginx:
            raise server.H2Unavailable(
                "--no-nginx given, and there is no embedded HTTP/2 server (h2 needs nginx)"
            )
        return server.start_h2(settings.body_size, cpus.server)
    running = server.start(settings.body_size, cpus.server, use_nginx=settings.nginx)
    if running.kind != "nginx":
        why = "--no-nginx given" if not settings.nginx else "nginx not found"
        print("*" * 78)
        print(f"* {why}: using the EMBEDDED fallback server. With nginx the numbers")
        print("* are the reference ones; ratios between clients remain valid either way.")
        print("*" * 78)
    return running


class Skipped(RuntimeError):
    """This scenario cannot run with these settings (so it is skipped, not failed)."""


def _tls_text(url: str, cafile: Path | None) -> str:
    """The ``tls`` setup line of h2, after checking that the server selects h2 in ALPN."""
    alpn, tls_version, cipher = tls_probe(url, cafile)
    if alpn != "h2":
        raise RuntimeError(f"the server did not select h2 in ALPN (it chose {alpn!r})")
    return (
        f"{tls_version}, {cipher}, server selects h2 in ALPN; certificate for 127.0.0.1 "
        f"from a throwaway trustme CA; {ssl.OPENSSL_VERSION}"
    )


def run(scenario: Scenario, settings: Settings, prepared: Prepared) -> int:
    """Run one scenario and report it: 0 (all ran, or skipped), 1 (a run failed), 2 (setup
    error), 130 (interrupted)."""
    if not settings.clients:
        print(f"{scenario.key} skipped: none of the selected clients takes part in it")
        return 0
    cpus = prepared.cpus
    running: server.RunningServer | None = None
    try:
        cafile: Path | None = None
        tls_text: str | None = None
        if settings.url and scenario.key == "h1":
            url = settings.url
            server_text = f"external server at {url}"
            cpus = pinning.CpuPlan(None, cpus.clients)
        else:
            running = _start_server(scenario, settings, cpus)
            url = running.url
            server_text = f"{running.description} at {url}"
            cafile = running.cafile
        if scenario.key == "h2":
            tls_text = _tls_text(url, cafile)
        expect_len: int | None = None
        server_header = ""
        if scenario.key == "realistic":
            url = url.rstrip("/") + realistic.PATH
            realistic_probe(url)
        else:
            status, expect_len, server_header = probe(url, cafile)
            if status != 200:
                print(f"error: GET {url} answered {status}, expected 200", file=sys.stderr)
                return 2
        if settings.url and server_header:
            server_text += f" ({server_header})"
        target = Target(scenario, url, expect_len, cafile)
        checked = running is not None and running.counts_requests
        setup = report.describe_setup(settings, target, server_text, cpus, checked, tls_text)
        for key, value in setup:
            print(f"{key:>12}: {value}")
        print(flush=True)
        served = running.served_requests if running and running.counts_requests else None
        summaries = run_rounds(settings, prepared, target, cpus.clients, served)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except (server.H2Unavailable, Skipped) as exc:
        print(f"{scenario.key} scenario SKIPPED: {exc}")
        section = report.skipped_section(scenario, settings, str(exc))
        report.update_results(settings.output, scenario.key, section)
        print(f"{scenario.key} section (skipped) written to {report.shown(settings.output)}")
        return 0
    except (OSError, RuntimeError, ValueError, http.client.HTTPException) as exc:
        print(f"error: cannot benchmark {scenario.key}: {exc}", file=sys.stderr)
        return 2
    finally:
        if running is not None:
            running.stop()

    report.publish(scenario, settings, setup, summaries)
    return verdict(summaries)

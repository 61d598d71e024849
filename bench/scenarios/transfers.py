"""The ``download``, ``upload`` and ``import`` scenarios, as the command line dispatches them.

Their servers, rounds and tables are ``bench.transfer``'s; this module only builds the
``transfer.Job`` for one of them from the run's settings, so that the three share the same
``run(scenario, settings, prepared)`` entry point as the other families.

It must never measure, start a server or format anything itself.
"""

from __future__ import annotations

import functools

from bench import report, transfer
from bench.clients import CLIENTS, RUNNERS, client_env
from bench.scenarios import Scenario
from bench.settings import Settings
from bench.venvs import Prepared


def run(scenario: Scenario, settings: Settings, prepared: Prepared) -> int:
    """Hand the scenario to ``bench.transfer.run``; its exit status is this one's."""
    clients = settings.clients
    job = transfer.Job(
        key=scenario.key,
        title=scenario.title,
        clients=clients,
        labels={name: scenario.label(name) for name in clients},
        pythons=prepared.pythons,
        envs={name: client_env(CLIENTS[name], settings.build) for name in clients},
        scripts={name: RUNNERS / CLIENTS[name].script for name in clients},
        failures=prepared.failures,
        rounds=settings.rounds,
        quick=settings.duration <= 1.0,
        uvloop=settings.uvloop,
        build=settings.build,
        prime_malloc=settings.prime_malloc,
        cpus=prepared.cpus,
        nginx=settings.nginx,
        output=settings.output,
        command=settings.command(),
        write_section=functools.partial(report.update_results, settings.output),
    )
    return transfer.run(job)

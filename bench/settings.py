"""The options of one benchmark run, as the command line left them.

Owns ``Settings`` and the rules that derive a scenario's settings from the run's: which
clients take part, the concurrency of ``h2``, the shorter rounds of the heavy scenarios, the
shorter timed phase of the slow clients, and the command line as the results quote it.

It must never parse arguments (``bench.__main__`` does), start anything or print.
"""

from __future__ import annotations

import dataclasses
import shlex
from dataclasses import dataclass
from pathlib import Path

from bench.scenarios import Scenario

#: httpx is an order of magnitude slower; it gets a shorter timed phase (req/s is unaffected).
SLOW_CLIENT_SHARE = {"httpx": 0.5}
#: The heavy scenarios (scale, newconn) run at most this many rounds of at most this long.
HEAVY_ROUNDS = 3
HEAVY_DURATION = 1.5


@dataclass
class Settings:
    scenarios: list[str]
    clients: list[str]
    concurrency: int
    h2_concurrency: int
    duration: float
    warmup: float
    rounds: int
    uvloop: bool
    url: str | None
    body_size: int
    nginx: bool
    pin: bool
    prime_malloc: bool
    output: Path
    argv: list[str]
    chart: bool = True
    #: Which build of this repository's aiosonic the ``aiosonic`` client runs.
    build: str = "pure"

    def for_scenario(self, scenario: Scenario) -> Settings:
        """These settings narrowed to one scenario's clients and concurrency."""
        return dataclasses.replace(
            self,
            clients=[name for name in self.clients if name in scenario.clients],
            concurrency=self.h2_concurrency if scenario.key == "h2" else self.concurrency,
        )

    def heavy(self) -> Settings:
        """Fewer, shorter rounds for the scenarios that run many tables."""
        return dataclasses.replace(
            self,
            rounds=min(self.rounds, HEAVY_ROUNDS),
            duration=min(self.duration, HEAVY_DURATION),
        )

    def duration_for(self, client: str) -> float:
        share = SLOW_CLIENT_SHARE.get(client)
        if share is None:
            return self.duration
        return max(self.duration * share, min(self.duration, 1.0))

    def command(self) -> str:
        """The command line of this run, shell-quoted, as the results quote it."""
        return " ".join(["python -m bench", *map(shlex.quote, self.argv)])

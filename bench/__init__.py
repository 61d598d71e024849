"""Peer benchmark for aiosonic: ``python -m bench`` (or ``make bench``).

Package layout:

- ``__main__``: command line, upstream virtual environment, rounds, result table and
  ``results/latest.md``.
- ``server``: the HTTP server under load (nginx when installed, else an embedded fallback).
- ``pinning``: CPU affinity for the server and client processes.
- ``runners/``: one standalone script per client, run in a subprocess each, printing JSON.
"""

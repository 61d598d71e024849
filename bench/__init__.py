"""Peer benchmark for aiosonic: ``python -m bench`` (or ``make bench``).

Two scenarios, each with its own table: ``h1`` (HTTP/1.1 keep-alive) and ``h2`` (HTTP/2 over
TLS; ``--scenario h1|h2`` runs one).

Package layout:

- ``__main__``: command line, upstream virtual environment, rounds, result table and
  ``results/latest.md``.
- ``server``: the HTTP server under load (nginx when installed, else an embedded fallback),
  and the TLS + HTTP/2 nginx of the ``h2`` scenario (nginx only).
- ``pinning``: CPU affinity for the server and client processes.
- ``runners/``: one standalone script per client, run in a subprocess each, printing JSON.
"""

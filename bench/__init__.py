"""Peer benchmark for aiosonic: ``python -m bench`` (or ``make bench``).

Scenarios, in the order a full run takes them (``--scenario a,b`` runs some), each with its
own section in ``results/latest.md``:

- ``realistic``: req/s of a GET with three headers and two query parameters alternating with
  a POST of a small JSON body (``realistic``), HTTP/1.1 keep-alive, ``--concurrency`` in flight.
- ``h1``: req/s of small keep-alive GETs over plain HTTP/1.1, ``--concurrency`` connections.
- ``h2``: req/s of small GETs over TLS with HTTP/2 (aiohttp: HTTP/1.1 over TLS); nginx only.
- ``scale``: req/s of keep-alive GETs at concurrency 1, 32, 256 and 1024; nginx only.
- ``newconn``: req/s with a new connection per request, plain and over TLS; nginx only.
- ``download``: MiB/s and peak RSS growth streaming a 100 MiB body; nginx only.
- ``upload``: MiB/s of a 100 MiB POST, from bytes and from an async iterator.
- ``import``: cold ``import`` time of each library, in ms.

Every client runs in its own process, once per round, in an order rotated each round; the
median is reported with the ratio to this repository's aiosonic. A client that fails is
reported as failed with the tail of its stderr instead of stopping the run; only aiosonic
failing fails the benchmark.

Package layout:

- ``__main__``: the command line and the dispatch of each scenario to its family.
- ``settings``: the run's options and what each scenario derives from them.
- ``clients``: the clients under test, their environment, and which run in a venv of their
  own (upstream, pyreqwest, rnet, curl_cffi, niquests) with what installed.
- ``venvs``: the peer libraries in this interpreter and the clients' venvs (``.venvs/``).
- ``builds``: the compiled build of this repository's aiosonic for ``--build compiled``
  (``.run/compiled``, rebuilt whenever the sources differ from it).
- ``realistic``: the realistic scenario's requests and the answers the servers give them.
- ``scenarios/``: the catalogue (``__init__``) and one module per family: ``protocols``
  (realistic, h1, h2), ``sweeps`` (scale, newconn), ``transfers`` (download, upload, import), with
  ``probes`` and ``rounds`` shared by the first two.
- ``transfer``: the download, upload and import measurements and their tables.
- ``report``: the req/s tables and ratios, the results Markdown sections and the chart.
- ``records``: the medians in ``results/latest.json`` and the chart drawn from them.
- ``summary``: ``python -m bench.summary`` prints the documentation's headline table from them.
- ``server``: the HTTP servers under load on loopback (nginx when installed, else an
  embedded fallback; TLS + HTTP/2 nginx for h2; the upload sink).
- ``pinning``: CPU affinity for the server and client processes.
- ``runners/``: one standalone script per client, run in a subprocess each, printing JSON.
"""

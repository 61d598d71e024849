"""Integration tests of the client's opt-in layers (retries, hooks, progress, streaming,
pool settings, Unix sockets, the environment, ``BaseClient``, auth across redirects)."""

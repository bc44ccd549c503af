"""The decision service: `dissemination serve` (the `server` extra: Starlette, uvicorn).

OpenID AuthZEN Authorization API 1.0 over HTTP, plus our own view, filter and
registry endpoints (docs/service.md). The rooms:

- `protocol`: the AuthZEN envelope read and answered (pure);
- `state`: the active policy, swapped whole, and what decides with it;
- `auth`: callers' tokens, and the three sources of the reader;
- `app`: the Starlette application;
- `openapi`: the OpenAPI document it serves;
- `metrics`: Prometheus counters and the latency histogram;
- `policy_source`: where policy comes from (a directory, a signed bundle file
  watched for changes, a PostgreSQL table with LISTEN/NOTIFY).

Nothing here is imported by `import dissemination`: the core does not pay for
the server's dependencies.
"""

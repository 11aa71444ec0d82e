"""gunicorn's configuration for production and the benchmark:
`gunicorn -c python:api.gunicorn_config wsgi:app`, which `interval serve --production` runs.

Every value can be overridden from the environment (the names below), so one file serves a
laptop, the benchmark and a fleet behind a load balancer. See docs/deployment.md."""

from __future__ import annotations

import gc
import multiprocessing
import os
from pathlib import Path

env = os.environ
# wsgi.py lives at the repository root, wherever gunicorn is started from.
chdir = str(Path(__file__).resolve().parent.parent)

bind = env.get("INTERVAL_BIND", "127.0.0.1:8000")
# Requests spend most of their time in Python, some waiting for the database: two workers a
# core keeps the cores busy while one waits (WEB_CONCURRENCY overrides).
workers = int(env.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count())
worker_class = "sync"
# A request that takes longer than this is killed and its transaction rolled back; the
# slowest page (a report over years of data) takes well under a second.
timeout = int(env.get("INTERVAL_WORKER_TIMEOUT", "30"))
# On SIGTERM or SIGHUP, workers finish what they are doing for up to this long.
graceful_timeout = int(env.get("INTERVAL_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Recycle workers now and then (spread out, so they do not restart together).
max_requests = int(env.get("INTERVAL_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
# Load the application once in the master: workers share its memory pages until they write.
preload_app = True

# One JSON line per request: method, path without the query string, status, size, duration
# and request id. Never the query string, headers or body (they can carry answers or tokens).
accesslog = None if env.get("INTERVAL_ACCESS_LOG", "1") == "0" else "-"
access_log_format = (
    '{"time": "%(t)s", "event": "access", "method": "%(m)s", "path": "%(U)s", '
    '"status": %(s)s, "bytes": "%(B)s", "duration_ms": %(M)s, '
    '"request_id": "%({x-request-id}o)s"}'
)
errorlog = "-"
loglevel = env.get("INTERVAL_LOG_LEVEL", "info")
# Behind a proxy that terminates TLS: trust its forwarded headers only from these addresses.
forwarded_allow_ips = env.get("INTERVAL_FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_fork(server, worker) -> None:
    """A worker must not share the master's database connections: drop them (without closing
    the master's sockets) so the worker opens its own.

    And the application loaded in the master (modules, schemas, metadata: a few hundred
    thousand objects) is frozen out of the worker's garbage collection: a full collection then
    walks only what requests made, not the whole application each time (a trend's p95 in
    process fell from 184 to 70 ms), and never writes to the pages shared with the master."""
    gc.freeze()
    database = getattr(worker.app.wsgi(), "extensions", {}).get("interval.db")
    if database is not None:  # the benchmark's bare floor app has none
        database.engine.dispose(close=False)

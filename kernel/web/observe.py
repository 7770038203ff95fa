"""What an operator watches: a request id and a log line per request, and ``/metrics``.

:class:`Observe` is a pure ASGI middleware. It takes the request's ``X-Request-ID``
when it is sane (else makes one), returns it in the response's ``X-Request-ID`` header,
makes it the :data:`kernel.logs.REQUEST_ID` of every line logged meanwhile (and of a 5xx
error's body), and when the answer is sent logs one line on ``fixdesk.access`` (method,
route template, path, status, duration, user id, client address) and records the
duration in a Prometheus histogram.

``GET /metrics`` answers in Prometheus' text format: request latency by route template,
method and status class, requests in flight, the job queue read from the ``job`` table at
scrape time, and process metrics. Only addresses listed in ``[web] metrics_from`` of
``site.toml`` (default: this machine) may read it. Under ``fixdesk serve --workers N``
the processes share their figures through prometheus_client's multiprocess mode
(``PROMETHEUS_MULTIPROC_DIR``), so any process answers for all of them.
"""

from __future__ import annotations

import ipaddress
import itertools
import logging
import os
import re
import time
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response

from kernel.logs import REQUEST_ID

ACCESS_LOG = logging.getLogger("fixdesk.access")
LOGGER = logging.getLogger("fixdesk.web")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: an id a client or proxy may choose (nginx's $request_id is 32 hex digits)
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@+=-]{1,128}")
UNMATCHED = "unmatched"  # one label for every path no route serves (no label explosion)

REQUEST_SECONDS = Histogram(
    "fixdesk_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template, method "
    "and status class.", ("route", "method", "status"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
IN_FLIGHT = Gauge("fixdesk_http_requests_in_flight", "Requests being served.",
                  multiprocess_mode="livesum")


def request_id_of(scope) -> str:
    """The request's own ``X-Request-ID`` when it is sane, else a new one."""
    for key, value in scope.get("headers") or ():
        if key == b"x-request-id":
            candidate = value.decode("latin-1").strip()
            if SANE_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return new_request_id()


_request_count = itertools.count()


def _draw_id_prefix() -> None:
    """This process's random half of every request id."""
    global _id_prefix
    _id_prefix = os.urandom(8).hex()


_draw_id_prefix()
if hasattr(os, "register_at_fork"):  # a forked worker draws its own
    os.register_at_fork(after_in_child=_draw_id_prefix)


def new_request_id() -> str:
    """A new request id, 32 hex digits: a random half drawn once per process and a count.
    (``uuid4`` asks the system for randomness on every request, a call that hands the
    interpreter to the request threads and waits to get it back.)"""
    return f"{_id_prefix}{next(_request_count):016x}"


def route_template(scope) -> str:
    """The path pattern of the route that served the request (``/api/v1/x/{id}``)."""
    route = scope.get("route")
    if route is not None and getattr(route, "path", None):
        return route.path
    endpoint = scope.get("endpoint")
    if endpoint is None:
        return UNMATCHED
    for candidate in getattr(scope.get("app"), "routes", ()):
        if getattr(candidate, "endpoint", None) is endpoint:
            return candidate.path
        if getattr(candidate, "app", None) is endpoint:  # a mount (static files)
            return candidate.path + "/{path}"
    return UNMATCHED


class Observe:
    """ASGI middleware: request id, one access log line and the latency histogram."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        # left set after the call: the 500 handler runs outside this middleware, in this task
        REQUEST_ID.set(request_id)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            status = 500
            raise
        finally:
            IN_FLIGHT.dec()
            self._record(scope, state, status, time.perf_counter() - started)

    @staticmethod
    def _record(scope, state: dict, status: int, seconds: float) -> None:
        route = route_template(scope)
        method = scope.get("method", "")
        REQUEST_SECONDS.labels(route, method, f"{status // 100}xx").observe(seconds)
        from kernel.web.deps import client_address

        try:
            client = client_address(Request(scope))
        except Exception:  # the log line never fails the request
            client = scope["client"][0] if scope.get("client") else "unknown"
        duration_ms = round(seconds * 1000, 1)
        level = logging.ERROR if status >= 500 else logging.INFO
        ACCESS_LOG.log(level, "%s %s %s %.1fms", method, scope.get("path", ""), status,
                       duration_ms, extra={
                           "method": method, "route": route, "path": scope.get("path", ""),
                           "status": status, "duration_ms": duration_ms,
                           "user_id": state.get("user_id"), "client": client})


# --------------------------------------------------------------------------
# /metrics
# --------------------------------------------------------------------------


class JobsCollector:
    """The job queue as it is in the database when scraped: one grouped query over the
    unfinished and failed jobs (the ``status`` index keeps done jobs out of it)."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        from sqlalchemy import func, select
        from sqlalchemy.exc import SQLAlchemyError

        from kernel.db import utcnow
        from kernel.jobs import FAILED, QUEUED, RUNNING, Job

        table = Job.__table__
        up = GaugeMetricFamily("fixdesk_database_up",
                               "1 when the database answered the scrape's query, else 0.")
        now = utcnow()
        try:
            with self.app.engine.connect() as conn:
                rows = conn.execute(
                    select(table.c.name, table.c.status, func.count(), func.min(table.c.run_at))
                    .where(table.c.status.in_((QUEUED, RUNNING, FAILED)))
                    .group_by(table.c.name, table.c.status)).all()
        except SQLAlchemyError as exc:
            LOGGER.warning("metrics: the job queue could not be read: %s",
                           str(exc).splitlines()[0])
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        names = sorted(set(self.app.job_handlers) | {row[0] for row in rows})
        counts = {(row[0], row[1]): row[2] for row in rows}
        oldest = {row[0]: row[3] for row in rows if row[1] == QUEUED}
        families = {
            QUEUED: GaugeMetricFamily("fixdesk_jobs_queued",
                                      "Jobs waiting in the queue (due or later).", labels=["job"]),
            RUNNING: GaugeMetricFamily("fixdesk_jobs_running", "Jobs a worker holds.",
                                       labels=["job"]),
            FAILED: GaugeMetricFamily("fixdesk_jobs_failed",
                                      "Jobs that failed for good (until retried).",
                                      labels=["job"]),
        }
        age = GaugeMetricFamily("fixdesk_jobs_oldest_due_seconds",
                                "How long the oldest due queued job has waited past its "
                                "time to run (0: nothing is waiting).", labels=["job"])
        for name in names:
            for status, family in families.items():
                family.add_metric([name], counts.get((name, status), 0))
            first = oldest.get(name)
            age.add_metric([name], max(0.0, (now - first).total_seconds()) if first else 0.0)
        yield from families.values()
        yield age


class _Default:
    """This process's own metrics (the default registry: ours and process metrics)."""

    def collect(self):
        return REGISTRY.collect()


class _Processes:
    """Process metrics of every live process writing to the multiprocess folder, with a
    ``pid`` label (prometheus_client leaves these out in multiprocess mode)."""

    def __init__(self, folder: str):
        self.folder = folder

    def collect(self):
        merged: dict[str, Metric] = {}
        for pid in live_pids(self.folder):
            collector = ProcessCollector(pid=lambda pid=pid: pid, registry=None)
            for family in collector.collect():
                target = merged.setdefault(family.name, Metric(
                    family.name, family.documentation, family.type))
                for sample in family.samples:
                    target.add_sample(sample.name, {**sample.labels, "pid": str(pid)},
                                      sample.value)
        return merged.values()


def live_pids(folder: str) -> list[int]:
    """The processes that wrote to the multiprocess ``folder`` and still run; the live
    gauges of those that died are dropped (a killed worker counts no request in flight)."""
    pids = set()
    for path in Path(folder).glob("*.db"):
        match = re.search(r"_(\d+)\.db$", path.name)
        if match:
            pids.add(int(match.group(1)))
    alive = []
    for pid in sorted(pids):
        if Path(f"/proc/{pid}").exists():
            alive.append(pid)
        else:
            multiprocess.mark_process_dead(pid, folder)
    return alive


def metrics_text(app) -> bytes:
    """Every metric, in Prometheus' text exposition format."""
    registry = CollectorRegistry()
    folder = os.environ.get(MULTIPROC_ENV)
    if folder and os.path.isdir(folder):
        live_pids(folder)
        multiprocess.MultiProcessCollector(registry, path=folder)
        registry.register(_Processes(folder))
    else:
        registry.register(_Default())
    registry.register(JobsCollector(app))
    return generate_latest(registry)


def metrics_allowed(address: str, allowed: list[str]) -> bool:
    """Whether ``address`` is in one of the ``allowed`` addresses or networks."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in allowed)


def install(web) -> None:
    """The middleware (outermost of ours) and ``GET /metrics``."""
    from kernel.auth import PermissionDenied
    from kernel.i18n import _
    from kernel.web.deps import app_of, client_address

    web.add_middleware(Observe)

    @web.get("/metrics", include_in_schema=False)
    def metrics(request: Request):
        app = app_of(request)
        address = client_address(request)
        if not metrics_allowed(address, app.site.config.metrics_from):
            raise PermissionDenied(_("metrics are not served to {address}: list it in "
                                     "[web] metrics_from of site.toml").format(address=address))
        return Response(metrics_text(app), media_type=CONTENT_TYPE_LATEST)

"""What an operator sees: a JSON log line per request with its request id, the id in 5xx
answers, and ``/metrics`` in Prometheus' text format for allowed addresses only."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from serving import free_port, json_workers, wait_up

from kernel.demo import DEMO_PASSWORD
from kernel.logs import ContextFilter, JsonLogFormatter
from kernel.web.app import create_app

LOCAL = ("127.0.0.1", 50000)
#: what does not depend on the database runs on SQLite only
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def json_log():
    """The ``fixdesk`` loggers' lines as the server writes them with ``--log-format json``."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("fixdesk")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def access_lines(lines, path=None):
    return [line for line in lines if line["logger"] == "fixdesk.access"
            and (path is None or line["path"] == path)]


@SQLITE_ONLY
def test_each_request_logs_one_json_line_with_its_request_id(make_site, json_log):
    site = make_site([], demo=True)
    with TestClient(create_app(site), client=LOCAL) as client:
        answer = client.get("/healthz", headers={"X-Request-ID": "lb-4f2a.77"})
        assert answer.status_code == 200
        assert answer.headers["X-Request-ID"] == "lb-4f2a.77"  # the caller's id, echoed
        insane = client.get("/healthz", headers={"X-Request-ID": "x" * 300})
        made = insane.headers["X-Request-ID"]
        assert len(made) == 32 and made != "x" * 300  # a new id, not the caller's junk
        client.post("/login", data={"username": "admin", "password": DEMO_PASSWORD})
        home = client.get("/")
        assert home.status_code == 200
    lines = access_lines(json_log(), "/healthz")
    assert [line["request_id"] for line in lines] == ["lb-4f2a.77", made]
    first = lines[0]
    assert first["method"] == "GET" and first["route"] == "/healthz"
    assert first["status"] == 200 and first["level"] == "INFO"
    assert first["client"] == "127.0.0.1" and first["user_id"] is None
    assert isinstance(first["duration_ms"], float) and first["ts"].startswith("20")
    home_line = access_lines(json_log(), "/")[-1]
    assert home_line["user_id"] is not None  # a logged-in request names its user
    assert home_line["request_id"] == home.headers["X-Request-ID"]


@SQLITE_ONLY
def test_a_5xx_answer_carries_the_request_id_of_its_log_lines(make_site, json_log):
    site = make_site([])
    web = create_app(site)

    @web.get("/api/v1/boom")
    def boom():
        raise RuntimeError("a defect")

    with TestClient(web, raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/boom", headers={"X-Request-ID": "support-me"})
    assert answer.status_code == 500
    assert answer.json()["error"]["request_id"] == "support-me"
    assert answer.headers["X-Request-ID"] == "support-me"
    lines = json_log()
    traceback_line = next(line for line in lines if line["logger"] == "fixdesk.web")
    assert traceback_line["request_id"] == "support-me" and "a defect" in traceback_line[
        "exc_info"]
    access = access_lines(lines, "/api/v1/boom")
    assert [(line["status"], line["route"], line["level"]) for line in access] == \
        [(500, "/api/v1/boom", "ERROR")]


def _families(text: str) -> dict:
    return {family.name: family for family in text_string_to_metric_families(text)}


def test_metrics_show_route_latency_and_the_job_queue(make_site, app_of):
    from kernel.notifications import notify

    site = make_site([], demo=True)
    with app_of(site).context(user="admin") as ctx:
        for _n in range(3):
            notify(ctx, channel="email", to="a@example.com", template="test",
                   context={"company": "x"})
    with TestClient(create_app(site), client=LOCAL) as client:
        assert client.get("/healthz").status_code == 200
        answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    families = _families(answer.text)
    latency = families["fixdesk_http_request_duration_seconds"]
    assert latency.type == "histogram"
    counts = [s for s in latency.samples if s.name.endswith("_count")
              and s.labels == {"route": "/healthz", "method": "GET", "status": "2xx"}]
    assert counts and counts[0].value >= 1
    queued = {s.labels["job"]: s.value for s in families["fixdesk_jobs_queued"].samples}
    assert queued["kernel.notify"] == 3
    age = {s.labels["job"]: s.value for s in families["fixdesk_jobs_oldest_due_seconds"].samples}
    assert age["kernel.notify"] >= 0
    assert families["fixdesk_jobs_failed"].samples
    assert families["fixdesk_database_up"].samples[0].value == 1
    assert "fixdesk_http_requests_in_flight" in families
    assert "process_resident_memory_bytes" in families


@SQLITE_ONLY
def test_metrics_are_refused_to_addresses_the_site_does_not_list(make_site):
    site = make_site([])
    for address in ("10.1.2.3", "testclient"):
        with TestClient(create_app(site), client=(address, 40000)) as client:
            answer = client.get("/metrics")
        assert answer.status_code == 403, address
        assert answer.json()["error"]["code"] == "forbidden"
        assert "fixdesk_http" not in answer.text
    site.config.metrics_from = ["10.0.0.0/8"]
    with TestClient(create_app(site), client=("10.1.2.3", 40000)) as client:
        assert client.get("/metrics").status_code == 200
    with TestClient(create_app(site), client=LOCAL) as client:
        assert client.get("/metrics").status_code == 403  # loopback only by default


def test_metrics_from_must_name_addresses(tmp_path, fixdesk):
    from kernel.site import SiteConfig

    assert SiteConfig.from_toml({"web": {"metrics_from": ["10.0.0.0/8"]}}).metrics_from == \
        ["10.0.0.0/8"]
    site = tmp_path / "s"
    site.mkdir()
    (site / "site.toml").write_text('[web]\nmetrics_from = ["prometheus.lan"]\n')
    result = fixdesk("--site", site, "branch", "list")
    assert result.code == 2 and "metrics_from" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_serve_with_two_workers_logs_json_and_counts_every_request(make_site):
    """Two uvicorn processes share their figures: any of them answers /metrics for both."""
    site = make_site([])
    assert site.database_url.startswith("postgresql")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = json_workers(site, port)
    try:
        wait_up(f"{base}/healthz", server)
        with httpx.Client(base_url=base, timeout=10) as client:
            for _n in range(30):  # new connections: both processes get some
                assert client.get("/healthz", headers={"Connection": "close"}).status_code == 200
            totals = set()
            for _n in range(4):
                answer = client.get("/metrics", headers={"Connection": "close"})
                assert answer.status_code == 200
                samples = _families(answer.text)["fixdesk_http_request_duration_seconds"].samples
                totals.add(sum(s.value for s in samples if s.name.endswith("_count")
                               and s.labels["route"] == "/healthz"))
            pids = {s.labels["pid"] for s in _families(answer.text)[
                "process_resident_memory_bytes"].samples}
        assert len(totals) == 1 and totals.pop() >= 30  # every scrape counts all of them
        assert len(pids) == 2
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=30)
    access = [json.loads(line) for line in err.splitlines()
              if line.startswith("{") and '"fixdesk.access"' in line]
    assert len([line for line in access if line["path"] == "/healthz"]) >= 30
    assert all(line["request_id"] for line in access)


@SQLITE_ONLY
def test_a_worker_logs_each_job_with_its_id(make_site, app_of, json_log):
    from kernel.jobs import Worker
    from kernel.notifications import notify

    site = make_site([], demo=True)
    app = app_of(site)
    with app.context(user="admin") as ctx:
        job_id = notify(ctx, channel="nowhere", to="a@example.com", template="test",
                        context={"company": "x"}).id
    Worker(app).run(once=True)
    lines = [line for line in json_log() if line["logger"] == "fixdesk.jobs"]
    assert all(line["job_id"] == int(line["message"].split()[1]) for line in lines)
    mine = [(line["level"], line["message"].split(" after ")[0]) for line in lines
            if line["job_id"] == job_id]
    assert mine[0][0] == "WARNING" and "failed, to be retried" in mine[0][1]
    assert mine[1] == ("INFO", f"job {job_id} attempt 1 ended")

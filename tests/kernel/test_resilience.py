"""When the machine fails the site: a full disk, a read-only folder, a database that goes
away or is busy, a stop (SIGTERM). Every request gets a clear 503 (JSON for the API, a
readable page for the desk), ``/healthz`` and ``/readyz`` say what is wrong, ``serve``
refuses what cannot work, and a stopped worker loses no job and runs none twice."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from api_tokens import bearer_headers
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from kernel.jobs import DONE, QUEUED, RUNNING, Job
from kernel.site import Site, SiteConfig
from kernel.web.app import create_app

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
POSTGRES_ONLY = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


@pytest.fixture
def site(make_site):
    return make_site(["fdt_notes"], demo=True)


def _token_and_branch(site) -> tuple[dict, int]:
    from kernel.models import Branch

    app = site.start()
    try:
        with app.context() as ctx:
            headers = bearer_headers(ctx, "admin")["admin"]
            branch = ctx.session.scalars(select(Branch.id).order_by(Branch.id)).first()
    finally:
        app.close()
    return headers, branch


@contextmanager
def _client(site):
    web = create_app(site)
    try:
        with TestClient(web, raise_server_exceptions=False) as client:
            client.app_state = web.state.fixdesk
            client.web = web
            yield client
    finally:
        web.state.fixdesk.close()


def _note(client, headers, branch, title="n"):
    return client.post("/api/v1/fdt_notes_note", headers=headers,
                       json={"branch_id": branch, "title": title, "amount": "1"})


def _assert_unavailable(response, code: str, words: str):
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == code
    assert words in response.json()["error"]["message"]
    assert int(response.headers["Retry-After"]) > 0


def _assert_page(response, words: str):
    """A readable desk page: the site's layout, the message, no traceback."""
    assert response.status_code == 503 and response.headers["content-type"].startswith(
        "text/html")
    assert words in response.text and "Traceback" not in response.text
    assert "<main" in response.text and int(response.headers["Retry-After"]) > 0


# --------------------------------------------------------------------------
# SQLite: one writer process
# --------------------------------------------------------------------------


def _serve(folder, *options) -> subprocess.CompletedProcess:
    """``fixdesk serve`` that should refuse to start (stopped after 20 s if it does start)."""
    port = str(_closed_port())
    try:
        return subprocess.run([sys.executable, "-m", "kernel", "--site", str(folder), "serve",
                               "--port", port, *options], capture_output=True, text=True,
                              timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("serve started instead of refusing")


@SQLITE_ONLY
def test_serve_refuses_several_workers_on_sqlite(site):
    result = _serve(site.path, "--workers", "2")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result
    assert "PostgreSQL" in result.stderr and "Traceback" not in result.stderr


@SQLITE_ONLY
def test_concurrent_writers_of_one_server_all_succeed(site):
    headers, branch = _token_and_branch(site)
    codes = []
    with _client(site) as client:
        def write(index):
            codes.extend(_note(client, headers, branch, f"c{index}-{n}").status_code
                         for n in range(4))

        threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert codes == [201] * 32


@SQLITE_ONLY
def test_a_write_lock_held_too_long_answers_503_not_500(site):
    headers, branch = _token_and_branch(site)
    with _client(site) as client:
        # wait 0.2 s for the lock instead of 10 (the engine's), so the test is quick
        event.listen(client.app_state.engine, "connect",
                     lambda conn, _r: conn.execute("PRAGMA busy_timeout=200"))
        client.app_state.engine.dispose()
        holder = sqlite3.connect(site.path / "fixdesk.sqlite3", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process writing for a long time
        try:
            _assert_unavailable(_note(client, headers, branch), "database_busy", "busy")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert _note(client, headers, branch).status_code == 201


# --------------------------------------------------------------------------
# a full disk
# --------------------------------------------------------------------------


@SQLITE_ONLY
def test_a_full_disk_answers_503_saying_so(site):
    headers, branch = _token_and_branch(site)
    with _client(site) as client:
        engine = client.app_state.engine

        @event.listens_for(engine, "connect")
        def full(conn, _record):  # SQLite answers SQLITE_FULL past this many pages
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count={pages}")

        engine.dispose()
        for index in range(40):  # until a write needs a new page
            answer = _note(client, headers, branch, "x" * 150 + str(index))
            if answer.status_code != 201:
                break
        _assert_unavailable(answer, "disk_full", "disk is full")


def _mount_tmpfs(folder: Path, size: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True).returncode == 0


@SQLITE_ONLY
def test_a_site_on_a_really_full_disk(site, tmp_path):
    """A real full file system (a 3 MB tmpfs, root only): writes, attachments and
    ``/healthz`` say the disk is full."""
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "3m"):
        pytest.skip("mounting a small tmpfs needs root")
    try:
        shutil.copytree(site.path, disk / "site")
        small = Site.load(disk / "site")
        headers, branch = _token_and_branch(small)
        with _client(small) as client:
            assert _note(client, headers, branch).status_code == 201
            filler = disk / "filler"
            with open(filler, "wb") as out:  # fill the disk to the last byte
                try:
                    while True:
                        out.write(b"\0" * 65536)
                        out.flush()
                except OSError:
                    pass
            answers = [_note(client, headers, branch, "y" * 150 + str(i)) for i in range(30)]
            assert 500 not in [a.status_code for a in answers]
            _assert_unavailable(next(a for a in answers if a.status_code != 201), "disk_full",
                                "disk is full")
            health = client.get("/healthz")
            assert health.status_code == 503 and health.json()["status"] == "unhealthy"
            assert health.json()["checks"]["disk"]["ok"] is False
            assert "disk is full" in health.json()["checks"]["disk"]["message"]
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


@SQLITE_ONLY
def test_healthz_says_when_free_space_runs_low(site, monkeypatch):
    with _client(site) as client:
        assert client.get("/healthz").json()["checks"]["disk"]["ok"] is True
        monkeypatch.setenv("FIXDESK_MIN_FREE_MB", str(10 ** 12))
        answer = client.get("/healthz")
    assert answer.status_code == 503
    disk = answer.json()["checks"]["disk"]
    assert disk["ok"] is False and disk["free_mb"] < disk["min_free_mb"]


# --------------------------------------------------------------------------
# a read-only site folder
# --------------------------------------------------------------------------


@pytest.fixture
def read_only(tmp_path):
    """``read_only(site)``: the same site seen through a read-only folder: a read-only
    bind mount as root (who ignores file modes), the folder's write bits removed
    otherwise."""
    undo = []

    def make(site) -> Path:
        view = tmp_path / "ro-view"
        view.mkdir()
        if os.geteuid() == 0:
            done = subprocess.run(f"mount --bind '{site.path}' '{view}' && "
                                  f"mount -o remount,bind,ro '{view}'", shell=True,
                                  capture_output=True)
            if done.returncode != 0:
                pytest.skip(f"cannot make a read-only mount: {done.stderr.decode()}")
            undo.append(["umount", "-l", str(view)])
            return view
        view.rmdir()
        shutil.copytree(site.path, view)
        for path in (view, *view.iterdir()):
            path.chmod(0o555 if path.is_dir() else 0o444)
        undo.append(["chmod", "-R", "u+w", str(view)])
        return view

    yield make
    for command in undo:
        subprocess.run(command, check=False)


@SQLITE_ONLY
def test_a_read_only_site_answers_503_and_healthz_says_why(site, read_only):
    headers, _branch = _token_and_branch(site)
    view = read_only(site)
    with _client(Site.load(view)) as client:
        health = client.get("/healthz")
        assert health.status_code == 503, health.text
        checks = health.json()["checks"]
        assert checks["writable"]["ok"] is False and "read-only" in checks["writable"]["message"]
        assert health.json()["plugins"] == ["fdt_notes"]
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "not_ready"
        _assert_unavailable(client.get("/api/v1/customer", headers=headers), "read_only",
                            "read-only")
        _assert_page(client.get("/login"), "站点文件夹为只读")  # the site's language


@SQLITE_ONLY
def test_serve_refuses_a_read_only_site(site, read_only):
    result = _serve(read_only(site))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result
    assert "read-only" in result.stderr and "Traceback" not in result.stderr


# --------------------------------------------------------------------------
# healthz and readyz
# --------------------------------------------------------------------------


def test_healthz_and_readyz_when_all_is_well(site):
    with _client(site) as client:
        health = client.get("/healthz")
        ready = client.get("/readyz")
    assert health.status_code == 200, health.text
    body = health.json()
    assert body["status"] == "ok" and body["plugins"] == ["fdt_notes"]
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True, "writable": True, "disk": True, "migrations": True}
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


@SQLITE_ONLY
def test_readyz_waits_for_migrations(site):
    app = site.start()
    try:
        with app.engine.begin() as conn:
            conn.execute(text("DELETE FROM alembic_version"))
    finally:
        app.close()
    with _client(site) as client:
        ready = client.get("/readyz")
        health = client.get("/healthz")
    assert ready.status_code == 503 and ready.json()["status"] == "not_ready"
    assert ready.json()["checks"]["migrations"]["ok"] is False
    assert "fixdesk migrate" in ready.json()["checks"]["migrations"]["message"]
    assert health.status_code == 503 and health.json()["checks"]["migrations"]["ok"] is False


@SQLITE_ONLY
def test_readyz_answers_503_once_the_server_is_told_to_stop(site):
    """SIGTERM marks the app as shutting down, then goes on to uvicorn's own handler."""
    from kernel.web.app import _note_shutdown

    received = []
    previous = signal.signal(signal.SIGTERM, lambda signum, _f: received.append(signum))
    try:
        with _client(site) as client:
            assert client.get("/readyz").status_code == 200
            restore = _note_shutdown(client.web)
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)
            finally:
                restore()
            ready = client.get("/readyz")
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert received == [signal.SIGTERM]  # the server's own handler still ran
    assert ready.status_code == 503 and ready.json()["status"] == "shutting_down"


# --------------------------------------------------------------------------
# the database goes away
# --------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_database_that_does_not_answer_gives_503(tmp_path):
    folder = tmp_path / "nodb"
    dead = Site(folder, SiteConfig(
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/fixdesk"))
    dead.save()
    with _client(Site.load(folder)) as client:
        from kernel.auth import TOKEN_PREFIX

        token = f"{TOKEN_PREFIX}_0123456789ab_{'x' * 43}"  # well-formed: looked up
        api = client.get("/api/v1/customer", headers={"Authorization": f"Bearer {token}"})
        _assert_unavailable(api, "database_unavailable", "database is unavailable")
        client.cookies.set("fixdesk_lang", "en")  # the desk's language for this browser
        _assert_page(client.get("/login"), "database is unavailable")
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["checks"]["database"]["ok"] is False
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["database"]["ok"] is False


def _terminate_backends(server: str, database: str) -> int:
    admin = create_engine(server + "postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return len(conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": database}).all())
    finally:
        admin.dispose()


@contextmanager
def _connection_killed_after_a_request(site, postgres_server, monkeypatch, window: float):
    """A client whose pool pings connections idle more than ``window`` seconds, after a
    request whose connection the server then killed: yields (client, headers)."""
    import kernel.db

    monkeypatch.setattr(kernel.db, "PING_AFTER_IDLE_SECONDS", window)
    headers, _branch = _token_and_branch(site)
    with _client(site) as client:
        assert client.get("/api/v1/customer", headers=headers).status_code == 200
        assert _terminate_backends(postgres_server, make_url(site.database_url).database) >= 1
        yield client, headers


@POSTGRES_ONLY
def test_a_connection_idle_a_while_is_pinged_and_replaced_when_dead(site, postgres_server,
                                                                    monkeypatch):
    with _connection_killed_after_a_request(site, postgres_server, monkeypatch, 0.3) as (
            client, headers):
        time.sleep(0.4)  # idle past the window: the pool pings, finds it dead, connects again
        assert client.get("/api/v1/customer", headers=headers).status_code == 200


@POSTGRES_ONLY
def test_a_connection_used_moments_ago_is_not_pinged(site, postgres_server, monkeypatch):
    """No round trip of its own before each request: a connection killed right after its
    last use fails the one request that meets it, and the pool then connects afresh."""
    with _connection_killed_after_a_request(site, postgres_server, monkeypatch, 600) as (
            client, headers):
        _assert_unavailable(client.get("/api/v1/customer", headers=headers),
                            "database_unavailable", "database is unavailable")
        assert client.get("/api/v1/customer", headers=headers).status_code == 200


@POSTGRES_ONLY
def test_lost_database_connections_answer_503_and_the_app_recovers(site, postgres_server):
    headers, branch = _token_and_branch(site)
    database = make_url(site.database_url).database
    with _client(site) as client:
        assert client.get("/api/v1/customer", headers=headers).status_code == 200

        armed = []

        @event.listens_for(client.app_state.engine, "before_cursor_execute")
        def cut(_conn, _cursor, statement, *_args):  # the connection dies mid-request
            if armed and armed[0] in statement:
                armed.clear()
                _terminate_backends(postgres_server, database)

        armed.append("fdt_notes_note")
        _assert_unavailable(_note(client, headers, branch), "database_unavailable",
                            "database is unavailable")
        assert _note(client, headers, branch).status_code == 201  # and it recovered
        armed.append("")  # the desk's next statement
        client.cookies.set("fixdesk_lang", "en")  # the desk's language for this browser
        _assert_page(client.post("/login", data={"username": "admin", "password": "x"}),
                     "database is unavailable")
        assert client.get("/healthz").status_code == 200
        assert client.get("/api/v1/customer", headers=headers).status_code == 200


# --------------------------------------------------------------------------
# stopping a job worker
# --------------------------------------------------------------------------


def _job(app, job_id) -> Job:
    with app.sessions() as session:
        return session.get(Job, job_id)


def _slow_job(app, marker: Path) -> int:
    marker.touch()
    with app.context(branch="HQ") as ctx:
        return ctx.enqueue("fdt_notes.slow", {"branch_id": ctx.branch.id, "title": "slow",
                                              "marker": str(marker)}).id


def _worker_running(site, app, job_id, *options):
    worker = subprocess.Popen([sys.executable, "-m", "kernel", "--site", str(site.path),
                               "worker", "--poll", "0.1", *options],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while _job(app, job_id).status != RUNNING:
        assert time.monotonic() < deadline and worker.poll() is None, worker.communicate()
        time.sleep(0.05)
    return worker


def _slow_notes(app) -> int:
    from fdt_notes.models import Note

    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(Note)
                              .where(Note.title == "slow"))


@pytest.fixture
def notes_site(make_site):
    return make_site(["fdt_notes"])


@SQLITE_ONLY  # the same on PostgreSQL: test_jobs covers its claims
def test_sigterm_lets_the_worker_finish_its_job_then_exit(notes_site, app_of, tmp_path):
    app = app_of(notes_site)
    marker = tmp_path / "busy"
    job_id = _slow_job(app, marker)
    worker = _worker_running(notes_site, app, job_id)
    try:
        worker.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert worker.poll() is None  # still working on its job
        marker.unlink()
        out, err = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err
    job = _job(app, job_id)
    assert (job.status, job.attempts) == (DONE, 1)
    assert _slow_notes(app) == 1


@SQLITE_ONLY
def test_sigterm_past_the_grace_releases_the_job_to_the_queue(notes_site, app_of, tmp_path):
    from kernel.jobs import Worker

    app = app_of(notes_site)
    marker = tmp_path / "busy"
    job_id = _slow_job(app, marker)
    worker = _worker_running(notes_site, app, job_id, "--grace", "0.2")
    try:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err
    job = _job(app, job_id)
    assert (job.status, job.attempts, job.locked_by, job.locked_until) == (QUEUED, 0, None, None)
    assert _slow_notes(app) == 0  # its work was rolled back ...
    marker.unlink()
    assert Worker(app).run_one(job_id) is True  # ... and another worker runs it, once
    job = _job(app, job_id)
    assert (job.status, job.attempts) == (DONE, 1) and _slow_notes(app) == 1


def test_a_worker_waits_out_a_database_outage(tmp_path):
    """A worker whose database is gone keeps polling instead of dying (and picks up again
    once the database is back)."""
    from kernel.jobs import Worker

    folder = tmp_path / "nodb"
    Site(folder, SiteConfig(
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/x")).save()
    app = Site.load(folder).start()
    try:
        worker = Worker(app)
        polls = []
        assert worker.run(poll_seconds=0.05, stop=lambda: polls.append(1) or len(polls) > 3) == 0
        with pytest.raises(Exception, match="Connection refused|connection failed"):
            worker.run(once=True)  # `worker --once` (cron) says so and exits 2
    finally:
        app.close()


@SQLITE_ONLY
def test_the_health_checks_keep_sqlite_s_locks(site):
    """Asking whether the database file can be written must not open and close it: closing
    any descriptor of the file drops every POSIX lock the process holds on it, and another
    process then writes beside a transaction in flight (the database gets corrupted, as it
    did under the desk's tests). A write transaction held here still locks out a writer in
    another process after every check /healthz makes."""
    from kernel.health import health, read_only_reason

    url = make_url(site.database_url)
    holder = sqlite3.connect(url.database, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # this process holds the write lock
        assert read_only_reason(site) is None
        app = site.start()
        try:
            health(app)
        finally:
            app.close()
        other = subprocess.run(
            [sys.executable, "-c",
             "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], timeout=0.2, "
             "isolation_level=None)\ntry:\n    c.execute('BEGIN IMMEDIATE'); print('got it')\n"
             "except sqlite3.OperationalError as e:\n    print(e)", url.database],
            capture_output=True, text=True, timeout=60)
        assert other.stdout.strip() == "database is locked", other
    finally:
        holder.execute("ROLLBACK")
        holder.close()

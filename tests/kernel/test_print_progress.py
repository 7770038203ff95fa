"""Long work shows progress (issue 11): the CLI's bars on a terminal and its silence in
scripts, batch prints that never hold the database's write lock while papers are laid
out, and the detached job a worker runs for the desk."""

from __future__ import annotations

import os
import pty
import select as select_fd
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kernel.demo import DEMO_PASSWORD
from kernel.documents import pdf, spool
from kernel.documents.registry import PrintLog
from kernel.jobs import DONE, Job, Worker
from kernel.models import CustomerEquipment

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def site(make_site):
    return make_site([], demo=True, branch_code="SH", branch_name="上海服务中心")


def _machines(app, limit: int) -> list[int]:
    with app.sessions() as session:
        return list(session.scalars(select(CustomerEquipment.id).order_by(CustomerEquipment.id)
                                    .limit(limit)))


def test_a_cli_batch_print_leaves_the_database_writable(site, app_of, fixdesk, monkeypatch,
                                                        tmp_path):
    """``fixdesk print`` of a batch whose first paper is laid out only once a user has
    logged in through the desk (a write: the session row): the login must get through
    while the batch renders (if the batch held the write lock, the login would wait for
    it and the paper for the login)."""
    from kernel.web.app import create_app

    real_render = pdf.render
    rendering, logged_in = threading.Event(), threading.Event()
    waited = []

    def slow_render(*args, **kwargs):
        rendering.set()
        waited.append(logged_in.wait(60))  # False: nobody could log in meanwhile
        return real_render(*args, **kwargs)

    monkeypatch.setattr(pdf, "render", slow_render)
    web = create_app(site)
    try:
        ids = _machines(web.state.fixdesk, 10)
        output = tmp_path / "batch.pdf"
        done = {}
        batch = threading.Thread(target=lambda: done.update(cli=fixdesk(
            "--site", site.path, "print", "kernel.equipment_record",
            "--ids", ",".join(map(str, ids)), "--workers", "1", "-o", output)))
        batch.start()
        assert rendering.wait(60)
        with TestClient(web, follow_redirects=False) as client:
            answer = client.post("/login", data={"username": "admin",
                                                 "password": DEMO_PASSWORD})
        assert answer.status_code == 303, answer.text
        assert batch.is_alive()  # the batch was still being laid out
        logged_in.set()
        batch.join(120)
        assert waited and all(waited)
        assert done["cli"].code == 0, done["cli"]
        assert output.read_bytes().startswith(b"%PDF")
        with web.state.fixdesk.sessions() as session:
            actors = session.scalars(select(PrintLog.actor)).all()
        assert len(actors) == 10 and all(a.startswith("cli:") for a in actors)
    finally:
        web.state.fixdesk.close()


def test_a_failed_print_takes_its_log_lines_back(site, app_of, monkeypatch):
    from kernel.documents.detached import Requester, print_detached

    app = app_of(site)
    ids = _machines(app, 2)

    def broken(*_args, **_kwargs):
        raise pdf.PrintError("broken printer")

    monkeypatch.setattr(pdf, "render", broken)
    with pytest.raises(pdf.PrintError):
        print_detached(app, Requester(), "kernel.equipment_record", ids, workers=1)
    with app.sessions() as session:
        assert session.scalars(select(PrintLog)).all() == []


def test_a_worker_runs_the_desks_batch_job_outside_any_transaction(site, app_of):
    """The job the desk queues may be run by ``fixdesk worker`` as well: it prints, keeps
    the PDF in the site's spool and reports the progress there."""
    from kernel.auth import get_user
    from kernel.documents.print_jobs import JOB_NAME, queue_batch

    app = app_of(site)
    ids = _machines(app, 3)
    assert app.job_handlers[JOB_NAME].detached
    with app.context(user="admin") as ctx:
        job_id = queue_batch(ctx, "kernel.equipment_record", ids).id
        admin = get_user(ctx.session, "admin").id
    assert spool.read_state(app, job_id) == {"done": 0, "total": 3,
                                             "document": "kernel.equipment_record"}
    seen = []
    original = spool.write_state

    def watch(app_, job, **state):
        seen.append(state.get("done"))
        original(app_, job, **state)

    spool.write_state = watch
    try:
        assert Worker(app).run_one() is True
    finally:
        spool.write_state = original
    with app.sessions() as session:
        job = session.get(Job, job_id)
        assert job.status == DONE and job.user_id == admin and job.last_error is None
        assert {r.actor for r in session.scalars(select(PrintLog))} == {"admin"}
    assert seen[-1] == 3 and seen == sorted(seen)
    assert spool.pdf_path(app, job_id).read_bytes().startswith(b"%PDF")
    assert spool.read_state(app, job_id)["expires_at"]


def _run_on_terminal(args: list[str], timeout: float = 240.0) -> str:
    """Run ``python -m kernel ARGS`` with standard output and error on a pseudo-terminal;
    returns everything it wrote."""
    main, child = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "LANG": "C.UTF-8"}
    process = subprocess.Popen([sys.executable, "-m", "kernel", *args], stdout=child,
                               stderr=child, stdin=subprocess.DEVNULL, env=env, cwd=ROOT)
    os.close(child)
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _w, _x = select_fd.select([main], [], [], 0.5)
        if ready:
            try:
                data = os.read(main, 4096)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    process.wait(timeout=30)
    os.close(main)
    assert process.returncode == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode(errors="replace")


def test_a_batch_print_shows_a_bar_on_a_terminal_and_nothing_in_a_script(site, app_of,
                                                                         tmp_path):
    ids = ",".join(map(str, _machines(app_of(site), 20)))
    args = ["--site", str(site.path), "print", "kernel.equipment_record", "--ids", ids,
            "--workers", "1", "--lang", "en"]
    shown = _run_on_terminal([*args, "-o", str(tmp_path / "a.pdf")])
    assert "Printing" in shown and "20/20" in shown and "100%" in shown, shown
    quiet = subprocess.run([sys.executable, "-m", "kernel", *args, "-o",
                            str(tmp_path / "b.pdf")], capture_output=True, text=True,
                           cwd=ROOT, check=True)
    assert quiet.stderr == "" and "%" not in quiet.stdout
    assert quiet.stdout.strip().endswith("b.pdf")


def test_new_site_with_demo_data_shows_its_steps_on_a_terminal(tmp_path):
    shown = _run_on_terminal(["new-site", str(tmp_path / "demo"), "--demo", "--locale",
                              "en", "--plugins", "repair"])
    assert "Loading the demo order history" in shown and "300/300" in shown, shown
    assert "site created at" in shown


def test_the_progress_watcher_reports_steps_in_order():
    from kernel.progress import report, watching

    seen = []
    report("nobody watches", 1, 2)  # nothing happens
    with watching(lambda label, done, total: seen.append((label, done, total))):
        report("Upgrading the database", 0, 2)
        report("Upgrading the database", 2, 2)
    report("after", 1, 1)
    assert seen == [("Upgrading the database", 0, 2), ("Upgrading the database", 2, 2)]

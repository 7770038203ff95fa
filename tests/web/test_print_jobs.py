"""Batch printing from the desk as a job: progress, a download for the owner only, and a
desk that stays usable while the papers are laid out (issue 11, "long work shows
progress")."""

from __future__ import annotations

import datetime as dt
import threading
import time

from pdf_tools import pdftotext
from print_jobs import wait_for_print_job
from sqlalchemy import func, select

from kernel.documents import pdf, spool
from kernel.documents.registry import PrintLog
from kernel.jobs import Job
from kernel.models import CustomerEquipment

from .conftest import PASSWORD


def _machines(desk, branch_code: str = "SH", limit: int = 10) -> list[int]:
    from kernel.models import Branch

    with desk.app.sessions() as session:
        branch = session.scalar(select(Branch.id).where(Branch.code == branch_code))
        return list(session.scalars(
            select(CustomerEquipment.id).where(CustomerEquipment.branch_id == branch)
            .order_by(CustomerEquipment.id).limit(limit)))


def _start(browser, ids: list[int]):
    return browser.post("/desk/customer_equipment/print", data={
        "csrf": browser.csrf, "document": "kernel.equipment_record",
        "ids": [str(i) for i in ids]})


def test_a_batch_print_runs_as_a_job_with_progress_and_a_download_for_its_owner(desk):
    lily = desk.login("lily")
    ids = _machines(desk, limit=3)
    started = _start(lily, ids)
    assert started.status_code == 303
    page_url = started.headers["location"]
    page = lily.get(page_url)
    assert page.status_code == 200 and "<progress" in page.text and "data-print-job" in page.text
    progress = wait_for_print_job(lily, page_url)
    assert progress["status"] == "done" and progress["percent"] == 100
    assert progress["done"] == progress["total"] == 3 and progress["error"] is None
    assert "3" in progress["text"]
    download = lily.get(progress["download"])
    assert download.status_code == 200 and "attachment" in download.headers[
        "content-disposition"]
    assert pdftotext(download.content).count("设备档案") >= 3
    with desk.app.sessions() as session:  # each paper logged once, as lily's
        logged = session.execute(select(PrintLog.record_id, PrintLog.actor).where(
            PrintLog.document == "kernel.equipment_record")).all()
        job = session.scalar(select(Job).where(Job.id == int(page_url.rsplit("/", 1)[1])))
    assert sorted(int(r) for r, _a in logged) == sorted(ids)
    assert {a for _r, a in logged} == {"lily"}
    assert job.status == "done" and job.user_id is not None

    # nobody else sees it: not another user of the branch, not an admin, not a stranger
    for other in ("supersh", "root"):
        browser = desk.login(other)
        for url in (page_url, f"{page_url}/progress", progress["download"]):
            assert browser.get(url).status_code == 404, (other, url)
    stranger = desk.browser()
    assert stranger.get(progress["download"]).status_code == 303  # to the login page

    # kept for a day: then the file is gone and the page says so
    job_id = int(page_url.rsplit("/", 1)[1])
    state = spool.read_state(desk.app, job_id)
    state["expires_at"] = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
    spool.write_state(desk.app, job_id, **state)
    expired = lily.get(f"{page_url}/progress").json()
    assert expired["download"] is None and expired["error"]
    assert lily.get(f"/desk/print-jobs/{job_id}/download").status_code == 409


def test_refusals_come_at_once_and_queue_nothing(desk):
    lily = desk.login("lily")
    jd_machine = _machines(desk, "JD", limit=1)
    before = desk.count(Job)
    assert _start(lily, jd_machine).status_code == 404  # another branch's: not found
    empty = lily.post("/desk/customer_equipment/print", data={
        "csrf": lily.csrf, "document": "kernel.equipment_record"})
    assert empty.status_code == 422
    assert desk.count(Job) == before


def test_the_desk_stays_usable_while_a_batch_is_laid_out(desk, monkeypatch):
    """Each paper takes 0.8 s to lay out here (8 s in all); meanwhile another user logs in
    (a write: a session row) and saves a record, each within 3 s — on SQLite too, where a
    print holding the write lock would make them wait for the whole batch."""
    real_render = pdf.render
    rendering = threading.Event()

    def slow_render(*args, **kwargs):
        rendering.set()
        time.sleep(0.8)
        return real_render(*args, **kwargs)

    monkeypatch.setattr(pdf, "render", slow_render)
    lily = desk.login("lily")
    ids = _machines(desk, limit=10)
    started = _start(lily, ids)
    assert started.status_code == 303
    assert rendering.wait(30)

    begun = time.monotonic()
    clerk = desk.browser()
    logged_in = clerk.post("/login", data={"username": "supersh", "password": PASSWORD})
    waited = time.monotonic() - begun
    assert logged_in.status_code == 303 and waited < 3, waited
    progress = lily.get(f"{started.headers['location']}/progress").json()
    assert progress["status"] == "running" and progress["done"] < progress["total"]

    root = desk.login("root")
    begun = time.monotonic()
    saved = root.post(f"/desk/customer_equipment/{ids[0]}", data={
        "csrf": root.csrf, "_fields": "note", "note": "打印时修改"})
    assert saved.status_code in (303, 422) and time.monotonic() - begun < 3
    final = wait_for_print_job(lily, started.headers["location"])
    assert final["status"] == "done" and final["total"] == 10
    with desk.app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PrintLog)) == 10

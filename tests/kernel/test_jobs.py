"""Durable jobs: transactional enqueue, retries, schedules, exclusive claims, leases, e-mail."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import func, select

from kernel.db import utcnow
from kernel.jobs import DONE, FAILED, QUEUED, RUNNING, Job, Worker, enqueue_due_schedules


@pytest.fixture
def site(make_site):
    return make_site(["fdt_notes"])


def _notes(app, title=None):
    from fdt_notes.models import Note

    with app.sessions() as session:
        query = select(func.count()).select_from(Note)
        if title is not None:
            query = query.where(Note.title == title)
        return session.scalar(query)


def _job(app, job_id) -> Job:
    with app.sessions() as session:
        return session.get(Job, job_id)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def test_a_job_exists_if_and_only_if_its_transaction_commits(site, app_of):
    app = app_of(site)
    with pytest.raises(RuntimeError), app.context(branch="HQ") as ctx:
        ctx.enqueue("fdt_notes.record", {"branch_id": ctx.branch.id, "title": "never"})
        raise RuntimeError("rolled back")
    with app.context(branch="HQ") as ctx:
        job_id = ctx.enqueue("fdt_notes.record", {"branch_id": ctx.branch.id, "title": "t"}).id
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 1
    assert Worker(app).run_one() is True
    assert _job(app, job_id).status == DONE and _notes(app, "t") == 1


def test_unknown_jobs_are_refused_when_queued(site, app_of):
    from kernel.errors import ValidationError

    app = app_of(site)
    with pytest.raises(ValidationError, match="no handler for job 'nope'"), app.context() as ctx:
        ctx.enqueue("nope", {})


def test_failures_roll_back_retry_with_backoff_then_fail(site, app_of):
    app = app_of(site)
    clock = Clock()
    with app.context(branch="HQ", clock=clock) as ctx:
        payload = {"branch_id": ctx.branch.id, "title": "boom", "fail": True}
        job_id = ctx.enqueue("fdt_notes.record", payload).id
    worker = Worker(app, clock=clock)
    assert worker.run_one() is True
    job = _job(app, job_id)
    assert (job.status, job.attempts) == (QUEUED, 1)
    assert job.run_at == clock.now + dt.timedelta(seconds=1)  # backoff 1 s x 2^0
    assert "RuntimeError: printer on fire" in job.last_error
    assert _notes(app, "boom") == 0  # the handler's write was rolled back
    assert worker.run_one() is False  # not due yet
    clock.advance(1)
    worker.run_one()
    assert _job(app, job_id).run_at == clock.now + dt.timedelta(seconds=2)  # 1 s x 2^1
    clock.advance(2)
    worker.run_one()
    job = _job(app, job_id)
    assert (job.status, job.attempts) == (FAILED, 3) and job.finished_at == clock.now


def test_jobs_cli_lists_and_retries_failed_jobs(site, app_of, fixdesk):
    app = app_of(site)
    with app.context() as ctx:
        job_id = ctx.enqueue("fdt_notes.flaky", {}).id
    assert fixdesk("--site", site.path, "worker", "--once").code == 0  # 2 tries, backoff 0
    listing = fixdesk("--site", site.path, "jobs", "list", "--status", "failed").out.splitlines()
    assert listing[0].split("\t")[:3] == ["ID", "JOB", "STATUS"]
    row = listing[1].split("\t")
    assert row[:4] == [str(job_id), "fdt_notes.flaky", "failed", "2/2"]
    assert "ConnectionError: SMS gateway timed out" in row[5]
    assert fixdesk("--site", site.path, "jobs", "retry", job_id).code == 0
    assert _job(app, job_id).status == QUEUED and _job(app, job_id).attempts == 0


def test_scheduled_jobs_are_enqueued_once_per_due_time(site, app_of):
    app, other = app_of(site), app_of(site)
    now = dt.datetime(2026, 6, 1, 2, 30, tzinfo=dt.UTC)
    assert enqueue_due_schedules(app, now) == ["fdt_notes.hourly_sweep"]
    assert enqueue_due_schedules(other, now + dt.timedelta(minutes=10)) == []  # same hour
    assert enqueue_due_schedules(other, now + dt.timedelta(hours=1)) == ["fdt_notes.hourly_sweep"]
    Worker(app, clock=lambda: now + dt.timedelta(hours=1)).run(once=True)
    assert _notes(app, "sweep") == 2


def test_daily_schedules_follow_the_site_timezone():
    from kernel.contributions import ScheduledJob
    from kernel.jobs import due_time
    from kernel.site import SiteConfig

    tz = SiteConfig().tz
    daily = ScheduledJob("x", print, daily_at="07:30")
    before = dt.datetime(2026, 6, 1, 23, 0, tzinfo=dt.UTC)  # 07:00 on 2 June in Shanghai
    assert due_time(daily, before, tz) == dt.datetime(2026, 5, 31, 23, 30, tzinfo=dt.UTC)
    after = dt.datetime(2026, 6, 1, 23, 45, tzinfo=dt.UTC)  # 07:45 in Shanghai
    assert due_time(daily, after, tz) == dt.datetime(2026, 6, 1, 23, 30, tzinfo=dt.UTC)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_workers_never_run_the_same_job(site):
    """Four workers on their own connections drain 120 jobs; each runs exactly once."""
    from kernel.site import Site

    app = Site.load(site.path).start(pool_size=10)
    try:
        with app.context(branch="HQ") as ctx:
            for index in range(120):
                ctx.enqueue("fdt_notes.record", {"branch_id": ctx.branch.id, "title": f"j{index}"})
        counts: dict[str, int] = {}
        barrier = threading.Barrier(4)

        def drain(name: str) -> None:
            worker = Worker(app, worker_id=name)
            barrier.wait()
            counts[name] = worker.run(once=True)

        threads = [threading.Thread(target=drain, args=(f"w{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert sum(counts.values()) == 121  # and the hourly sweep, enqueued by one of them
        assert sum(1 for c in counts.values() if c > 0) >= 2  # they really shared the work
        from fdt_notes.models import Note

        with app.sessions() as session:
            titles = session.execute(select(Note.title, func.count()).where(
                Note.title.like("j%")).group_by(Note.title)).all()
            assert len(titles) == 120 and {count for _t, count in titles} == {1}
            assert session.scalar(select(func.count()).where(Job.status != DONE)) == 0
    finally:
        app.close()


def test_a_killed_worker_leaves_the_job_to_another_after_its_lease(site, app_of, tmp_path):
    app = app_of(site)
    marker = tmp_path / "busy"
    marker.touch()
    with app.context(branch="HQ") as ctx:
        job_id = ctx.enqueue("fdt_notes.slow", {"branch_id": ctx.branch.id, "title": "slow",
                                                "marker": str(marker)}).id
    victim = subprocess.Popen([sys.executable, "-m", "kernel", "--site", str(site.path),
                               "worker", "--once"], stderr=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while _job(app, job_id).status != RUNNING:
            assert time.monotonic() < deadline and victim.poll() is None
            time.sleep(0.05)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
    finally:
        if victim.poll() is None:
            victim.kill()
    marker.unlink()
    assert _job(app, job_id).status == RUNNING  # the dead worker still holds the lease
    Worker(app).run(once=True)  # runs what else is due (the hourly sweep) ...
    assert _job(app, job_id).status == RUNNING  # ... but nobody takes it before the lease ends
    later = Worker(app, clock=lambda: utcnow() + dt.timedelta(seconds=3))  # lease is 2 s
    assert later.run_one() is True
    job = _job(app, job_id)
    assert (job.status, job.attempts) == (DONE, 2) and _notes(app, "slow") == 1


def test_notifications_are_sent_by_the_worker(site, app_of, fixdesk):
    """``fixdesk notify`` queues a Chinese e-mail; ``fixdesk worker --once`` delivers it."""
    import email
    import email.policy

    from aiosmtpd.controller import Controller

    from kernel.site import Site

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        loaded = Site.load(site.path)
        loaded.config.smtp = {"host": "127.0.0.1", "port": port,
                              "sender": "service@huadong.example"}
        loaded.save()
        queued = fixdesk("--site", site.path, "notify", "--to", "zhou@example.com")
        assert queued.code == 0 and "queued as job" in queued.out
        # the notification and the test plugin's hourly sweep
        assert fixdesk("--site", site.path, "worker", "--once").out == "2 jobs run\n"
        assert fixdesk("--site", site.path, "worker", "--once").out == "0 jobs run\n"
    finally:
        controller.stop()
    assert len(received) == 1 and received[0].rcpt_tos == ["zhou@example.com"]
    message = email.message_from_bytes(received[0].content, policy=email.policy.default)
    assert "华东办公设备服务有限公司" in message.get_body().get_content()
    assert message["Subject"] and message["From"] == "service@huadong.example"


def test_other_channels_go_to_plugins_and_follow_branch_hook_switches(make_site, app_of, fixdesk):
    """SMS is delivered by a plugin; JD switches the automatic SMS off (SCENARIOS.md, 8)."""
    import fdt_alpha.plugin as alpha

    from kernel.notifications import notify

    site = make_site(["fdt_notes", "fdt_tags", "fdt_alpha"], demo=True, branch_code="SH")
    app = app_of(site)
    alpha.SENT_SMS.clear()
    fixdesk("--site", site.path, "hooks", "disable", "fdt_alpha", "fixdesk_send_notification",
            "--branch", "JD")
    with app.context(branch="SH") as ctx:
        sh_job = notify(ctx, channel="sms", to="13800135678", template="test",
                        context={"company": "华东"}).id
    with app.context(branch="JD") as ctx:
        jd_job = notify(ctx, channel="sms", to="13900000000", template="test",
                        context={"company": "华东"}, locale="en").id
    worker = Worker(app)
    while worker.run_one():
        pass
    assert [m.to for m in alpha.SENT_SMS] == ["13800135678"]
    assert "华东" in alpha.SENT_SMS[0].body
    assert _job(app, sh_job).status == DONE
    jd = _job(app, jd_job)
    assert jd.status == QUEUED and "no plugin delivers channel 'sms'" in jd.last_error

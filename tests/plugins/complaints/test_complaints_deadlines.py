"""A complaint's deadlines in business hours, waiting on the customer, and escalation up
the branch's chain, on SQLite and PostgreSQL, with complaints alone and a frozen clock.

Both branches work Mon–Fri 09:00–12:00 and 13:00–18:00 (the kernel's default hours);
March 2026 has no public holiday. Deadlines checked by hand:

- received Fri 2026-03-13 17:00 (one working hour left that day):
  critical, 2 h to respond → Mon 10:00, 16 h to resolve → Tue 17:00;
  serious, 4 h → Mon 12:00, 24 h → Wed 17:00;
  ordinary with SH's own 3 h → Mon 11:00 (JD keeps 8 h → Mon 17:00), 40 h → Fri 03-20
  17:00.
- received Mon 2026-03-16 10:00, ordinary: 8 h → Tue 10:00, 40 h (7 + 4 × 8 + 1) → Mon
  03-23 10:00; it waits on the customer from Mon 11:00 to Tue 10:30, i.e. 1 h + 5 h +
  1.5 h = 7.5 working hours, so the response moves to Wed 09:30 and the resolution to
  Tue 03-24 09:30.
- escalation (chain supervisor, manager, vice general manager; a step every 8 working
  hours of an overdue resolution): level 1 after Tue 03-17 10:00, level 2 after Mon 03-23
  10:00, level 3 after Tue 03-24 10:00.
"""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from kernel.auth import User, add_user
from kernel.branch_calendar import add_working_hours
from kernel.jobs import Job, Worker, enqueue_due_schedules
from kernel.masterdata import get_branch
from kernel.models import Customer
from kernel.settings import set_setting
from plugins.complaints import escalation, services, views
from plugins.complaints.models import Complaint, Escalation

SHANGHAI = ZoneInfo("Asia/Shanghai")
VGM_MAIL = "qianfz@example.com"


def local(text: str) -> dt.datetime:
    """A local Shanghai time as an aware UTC instant."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(dt.UTC)


class Clock:
    """The site's frozen clock: ``clock.set("2026-03-16 10:00")``."""

    def __init__(self, app):
        self.now = local("2026-03-13 17:30")
        app.clock = lambda: self.now

    def set(self, text: str) -> None:
        self.now = local(text)


@pytest.fixture
def site(complaints_app):
    """The complaints site with its clock frozen (``site.clock``), everyone with an
    e-mail address, a branch manager for SH (``zhoujl``) and the vice general manager
    (``qianfz``, company-wide)."""
    app = complaints_app
    app.clock_control = Clock(app)
    with app.context(user="admin", branch="SH") as ctx:
        sh = get_branch(ctx, "SH")
        add_user(ctx, "zhoujl", "周经理", None, sh, roles=["branch_manager"])
        add_user(ctx, "qianfz", "钱副总", None, sh, roles=["vice_general_manager"],
                 company_wide=True, email=VGM_MAIL)
        for user in ctx.session.scalars(select(User)):
            user.email = user.email or f"{user.username}@example.com"
    return app


def register(ctx, **values) -> Complaint:
    customer = ctx.session.scalars(select(Customer).where(
        Customer.branch_id == ctx.branch.id).order_by(Customer.id)).first()
    return services.register(ctx, **{"customer_id": customer.id, "topic": "complaint",
                                     "category": "human_factors", "severity": "ordinary",
                                     "channel": "phone", "description": "维修工程师迟到",
                                     **values})


def shown(instant: dt.datetime) -> str:
    return instant.astimezone(SHANGHAI).strftime("%a %m-%d %H:%M")


def escalations(ctx, complaint_id) -> list[tuple[int, str, str]]:
    return [(e.level, e.role, str(e.deadline)) for e in ctx.session.scalars(
        select(Escalation).where(Escalation.complaint_id == complaint_id)
        .order_by(Escalation.level))]


def told(ctx) -> list[tuple[str, int]]:
    """(recipient, level) of every escalation message queued."""
    return sorted((job.payload["to"], job.payload["context"]["level"]) for job in
                  ctx.session.scalars(select(Job).where(Job.name == "kernel.notify"))
                  if job.payload["template"] == "complaints_escalated")


def test_deadlines_count_working_hours_by_severity_and_branch(site):
    with site.context(user="admin", branch="SH") as ctx:
        set_setting(ctx, "complaints.response_hours_ordinary", "3", branch=ctx.branch)
    friday = local("2026-03-13 17:00")
    found = {}
    for branch in ("SH", "JD"):
        with site.context(user="admin", branch=branch) as ctx:
            for severity in ("critical", "serious", "ordinary"):
                made = register(ctx, severity=severity, received_at=friday)
                assert made.number.startswith(f"CP-{branch}-")
                found[branch, severity] = (shown(made.response_due_at),
                                           shown(made.resolution_due_at))
                # the kernel's calendar, asked directly, agrees
                assert made.resolution_due_at == add_working_hours(
                    ctx, friday, {"critical": 16, "serious": 24, "ordinary": 40}[severity],
                    ctx.branch)
    assert found == {
        ("SH", "critical"): ("Mon 03-16 10:00", "Tue 03-17 17:00"),
        ("SH", "serious"): ("Mon 03-16 12:00", "Wed 03-18 17:00"),
        ("SH", "ordinary"): ("Mon 03-16 11:00", "Fri 03-20 17:00"),
        ("JD", "critical"): ("Mon 03-16 10:00", "Tue 03-17 17:00"),
        ("JD", "serious"): ("Mon 03-16 12:00", "Wed 03-18 17:00"),
        ("JD", "ordinary"): ("Mon 03-16 17:00", "Fri 03-20 17:00"),
    }
    # a reclassified complaint follows its new severity from the same receipt
    with site.context(user="admin", branch="SH") as ctx:
        made = register(ctx, received_at=friday)
        services.reclassify(ctx, made, severity="serious", reason="客户再次来电")
        assert (shown(made.response_due_at), shown(made.resolution_due_at)) == \
            ("Mon 03-16 12:00", "Wed 03-18 17:00")


def test_waiting_on_the_customer_stops_the_clock_and_moves_the_deadlines(site):
    clock = site.clock_control
    clock.set("2026-03-16 10:00")
    with site.context(user="wufang", branch="SH") as ctx:
        made = register(ctx)
        cid = made.id
        assert (shown(made.response_due_at), shown(made.resolution_due_at)) == \
            ("Tue 03-17 10:00", "Mon 03-23 10:00")
    clock.set("2026-03-16 11:00")
    with site.context(user="wufang", branch="SH") as ctx:
        services.wait(ctx, ctx.session.get(Complaint, cid), reason="等客户提供机器序列号")
    clock.set("2026-03-17 10:15")  # past the first deadline, but the clock stands still
    with site.context() as ctx:
        assert escalation.escalate_due(ctx) == 0
        complaint = ctx.session.get(Complaint, cid)
        assert complaint.escalation_level == 0 and escalations(ctx, cid) == []
    with site.context(user="wufang", branch="SH") as ctx:
        summary = dict(views.deadline_summary(ctx, ctx.session.get(Complaint, cid)).summary)
        assert "stopped while waiting on the customer" in summary["First response due"]
        assert summary["Waiting on customer since"].startswith("2026-03-16 11:00")
        assert summary["Working time waited so far"] == "7 h 15 min"
    clock.set("2026-03-17 10:30")
    with site.context(user="wufang", branch="SH") as ctx:
        complaint = services.resume(ctx, ctx.session.get(Complaint, cid))
        assert complaint.paused_minutes == 450
        assert (shown(complaint.response_due_at), shown(complaint.resolution_due_at)) == \
            ("Wed 03-18 09:30", "Tue 03-24 09:30")
        assert complaint.paused_at is None and complaint.pause_reason is None
    with site.context() as ctx:
        assert escalation.escalate_due(ctx) == 0  # the moved deadline is not yet due
    clock.set("2026-03-18 09:45")
    with site.context() as ctx:
        assert escalation.escalate_due(ctx) == 1
        assert escalations(ctx, cid) == [(1, "service_supervisor", "response")]
    with site.context(user="wufang", branch="SH") as ctx:
        summary = dict(views.deadline_summary(ctx, ctx.session.get(Complaint, cid)).summary)
        assert summary["Overdue by"] == "15 min (First response due)"
        assert summary["Deadlines moved by waiting"] == "7 h 30 min"
        assert summary["Escalated to"] == "level 1: service_supervisor"


def test_escalation_tells_each_level_of_the_branchs_chain_once(site):
    clock = site.clock_control
    with site.context(user="admin", branch="JD") as ctx:
        set_setting(ctx, "complaints.escalation_chain", "branch_manager,vice_general_manager",
                    branch=ctx.branch)
    clock.set("2026-03-16 10:00")
    with site.context(user="wufang", branch="SH") as ctx:
        sh = register(ctx).id
        paused = register(ctx).id
        services.wait(ctx, ctx.session.get(Complaint, paused), reason="等客户回电")
    with site.context(user="huangtao", branch="JD") as ctx:
        jd = register(ctx).id

    clock.set("2026-03-17 10:30")  # past the first response of all three
    for _run in range(2):  # the job run twice (a retry, a second worker later)
        with site.context() as ctx:
            escalation.escalate_due(ctx)
    with site.context() as ctx:
        assert escalations(ctx, sh) == [(1, "service_supervisor", "response")]
        assert escalations(ctx, jd) == [(1, "branch_manager", "response")]
        assert escalations(ctx, paused) == []
        assert told(ctx) == [("huangtao@example.com", 1), ("wufang@example.com", 1)]
        assert ctx.session.get(Complaint, sh).escalation_level == 1

    with site.context(user="wufang", branch="SH") as ctx:  # a late first response
        services.record_contact(ctx, ctx.session.get(Complaint, sh), summary="致电致歉")
    clock.set("2026-03-23 10:30")  # past the resolution: the next level, through the job
    with site.context(user="wufang", branch="SH") as ctx:  # typed in a week late
        late = register(ctx, received_at=local("2026-03-16 10:00")).id
    with site.context() as ctx:
        assert "complaints.escalate" in {s.name for s in ctx.app.schedules}
    assert "complaints.escalate" in enqueue_due_schedules(site, clock.now)
    worker = Worker(site, clock=lambda: clock.now)
    with site.context() as ctx:
        job_id = ctx.session.scalar(select(Job.id).where(Job.name == "complaints.escalate"))
    assert worker.run_one(job_id)
    with site.context() as ctx:
        assert ctx.session.get(Job, job_id).status == "done"
        assert escalations(ctx, sh) == [(1, "service_supervisor", "response"),
                                        (2, "branch_manager", "resolution")]
        # two levels at once: each names the deadline that made its step
        assert escalations(ctx, late) == escalations(ctx, sh)
        # JD's chain has two levels: its second is the vice general manager
        assert escalations(ctx, jd) == [(1, "branch_manager", "response"),
                                        (2, "vice_general_manager", "resolution")]

    clock.set("2026-03-24 10:15")  # eight working hours later: SH's third level
    for _run in range(2):
        with site.context() as ctx:
            escalation.escalate_due(ctx)
    with site.context() as ctx:
        assert [level for level, *_rest in escalations(ctx, sh)] == [1, 2, 3]
        assert escalations(ctx, late) == escalations(ctx, sh)
        assert len(escalations(ctx, jd)) == 2  # the end of JD's chain
        assert told(ctx) == sorted([
            *[("wufang@example.com", 1), ("zhoujl@example.com", 2), (VGM_MAIL, 3)] * 2,
            ("huangtao@example.com", 1), (VGM_MAIL, 2)])


def test_two_workers_at_once_never_tell_a_level_twice(site):
    """Two real connections on PostgreSQL, each in its own thread and context, escalate
    the same overdue complaints at the same moment."""
    if site.engine.dialect.name != "postgresql":
        pytest.skip("needs two connections writing at once: PostgreSQL")
    clock = site.clock_control
    clock.set("2026-03-16 10:00")
    with site.context(user="wufang", branch="SH") as ctx:
        many = [register(ctx).id for _n in range(12)]
    clock.set("2026-03-17 10:30")
    single = None
    start = threading.Barrier(2, timeout=30)
    problems = []

    def job():
        try:
            with site.context() as ctx:
                start.wait()
                escalation.escalate_due(ctx)
        except Exception as exc:  # reported below, never lost in the thread
            problems.append(exc)

    def direct():
        """Both read the complaint at level 0, then both escalate it: the unique row
        lets one of them through."""
        try:
            with site.context() as ctx:
                complaint = ctx.session.get(Complaint, single)
                assert complaint.escalation_level == 0
                start.wait()
                escalation.escalate(ctx, complaint, ctx.now())
        except Exception as exc:  # reported below, never lost in the thread
            problems.append(exc)

    for target in (job, direct):
        if target is direct:  # one more overdue complaint, left for the direct race
            with site.context(user="wufang", branch="SH") as ctx:
                single = register(ctx, received_at=local("2026-03-16 10:00")).id
        threads = [threading.Thread(target=target) for _n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not problems, problems
    with site.context() as ctx:
        rows = ctx.session.execute(select(Escalation.complaint_id, func.count())
                                   .group_by(Escalation.complaint_id)).all()
        assert dict(rows) == {cid: 1 for cid in [*many, single]}
        assert told(ctx) == [("wufang@example.com", 1)] * (len(many) + 1)
        assert {ctx.session.get(Complaint, cid).escalation_level
                for cid in [*many, single]} == {1}


"""Engineer commission (R28) from real repair jobs, made through repair's services by the
demo's staff on fixed dates (SQLite and PostgreSQL).

The rates of these tests (no demo price rules): labour ¥300.00 for a medium job and
¥250.00 for an install, whatever the grade; commission on repair jobs 10 % of the labour
value + ¥5.00 per job, on installs 8 %; deductions the settings' defaults (¥20.00 for a
missed arrival deadline, ¥30.00 for a survey rating of 2 or less).

wanggong's (E001 王建国) November 2026, hand-checked:

======  ==========  ===================================  ========
job     day         lines                                 net
======  ==========  ===================================  ========
A       Mon 2 Nov   repair, on time: 30.00 + 5.00         35.00
B       Tue 3 Nov   repair, arrived 40 minutes late:      15.00
                    35.00 − 20.00
C       Wed 4 Nov   install: 8 % × 250.00 = 20.00;        −10.00
                    survey attitude 1, skill 2: − 30.00
======  ==========  ===================================  ========

earned 90.00, deductions −50.00, reversals 0.00, total ¥40.00 (肆拾元整).
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from decimal import Decimal as D
from zoneinfo import ZoneInfo

from pdf_tools import pdftotext
from sqlalchemy import func, select

from kernel.models import Employee, Grade
from plugins.billing import commission, commission_glue
from plugins.billing.models import (
    CommissionEntry,
    CommissionKind,
    CommissionRate,
    Difficulty,
    LabourRate,
    OrderTerms,
    ServiceType,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
SH_MACHINE, JD_MACHINE = "E335M820091", "XQH30112"
NOVEMBER = dt.date(2026, 11, 1)


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@contextmanager
def acting(app, user: str | None, when: str | dt.datetime):
    """A transaction as a demo user with the clock frozen at ``when`` (Shanghai time)."""
    moment = local(when) if isinstance(when, str) else when
    with app.context(user=user, clock=lambda: moment) as ctx:
        yield ctx


def _rates(app) -> None:
    """The rates of the module's docstring."""
    with app.context(user="admin") as ctx:
        for grade in Grade:
            ctx.session.add(LabourRate(grade=grade, difficulty=Difficulty.MEDIUM,
                                       amount=D("300.00")))
            ctx.session.add(LabourRate(grade=grade, difficulty=Difficulty.INSTALL,
                                       amount=D("250.00")))
        ctx.session.add(CommissionRate(service_type=ServiceType.REPAIR, percent=D("10.00"),
                                       per_job=D("5.00")))
        ctx.session.add(CommissionRate(service_type=ServiceType.INSTALL, percent=D("8.00"),
                                       per_job=D("0.00")))


STAFF = {False: ("zhengli", "wufang", "wanggong", "E001", SH_MACHINE),
         True: ("hejuan", "huangtao", "zhaolei", "E006", JD_MACHINE)}


def _job(app, day: str, *, late: bool = False, install: bool = False, jd: bool = False,
         audit: bool = True, close: bool = True) -> str:
    """A warranty job reported at 09:00 on ``day`` and repaired on site by the branch's
    demo engineer: arrived an hour after the report, or (``late``) 40 working minutes
    after the deadline; an install when ``install``; audited (passed) and closed. Its
    number."""
    from plugins.repair import services
    from plugins.repair.models import WorkOrder

    front, boss, engineer, code, machine = STAFF[jd]
    with acting(app, front, f"{day} 09:00") as ctx:
        order = services.register(ctx, channel="phone", equipment=machine,
                                   fault_description="卡纸", category="C",
                                   category_reason="保修期内")
        number, deadline = order.number, order.deadline_at
        if install:
            ctx.session.add(OrderTerms(record_id=order.id, difficulty=Difficulty.INSTALL))
    with acting(app, boss, f"{day} 09:10") as ctx:
        services.dispatch(ctx, number, engineer=code)
    arrival = deadline + dt.timedelta(minutes=40) if late else local(f"{day} 10:00")
    with acting(app, engineer, arrival) as ctx:
        services.record_arrival(ctx, number)
        services.start(ctx, number)
        services.complete(ctx, number, method="清理搓纸轮", cause="搓纸轮脏污")
    later = arrival + dt.timedelta(minutes=30)
    if audit:
        with acting(app, boss, later) as ctx:
            services.audit(ctx, number, passed=True)
    if close:
        with acting(app, front, later + dt.timedelta(minutes=5)) as ctx:
            services.close(ctx, number)
    with app.sessions() as session:
        order = session.scalar(select(WorkOrder).where(WorkOrder.number == number))
        assert order.deadline_met is (not late)
        assert order.missed_minutes == (40 if late else 0)
    return number


def _survey(app, number: str, when: str, **ratings) -> None:
    from plugins.repair import callbacks
    from plugins.repair.events import load_order

    with acting(app, "zhengli", when) as ctx:
        callback = callbacks.callback_of(ctx, load_order(ctx, number, "read"))
        callbacks.record_survey(ctx, callback.id, **{
            "attitude": 4, "skill": 4, "arrival": 4, "promise": 4, **ratings})


def _lines(app, number: str) -> list[tuple]:
    """(completion, code, kind, amount) of the order's commission lines, in order."""
    with app.sessions() as session:
        return [(e.completion, e.code.split(":")[0], CommissionKind(e.kind).value, e.amount)
                for e in session.scalars(select(CommissionEntry).where(
                    CommissionEntry.order_number == number).order_by(CommissionEntry.id))]


def _employee_id(app, code: str) -> int:
    with app.sessions() as session:
        return session.scalar(select(Employee.id).where(Employee.code == code))


# ---------------------------------------------------------------------------
# the hand-checked month
# ---------------------------------------------------------------------------


def test_a_commission_month_with_a_late_job_and_a_poor_rating(repair_billing_app, fixdesk):
    app = repair_billing_app
    _rates(app)
    on_time = _job(app, "2026-11-02")
    late = _job(app, "2026-11-03", late=True)
    rated = _job(app, "2026-11-04", install=True)
    _survey(app, rated, "2026-11-05 10:00", attitude=1, skill=2, arrival=4, promise=3)
    _survey(app, on_time, "2026-11-05 10:05", attitude=3)  # fine: nothing deducted

    assert _lines(app, on_time) == [(1, "earn", "earned", D("35.00"))]
    assert _lines(app, late) == [(1, "earn", "earned", D("35.00")),
                                 (1, "overdue", "deduction", D("-20.00"))]
    assert _lines(app, rated) == [(1, "earn", "earned", D("20.00")),
                                  (1, "rating", "deduction", D("-30.00"))]
    wanggong = _employee_id(app, "E001")
    with acting(app, "wufang", "2026-11-30 17:00") as ctx:
        month = commission.statement(ctx, wanggong, NOVEMBER)
        assert (month["earned"], month["deductions"], month["reversals"], month["total"],
                month["jobs"]) == (D("90.00"), D("-50.00"), D("0.00"), D("40.00"), 3)
        assert month["total"] == sum(line.amount for line in month["lines"])
        reasons = {line.code.split(":")[0]: line.reason for line in month["lines"]}
        assert reasons["overdue"] == "超过到场时限 40 分钟"
        assert reasons["rating"] == "差评：服务态度 1，技术水平 2"
        assert {line.month for line in month["lines"]} == {NOVEMBER}
        assert commission.by_engineer(ctx, "2026-11") == [{
            "engineer_id": wanggong, "code": "E001", "name": "王建国", "jobs": 3,
            "earned": D("90.00"), "deductions": D("-50.00"), "reversals": D("0.00"),
            "total": D("40.00")}]
        assert commission.by_engineer(ctx, "2026-10") == []

        # 提成明细表: this month's, in Chinese and English
        from kernel.documents.service import print_records

        chinese = pdftotext(print_records(ctx, "billing.commission_statement", [wanggong],
                                          locale="zh_CN", preview=True))
        english = pdftotext(print_records(ctx, "billing.commission_statement", [wanggong],
                                          locale="en", preview=True))
    for expected in ("华东办公设备服务有限公司", "提成明细表", "王建国", "E001-202611",
                     "2026年11月", on_time, late, rated, "提成", "超过到场时限 40 分钟",
                     "差评：服务态度 1，技术水平 2",
                     "¥35.00", "-¥20.00", "-¥30.00", "¥90.00", "-¥50.00", "¥40.00",
                     "肆拾元整", "维修", "安装", "工程师确认"):
        assert expected in chinese, expected
    for expected in ("Commission statement", "November 2026", "Commission earned",
                     "Missed arrival deadline", "Poor survey rating", "Commission payable",
                     "-CN¥20.00", "CN¥40.00", "肆拾元整", "Engineer's confirmation"):
        assert expected in english, expected

    # last month's paper in December is November's
    with acting(app, "wufang", "2026-12-01 09:00") as ctx:
        december = pdftotext(print_records(ctx, "billing.commission_statement_previous",
                                           [wanggong], locale="zh_CN", preview=True))
    assert "E001-202611" in december and "肆拾元整" in december

    # fixdesk billing commission: the month's totals, one engineer's lines, a bad month
    site = app.site.path
    done = fixdesk("--site", site, "billing", "commission", "--month", "2026-11")
    assert done.code == 0, done
    rows = [line.split("\t") for line in done.out.splitlines()]
    assert rows[1] == ["E001", "王建国", "3", "90.00", "-50.00", "0.00", "40.00"]
    assert rows[-1][0] != "E001" and rows[-1][2:] == ["3", "90.00", "-50.00", "0.00", "40.00"]
    done = fixdesk("--site", site, "billing", "commission", "--month", "2026-11",
                   "--engineer", "E001")
    assert done.code == 0, done
    rows = [line.split("\t") for line in done.out.splitlines()]
    assert [row[1] for row in rows[1:6]] == [on_time, late, late, rated, rated]
    assert rows[-1][6] == "40.00"
    for bad in ("2026-13", "November"):
        refused = fixdesk("--site", site, "billing", "commission", "--month", bad)
        assert refused.code == 2 and refused.out == ""
        assert len(refused.err.strip().splitlines()) == 1 and "2026-11" in refused.err
    refused = fixdesk("--site", site, "billing", "commission", "--engineer", "E999")
    assert refused.code == 2 and "E999" in refused.err


# ---------------------------------------------------------------------------
# reversals
# ---------------------------------------------------------------------------


def test_failed_spot_check_and_reopening_reverse_and_rework_earns_again(repair_billing_app):
    from plugins.repair import quality, services
    from plugins.repair.models import CheckStatus, QualityCheck

    app = repair_billing_app
    _rates(app)
    checked = _job(app, "2026-11-02", late=True)
    with acting(app, "wufang", "2026-11-02 17:30") as ctx:
        order = quality.choose_for_check(ctx, checked)
        check = ctx.session.scalar(select(QualityCheck).where(
            QualityCheck.order_id == order.id, QualityCheck.status == CheckStatus.PENDING))
        quality.record_check(ctx, check.id, passed=False, findings="搓纸轮未更换")
        check_id = check.id
    assert _lines(app, checked) == [(1, "earn", "earned", D("35.00")),
                                    (1, "overdue", "deduction", D("-20.00")),
                                    (1, "reverse", "reversal", D("-15.00"))]
    with app.sessions() as session:
        reason = session.scalar(select(CommissionEntry.reason).where(
            CommissionEntry.code == "reverse"))
    assert str(check_id) in reason and "搓纸轮未更换" in reason and "抽检" in reason
    # reworked in December: completed a second time and passed: earns again, in December
    with acting(app, "wanggong", "2026-12-01 10:00") as ctx:
        services.complete(ctx, checked, method="更换搓纸轮", cause="搓纸轮磨损")
    with acting(app, "wufang", "2026-12-01 11:00") as ctx:
        services.audit(ctx, checked, passed=True)
    assert _lines(app, checked)[3:] == [(2, "earn", "earned", D("35.00")),
                                        (2, "overdue", "deduction", D("-20.00"))]

    # reopened after it was closed: the second completion's earnings are reversed
    reopened = _job(app, "2026-11-03")
    _survey(app, reopened, "2026-11-03 15:00", promise=2)
    with acting(app, "wufang", "2026-11-04 09:00") as ctx:
        services.reopen(ctx, reopened, reason="客户反映仍卡纸")
    assert _lines(app, reopened) == [(1, "earn", "earned", D("35.00")),
                                     (1, "rating", "deduction", D("-30.00")),
                                     (1, "reverse", "reversal", D("-5.00"))]
    with app.sessions() as session:
        reason = session.scalar(select(CommissionEntry.reason).where(
            CommissionEntry.order_number == reopened, CommissionEntry.code == "reverse"))
    assert "客户反映仍卡纸" in reason and "重新打开" in reason
    # repaired again and passed: the survey still stands against the job
    with acting(app, "wanggong", "2026-11-04 10:00") as ctx:
        services.start(ctx, reopened)
        services.complete(ctx, reopened, method="更换搓纸轮", cause="搓纸轮磨损")
    with acting(app, "wufang", "2026-11-04 11:00") as ctx:
        services.audit(ctx, reopened, passed=True)
    assert _lines(app, reopened)[3:] == [(2, "earn", "earned", D("35.00")),
                                         (2, "rating", "deduction", D("-30.00"))]

    wanggong = _employee_id(app, "E001")
    with acting(app, "wufang", "2026-12-01 12:00") as ctx:
        november = commission.statement(ctx, wanggong, NOVEMBER)
        december = commission.statement(ctx, wanggong, dt.date(2026, 12, 1))
    # November: the checked job 35 − 20 − 15; the reopened one 35 − 30 − 5, then 35 − 30
    assert (november["earned"], november["deductions"], november["reversals"],
            november["total"], november["jobs"]) == \
        (D("105.00"), D("-80.00"), D("-20.00"), D("5.00"), 2)
    assert december["total"] == D("15.00")  # the checked job's second earning


def test_every_event_twice_writes_once(repair_billing_app):
    from plugins.repair.events import load_order

    app = repair_billing_app
    _rates(app)
    number = _job(app, "2026-11-02", late=True)
    _survey(app, number, "2026-11-02 16:00", skill=1)
    before = _lines(app, number)
    assert [line[1] for line in before] == ["earn", "overdue", "rating"]
    with acting(app, "wufang", "2026-11-03 09:00") as ctx:
        order = load_order(ctx, number, "read")
        commission_glue.repair_order_audited(ctx=ctx, order=order, passed=True)
        callback = ctx.session.scalar(select(app.entity_class("repair_callback")).where(
            app.entity_class("repair_callback").order_id == order.id))
        commission_glue.repair_survey_answered(ctx=ctx, order=order, callback=callback)
    assert _lines(app, number) == before
    with acting(app, "wufang", "2026-11-03 09:30") as ctx:
        order = load_order(ctx, number, "read")
        for _twice in range(2):
            commission_glue.repair_order_status_changed(
                ctx=ctx, order=order, event="reopen", reason="重复投递")
    assert [line[1:3] for line in _lines(app, number)][-1] == ("reverse", "reversal")
    assert len(_lines(app, number)) == 4
    # a line another transaction wrote first: the insert fails in its savepoint only
    with acting(app, "wufang", "2026-11-03 10:00") as ctx:
        taken = ctx.session.scalar(select(CommissionEntry).where(
            CommissionEntry.order_number == number, CommissionEntry.code == "earn"))
        copy = CommissionEntry(**{column: getattr(taken, column) for column in (
            "company_id", "branch_id", "engineer_id", "order_id", "order_number",
            "completion", "code", "kind", "service_type", "month", "base", "rate", "amount",
            "reason", "at")})
        assert commission.insert_once(ctx, copy) is False
        assert ctx.session.scalar(select(func.count()).select_from(CommissionEntry)) == 4
    assert len(_lines(app, number)) == 4


# ---------------------------------------------------------------------------
# switched off per branch
# ---------------------------------------------------------------------------


def test_switched_off_for_jd_earns_nothing_there(repair_billing_app, fixdesk):
    app = repair_billing_app
    _rates(app)
    done = fixdesk("--site", app.site.path, "hooks", "disable", "billing.commission",
                   "repair_order_audited", "--branch", "JD")
    assert done.code == 0, done
    jd = _job(app, "2026-11-02", jd=True)
    sh = _job(app, "2026-11-02")
    assert _lines(app, jd) == []
    assert _lines(app, sh) == [(1, "earn", "earned", D("35.00"))]
    # a survey answered before the audit is deducted when the job earns
    surveyed = _job(app, "2026-11-03", audit=False)
    _survey(app, surveyed, "2026-11-03 14:00", arrival=1)
    assert _lines(app, surveyed) == []
    with acting(app, "wufang", "2026-11-03 15:00") as ctx:
        from plugins.repair import services

        services.audit(ctx, surveyed, passed=True)
    assert _lines(app, surveyed) == [(1, "earn", "earned", D("35.00")),
                                     (1, "rating", "deduction", D("-30.00"))]
    # audited again and failed: what it earned is reversed, naming the audit's note
    with acting(app, "wufang", "2026-11-04 09:00") as ctx:
        services.audit(ctx, surveyed, passed=False, note="维修报告缺少更换记录")
    assert _lines(app, surveyed)[-1] == (1, "reverse", "reversal", D("-5.00"))
    with app.sessions() as session:
        assert "维修报告缺少更换记录" in session.scalar(select(CommissionEntry.reason).where(
            CommissionEntry.order_number == surveyed, CommissionEntry.code == "reverse"))
    # invoicing is a part of its own: switching commission off leaves it on
    listed = fixdesk("--site", app.site.path, "hooks", "list", "--branch", "JD")
    states = {tuple(line.split("\t")[:2]): line.split("\t")[2]
              for line in listed.out.splitlines()[1:]}
    assert states[("billing.commission", "repair_order_audited")] != \
        states[("billing.commission", "repair_survey_answered")]

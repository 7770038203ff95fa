"""Dispatch suggestions and queue (R7, R9), a returning customer's history (R2), the
carry-in register (R13), and the scheduled jobs: overdue jobs (R8, R15) and contract
expiry notices (R20). SQLite and PostgreSQL.

The site has the kernel's demo master data only (no repair demo history), so every order
and every count here is made by the test: the branches SH (urban) and JD (suburban), the
engineers E001–E008, the customers C0001–C0006 of ``kernel/demo.py``.

Working hours are 09:00–12:00 and 13:00–18:00 on weekdays; 2026-11-30 is a Monday.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kernel import Conflict, NotFound, ValidationError, hookimpl
from kernel.auth import PermissionDenied, add_user, create_token, get_user
from kernel.demo import load_master_data
from kernel.i18n import use_locale
from kernel.jobs import Job, Worker
from kernel.masterdata import get_branch
from kernel.migrate import schema_differences
from kernel.models import Customer
from kernel.settings import set_setting
from kernel.web.app import create_app
from plugins.repair import customer_history, dispatching, services
from plugins.repair.models import MaintenanceContract, StatusChange, UnitLog, WorkOrder

from .conftest import local

SUPERVISOR_MAIL = "wufang@example.com"


def _prepare(app) -> None:
    """Master data; wufang (SH supervisor) reads English mail; a second SH supervisor has
    no e-mail address (gets nothing); huangtao (JD) has no e-mail address either."""
    with app.context() as ctx:
        load_master_data(ctx)
        add_user(ctx, "nomail", "无邮箱主任", "password-123", get_branch(ctx, "SH"),
                 roles=["service_supervisor"])
    with app.context() as ctx:
        boss = get_user(ctx.session, "wufang")
        boss.email, boss.locale = SUPERVISOR_MAIL, "en"


@pytest.fixture
def app(make_site, app_of):
    site = make_site(["repair"], branch_code="SH", branch_name="上海服务中心")
    started = app_of(site)
    _prepare(started)
    started.site_path = site.path
    return started


@pytest.fixture
def at(app):
    """``with at("wufang", "2026-11-30 10:20") as ctx:`` — a transaction as a user with the
    clock frozen at that Shanghai time."""

    @contextmanager
    def open_context(username: str | None, when: str):
        moment = local(when)
        with app.context(user=username, clock=lambda: moment) as ctx:
            yield ctx

    return open_context


@pytest.fixture
def outbox(monkeypatch):
    """E-mails the worker delivers, captured instead of sent."""
    sent = []

    def fake_send(settings, message):
        sent.append(message)
        return f"<{len(sent)}@test>"

    monkeypatch.setattr("kernel.notify.send_email", fake_send)
    return sent


def _run_worker(app, when: str) -> int:
    moment = local(when).astimezone(dt.UTC)
    return Worker(app, clock=lambda: moment).run(once=True)


def _notify_jobs(app) -> list[tuple[str, str, str]]:
    with app.sessions() as session:
        jobs = session.scalars(select(Job).where(Job.name == "kernel.notify").order_by(Job.id))
        return [(j.payload["to"], j.payload["template"], j.payload["context"]["number"])
                for j in jobs]


def _register(ctx, equipment: str, fault: str = "复印机卡纸", **kwargs) -> str:
    return services.register(ctx, channel=kwargs.pop("channel", "phone"),
                             equipment=equipment, fault_description=fault, **kwargs).number


def _order(app, number: str) -> WorkOrder:
    with app.sessions() as session:
        return session.scalar(select(WorkOrder).where(WorkOrder.number == number))


def _events(app, number: str) -> list[str]:
    with app.sessions() as session:
        return list(session.scalars(select(StatusChange.event).join(WorkOrder)
                                    .where(WorkOrder.number == number)
                                    .order_by(StatusChange.id)))


# ---------------------------------------------------------------------------
# schema
# ---------------------------------------------------------------------------


def test_migrations_match_the_models(app, fixdesk):
    assert schema_differences(app) == []
    check = fixdesk("--site", app.site_path, "migrate", "--check")
    assert (check.code, check.out) == (0, "schema matches the models\n")


# ---------------------------------------------------------------------------
# dispatch suggestions and the queue (R7, R9)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "fault", "skill"), [
    ("Canon iR 2206", "卡纸", "copier"),  # nothing named: the default skill
    ("Kyocera TASKalfa 2020", "卡纸", "copier"),
    ("HP LaserJet M528", "卡纸", "printer"),
    ("Brother MFC-8530DN", "传真收不到", "fax"),
    ("Brother MFC-8530DN", "打印机不进纸", "printer"),
    (None, "复印机无法打印", "copier"),  # 复印 comes first: "copier that cannot print"
])
def test_needed_skill(app, model, fault, skill):
    order = WorkOrder(model=model, fault_description=fault)
    with app.context() as ctx:
        assert dispatching.needed_skill(ctx, order) == skill


def test_suggestions_rank_branch_skill_region_then_load(app, at):
    with at("zhengli", "2026-11-30 09:00") as ctx:
        busy = [_register(ctx, s) for s in ("G176R400123", "G176R400124", "2LV07781",
                                            "E71835K5N")]
        target = _register(ctx, "QXY20614")  # 周志华, 上海市徐汇区..., a Canon copier
    with at("wufang", "2026-11-30 09:10") as ctx:
        services.dispatch(ctx, busy[0], engineer="E003")
        services.dispatch(ctx, busy[1], engineer="E003")
        services.dispatch(ctx, busy[2], engineer="E001")
        services.dispatch(ctx, busy[3], engineer="E002")
        services.cancel(ctx, busy[3], reason="客户自行修好")  # cancelled: no load
    with at("wufang", "2026-11-30 09:20") as ctx, use_locale("en"):
        rows = dispatching.suggest_engineers(ctx, target)
    # SH + copier + 徐汇: E003 despite 2 open orders; SH + copier: E002 (0, regular),
    # E005 (0, trainee), E001 (1); SH without copier: E004. Office staff S001–S004 are
    # left out; JD's engineers are outside wufang's branch scope.
    assert [(r["rank"], r["code"], r["open_orders"]) for r in rows] == [
        (1, "E003", 2), (2, "E002", 0), (3, "E005", 0), (4, "E001", 1), (5, "E004", 0)]
    assert rows[0]["reasons"] == ["same branch (SH)", "skilled in copier", "covers 徐汇",
                                  "open orders: 2"]
    assert rows[3]["reasons"] == ["same branch (SH)", "skilled in copier",
                                  "covers 浦东, not this address", "open orders: 1"]
    assert (rows[4]["skill_match"], rows[4]["region_match"]) == (False, False)
    with at("admin", "2026-11-30 09:20") as ctx, use_locale("en"):  # sees every branch
        everyone = dispatching.suggest_engineers(ctx, target)
    # then JD: E006 senior, E007 regular (both copier), E008 (printer)
    assert [r["code"] for r in everyone] == ["E003", "E002", "E005", "E001", "E004",
                                             "E006", "E007", "E008"]
    assert everyone[5]["reasons"] == ["other branch (JD)", "skilled in copier",
                                      "covers 嘉定, not this address", "open orders: 0"]
    with at("wufang", "2026-11-30 09:20") as ctx:  # a printer job: the skill decides
        printer = dispatching.suggest_engineers(ctx, target, skill="printer", limit=3)
    assert [r["code"] for r in printer] == ["E003", "E004", "E001"]
    with at("zhengli", "2026-11-30 09:20") as ctx, pytest.raises(PermissionDenied):
        dispatching.suggest_engineers(ctx, target)  # front desk does not dispatch


def test_dispatch_queue_urgent_first_then_oldest(app, at):
    with at("zhengli", "2026-11-27 16:00") as ctx:  # Friday
        friday = _register(ctx, "E335M820091")
    with at("zhengli", "2026-11-27 17:00") as ctx:
        friday_urgent = _register(ctx, "QXY20614", urgent=True)
    with at("zhengli", "2026-11-30 08:50") as ctx:  # Monday morning
        monday = _register(ctx, "G176R400123")
    with at("zhengli", "2026-11-30 09:00") as ctx:
        monday_urgent = _register(ctx, "G176R400124", urgent=True)
        dispatched = _register(ctx, "2LV07781", urgent=True)
    with at("hejuan", "2026-11-27 09:00") as ctx:
        elsewhere = _register(ctx, "LV93X10235")  # JD
    with at("wufang", "2026-11-30 09:05") as ctx:
        services.dispatch(ctx, dispatched, engineer="E001")
        queue = [o.number for o in dispatching.dispatch_queue(ctx, "SH")]
        mine = [o.number for o in dispatching.dispatch_queue(ctx)]  # the user's branch
    assert queue == [friday_urgent, monday_urgent, friday, monday]
    assert mine == queue and elsewhere not in queue
    with at("huangtao", "2026-11-30 09:05") as ctx:
        assert [o.number for o in dispatching.dispatch_queue(ctx, "JD")] == [elsewhere]
    # the same queue as the supervisor's morning report (desk, API, CLI, Excel)
    from kernel.reports.service import run

    with at("wufang", "2026-11-30 09:05") as ctx:
        report = run(ctx, "repair.dispatch_queue", {})
        assert [r["number"] for r in report.rows] == queue
        assert [r["urgent"] for r in report.rows] == [True, True, False, False]


# ---------------------------------------------------------------------------
# history (R2)
# ---------------------------------------------------------------------------


class Complaints:
    """Stands in for the complaints plugin."""

    @hookimpl
    def repair_history_extra(self, ctx, customer):
        return [{"name": "complaints", "title": "Open complaints",
                 "rows": [{"customer": customer.code, "topic": "态度"}]}]


def test_customer_history(app, at):
    with at("wufang", "2026-04-01 09:30") as ctx:
        services.create_contract(ctx, number="BY-2026-018", customer="C0001",
                                 equipment=["E335M820091"], start_date="2026-04-01",
                                 end_date="2027-03-31")
    with at("zhengli", "2026-10-12 10:00") as ctx:
        first = _register(ctx, "E335M820091")
    with at("zhengli", "2026-11-30 10:00") as ctx:
        second = _register(ctx, "E335M820091", urgent=True)
        services.cancel(ctx, second, reason="重复登记")
    with at("zhengli", "2026-11-30 10:05") as ctx:
        third = _register(ctx, "E335M820091")
        _register(ctx, "QXY20614")  # another customer
    with app.sessions() as session:
        shenda = session.scalar(select(Customer.id).where(Customer.code == "C0001"))
    app.pm.register(Complaints(), name="complaints")
    try:
        with at("zhengli", "2026-11-30 10:10") as ctx:
            by_customer = customer_history.customer_history(ctx, customer_id=shenda)
            by_serial = customer_history.customer_history(ctx, serial_no="E335M820091")
    finally:
        app.pm.unregister(name="complaints")
    assert by_customer["customer"]["code"] == "C0001"
    assert [o["number"] for o in by_customer["orders"]] == [third, second, first]
    assert [o["status"] for o in by_customer["orders"]] == ["pending", "cancelled", "pending"]
    assert by_customer["open_orders"] == 2
    assert [(e["serial_no"], e["contracts"]) for e in by_customer["equipment"]] == [
        ("E335M820091", ["BY-2026-018"])]
    assert by_customer["extra"] == [{"name": "complaints", "title": "Open complaints",
                                     "rows": [{"customer": "C0001", "topic": "态度"}]}]
    assert by_serial["orders"] == by_customer["orders"]
    with at("zhengli", "2026-11-30 10:10") as ctx:
        assert customer_history.customer_history(ctx, customer_id=shenda)["extra"] == []
        with pytest.raises(NotFound):
            customer_history.customer_history(ctx, serial_no="NO-SUCH-SERIAL")
        with pytest.raises(ValidationError):
            customer_history.customer_history(ctx, customer_id=shenda, serial_no="QXY20614")
        with pytest.raises(ValidationError):
            customer_history.customer_history(ctx)


# ---------------------------------------------------------------------------
# carry-in register (R13)
# ---------------------------------------------------------------------------


def _unit_log(app, number: str) -> list[tuple[str, str, str | None, str | None]]:
    with app.sessions() as session:
        rows = session.scalars(select(UnitLog).join(WorkOrder)
                               .where(WorkOrder.number == number).order_by(UnitLog.id))
        return [(r.direction.value, r.actor, r.counterpart, r.condition) for r in rows]


def test_carry_in_register(app, at):
    with at("zhengli", "2026-11-30 09:00") as ctx:
        number = _register(ctx, "G176R400123", category="C", category_reason="客户关系")
    with at("wufang", "2026-11-30 09:10") as ctx:
        services.dispatch(ctx, number, engineer="E001")
    with at("wanggong", "2026-11-30 11:00") as ctx:
        services.record_arrival(ctx, number)
        services.receive_unit(ctx, number, condition="右侧盖板有裂纹", counterpart="许主任",
                              promised_at="2026-12-03T17:00+08:00")
        with pytest.raises(Conflict):
            services.receive_unit(ctx, number)  # in already
    order = _order(app, number)
    assert (order.service_mode.value, order.promised_at) == ("carry_in",
                                                             local("2026-12-03 17:00"))
    with at("wanggong", "2026-12-01 10:00") as ctx:
        with pytest.raises(Conflict):
            services.return_unit(ctx, number)  # not repaired yet
        services.start(ctx, number)
        services.complete(ctx, number, method="更换定影组件", cause="定影组件老化", hours="2")
    assert _order(app, number).status.value == "ready_for_pickup"
    with at("zhengli", "2026-12-02 15:00") as ctx:
        services.return_unit(ctx, number, condition="已试印正常", counterpart="许主任")
    assert _order(app, number).status.value == "closed"
    assert _unit_log(app, number) == [("received", "wanggong", "许主任", "右侧盖板有裂纹"),
                                      ("returned", "zhengli", "许主任", "已试印正常")]
    assert _events(app, number)[-3:] == ["complete", "return_unit", "close"]
    assert "receive_unit" in _events(app, number)

    # a walk-in closed with the plain close: the register line goes out with it
    with at("zhengli", "2026-11-30 09:30") as ctx:
        walk_in = _register(ctx, "E71835K5N", channel="walk_in", category="C",
                            category_reason="客户关系")
        services.receive_unit(ctx, walk_in, counterpart="马经理")
    with at("wufang", "2026-11-30 09:40") as ctx:
        services.dispatch(ctx, walk_in, engineer="E004")
        services.start(ctx, walk_in)
        services.complete(ctx, walk_in, method="清洁搓纸轮", cause="搓纸轮积尘")
        services.close(ctx, walk_in)
    assert [row[0] for row in _unit_log(app, walk_in)] == ["received", "returned"]

    # a cancelled order's unit goes back; the order stays cancelled
    with at("zhengli", "2026-11-30 09:50") as ctx:
        gone = _register(ctx, "2LV07781", channel="walk_in")
        services.receive_unit(ctx, gone)
        services.cancel(ctx, gone, reason="客户不修了")
        services.return_unit(ctx, gone, counterpart="许主任")
        with pytest.raises(Conflict):
            services.return_unit(ctx, gone)  # out already
    assert _order(app, gone).status.value == "cancelled"
    assert [row[0] for row in _unit_log(app, gone)] == ["received", "returned"]


# ---------------------------------------------------------------------------
# the overdue job (R8, R15)
# ---------------------------------------------------------------------------


def test_overdue_job_flags_each_late_order_once(app, at, outbox):
    with at("zhengli", "2026-11-30 09:00") as ctx:
        late_a = _register(ctx, "QXY20614")  # deadline 16:00
    with at("zhengli", "2026-11-30 09:10") as ctx:
        paused = _register(ctx, "G176R400123")  # deadline 16:10, clock stopped at 09:30
    with at("zhengli", "2026-11-30 09:20") as ctx:
        arrived = _register(ctx, "G176R400124")  # deadline 16:20, the engineer came
        cancelled = _register(ctx, "2LV07781")
        services.cancel(ctx, cancelled, reason="客户自行修好")
    with at("zhengli", "2026-11-30 09:30") as ctx:
        services.pause(ctx, paused, reason="客户要求下周再来")
    with at("zhengli", "2026-11-30 10:00") as ctx:
        carry_in = _register(ctx, "E71835K5N", channel="walk_in")
        services.receive_unit(ctx, carry_in, condition="无明显损伤", counterpart="马经理",
                              promised_at="2026-11-30T16:30+08:00")
    with at("zhengli", "2026-11-30 10:20") as ctx:
        late_b = _register(ctx, "E335M820091")  # deadline 17:20
    with at("hejuan", "2026-11-30 09:00") as ctx:
        late_jd = _register(ctx, "LV93X10235")  # JD, suburban: deadline 17:00
    with at("wufang", "2026-11-30 09:40") as ctx:
        services.dispatch(ctx, arrived, engineer="E001")
        services.dispatch(ctx, late_b, engineer="E002")
    with at("wanggong", "2026-11-30 11:00") as ctx:
        services.record_arrival(ctx, arrived)
    assert _order(app, late_a).deadline_at == local("2026-11-30 16:00")
    assert _order(app, late_b).deadline_at == local("2026-11-30 17:20")
    assert _order(app, late_jd).deadline_at == local("2026-11-30 17:00")

    _run_worker(app, "2026-11-30 15:58")  # nothing is late yet
    assert _notify_jobs(app) == []
    _run_worker(app, "2026-11-30 17:25")
    for number in (late_a, late_b, late_jd):
        order = _order(app, number)
        assert order.overdue_flagged_at == local("2026-11-30 17:25"), number
        assert _events(app, number)[-1] == "overdue"
    for number in (paused, arrived, cancelled, carry_in):
        assert _order(app, number).overdue_flagged_at is None, number
    assert _order(app, carry_in).promise_flagged_at == local("2026-11-30 17:25")
    assert _events(app, carry_in)[-1] == "late_repair"
    # mail to SH's supervisor with an e-mail (not "nomail"); JD's has none: no message
    assert _notify_jobs(app) == [(SUPERVISOR_MAIL, "repair_overdue", late_a),
                                 (SUPERVISOR_MAIL, "repair_overdue", late_b),
                                 (SUPERVISOR_MAIL, "repair_overdue", carry_in)]
    assert [m.subject for m in outbox] == [
        f"Overdue {late_a}: arrival deadline 2026-11-30 16:00 missed",
        f"Overdue {late_b}: arrival deadline 2026-11-30 17:20 missed",
        f"Late repair {carry_in}: promised date 2026-11-30 16:30 missed"]
    assert all(m.to == SUPERVISOR_MAIL for m in outbox)
    assert "周志华" in outbox[0].body and "Hello 吴芳," in outbox[0].body

    _run_worker(app, "2026-11-30 17:31")  # the next run: flagged once
    _run_worker(app, "2026-12-01 09:00")
    for number in (late_a, late_b, late_jd):
        assert _events(app, number).count("overdue") == 1
        assert _order(app, number).overdue_flagged_at == local("2026-11-30 17:25")
    assert _events(app, carry_in).count("late_repair") == 1
    assert len(_notify_jobs(app)) == 3 and len(outbox) == 3
    with app.sessions() as session:
        entry = session.scalar(select(StatusChange).join(WorkOrder).where(
            WorkOrder.number == late_a, StatusChange.event == "overdue"))
        assert (entry.actor, entry.to_status.value) == ("system", "pending")
        assert entry.detail["deadline_at"].startswith("2026-11-30T08:00")  # 16:00 +08:00
        assert session.scalar(select(Job.status).where(Job.name == "repair.flag_overdue")
                              .order_by(Job.id.desc()).limit(1)) == "done"

    # the engineer's arrival stays missed; the flag stays in the history
    with at("wufang", "2026-12-01 09:10") as ctx:
        services.dispatch(ctx, late_a, engineer="E001")  # wanggong: his own job now
    with at("wanggong", "2026-12-01 09:30") as ctx:
        services.record_arrival(ctx, late_a)
    order = _order(app, late_a)
    assert order.deadline_met is False and "overdue" in _events(app, late_a)


# ---------------------------------------------------------------------------
# contract expiry notices (R20)
# ---------------------------------------------------------------------------


def test_contract_expiry_notices(app, at, outbox):
    with app.context() as ctx:
        boss = get_user(ctx.session, "huangtao")  # JD supervisor and branch manager
        boss.email, boss.locale = "huangtao@example.com", "en"
    ends = {"K-TODAY": "2026-11-30", "K-30": "2026-12-30", "K-31": "2026-12-31",
            "K-PAST": "2026-11-29", "K-CANCELLED": "2026-12-10"}
    with at("wufang", "2026-01-01 09:00") as ctx:
        for number, end in ends.items():
            services.create_contract(ctx, number=number, customer="C0001",
                                     equipment=["E335M820091"], start_date="2026-01-01",
                                     end_date=end)
    with at("huangtao", "2026-01-01 09:00") as ctx:
        services.create_contract(ctx, number="K-JD", customer="C0003",
                                 equipment=["LV93X10235"], start_date="2026-01-01",
                                 end_date="2026-12-15")
    with app.context() as ctx:
        ctx.session.scalar(select(MaintenanceContract).where(
            MaintenanceContract.number == "K-CANCELLED")).cancelled_at = local("2026-06-01 10:00")

    def noticed() -> dict[str, dt.datetime]:
        with app.sessions() as session:
            return dict(session.execute(select(
                MaintenanceContract.number, MaintenanceContract.expiry_notice_at).where(
                MaintenanceContract.expiry_notice_at.is_not(None))).all())

    # 07:55 runs the job due yesterday at 08:00; it counts from today, 2026-11-30
    _run_worker(app, "2026-11-30 07:55")
    assert set(noticed()) == {"K-TODAY", "K-JD", "K-30"}  # 0, 15 and 30 days left
    _run_worker(app, "2026-11-30 08:01")  # today's run: nothing new
    assert set(noticed()) == {"K-TODAY", "K-JD", "K-30"}
    _run_worker(app, "2026-12-01 08:00")
    assert noticed() == {"K-TODAY": local("2026-11-30 07:55"),
                         "K-JD": local("2026-11-30 07:55"),
                         "K-30": local("2026-11-30 07:55"),
                         "K-31": local("2026-12-01 08:00")}
    _run_worker(app, "2026-12-02 08:00")
    assert len(noticed()) == 4  # K-PAST ended, K-CANCELLED cancelled: never
    # one message per contract to each supervisor or manager of its branch with an e-mail
    assert _notify_jobs(app) == [
        (SUPERVISOR_MAIL, "repair_contract_expiry", "K-TODAY"),
        ("huangtao@example.com", "repair_contract_expiry", "K-JD"),
        (SUPERVISOR_MAIL, "repair_contract_expiry", "K-30"),
        (SUPERVISOR_MAIL, "repair_contract_expiry", "K-31")]
    assert outbox[2].subject == "Maintenance contract K-30 ends on 2026-12-30"
    assert "in 30 days" in outbox[2].body and "E335M820091" in outbox[2].body
    assert outbox[1].to == "huangtao@example.com"


def test_contract_notice_days_setting(app, at):
    with at("wufang", "2026-01-01 09:00") as ctx:
        services.create_contract(ctx, number="K-60", customer="C0001",
                                 equipment=["E335M820091"], start_date="2026-01-01",
                                 end_date="2027-01-29")
    _run_worker(app, "2026-11-30 08:00")
    with app.context() as ctx:
        assert ctx.session.scalar(select(MaintenanceContract.expiry_notice_at)) is None
        set_setting(ctx, "repair.contract_notice_days", "60")
    _run_worker(app, "2026-12-01 08:00")
    with app.sessions() as session:
        assert session.scalar(select(MaintenanceContract.expiry_notice_at)) == \
            local("2026-12-01 08:00")


# ---------------------------------------------------------------------------
# the routes
# ---------------------------------------------------------------------------


def test_routes(make_site):
    site = make_site(["repair"], branch_code="SH", branch_name="上海服务中心")
    web = create_app(site)
    app = web.state.fixdesk
    _prepare(app)
    with app.context() as ctx:
        headers = {name: {"Authorization": "Bearer " + create_token(
            ctx, get_user(ctx.session, name), "test")[1]} for name in ("zhengli", "wufang")}
        shenda = ctx.session.scalar(select(Customer.id).where(Customer.code == "C0001"))
    with TestClient(web, raise_server_exceptions=False) as client:
        front, boss = headers["zhengli"], headers["wufang"]
        created = client.post("/api/repair/work_orders", headers=front, json={
            "channel": "phone", "equipment": "QXY20614", "fault_description": "卡纸"})
        assert created.status_code == 201, created.text
        oid = created.json()["id"]
        ranked = client.get(f"/api/repair/work_orders/{oid}/suggestions", headers=boss)
        assert ranked.status_code == 200, ranked.text
        assert [r["code"] for r in ranked.json()][:3] == ["E003", "E001", "E002"]
        assert client.get(f"/api/repair/work_orders/{oid}/suggestions",
                          headers=front).status_code == 403
        assert client.get("/api/repair/work_orders/999999/suggestions",
                          headers=boss).status_code == 404
        queue = client.get("/api/repair/dispatch_queue", params={"branch": "SH"},
                           headers=boss)
        assert [o["id"] for o in queue.json()] == [oid]
        history = client.get("/api/repair/history", params={"serial_no": "QXY20614"},
                             headers=front)
        assert history.status_code == 200, history.text
        assert [o["id"] for o in history.json()["orders"]] == [oid]
        by_id = client.get("/api/repair/history", params={"customer_id": shenda},
                           headers=front)
        assert by_id.json()["orders"] == [] and by_id.json()["customer"]["code"] == "C0001"
        assert client.get("/api/repair/history", headers=front).status_code == 422

"""The repair services on a demo site (SQLite and PostgreSQL), walking SCENARIOS.md 1–4.

Users are the demo accounts: zhengli (front desk, SH), wufang (supervisor, SH),
wanggong (engineer E001 王建国, SH), hejuan (front desk, JD), huangtao
(supervisor, JD), zhaolei (engineer E006 赵磊, JD), and liming (engineer E002
李明, SH) added by the fixture.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from kernel import Conflict, NotFound, ValidationError, hookimpl
from kernel.auth import PermissionDenied
from kernel.migrate import schema_differences
from kernel.models import CustomerEquipment, Employee
from kernel.settings import set_setting
from plugins.repair import services
from plugins.repair.documents import gather_order
from plugins.repair.events import load_order
from plugins.repair.models import LabourEntry, StatusChange, WorkOrder, WorkOrderLine

from .conftest import local


def test_migrations_match_the_models(repair_app):
    assert schema_differences(repair_app) == []


def _order(app, number) -> WorkOrder:
    with app.sessions() as session:
        return session.scalar(select(WorkOrder).where(WorkOrder.number == number))


def _events(app, number) -> list[tuple[str, str | None, str]]:
    with app.sessions() as session:
        rows = session.execute(
            select(StatusChange.event, StatusChange.from_status, StatusChange.to_status)
            .join(WorkOrder).where(WorkOrder.number == number).order_by(StatusChange.id))
        return [(event, old and old.value, new.value) for event, old, new in rows]


def _employee_id(app, code) -> int:
    with app.sessions() as session:
        return session.scalar(select(Employee.id).where(Employee.code == code))


def _contract_for_shenda(as_user):
    with as_user("wufang", "2026-04-01 09:30") as ctx:
        return services.create_contract(
            ctx, number="BY-2026-018", customer="C0001", equipment=["E335M820091"],
            start_date="2026-04-01", end_date="2027-03-31", visits_included=12,
            fee="4800.00").id


# ---------------------------------------------------------------------------
# scenario 1: a contract copier stops printing (B, on site, deadline 6 h)
# ---------------------------------------------------------------------------


def test_scenario_1_contract_job_on_site(repair_app, as_user, recorder):
    contract_id = _contract_for_shenda(as_user)
    with as_user("zhengli", "2026-11-30 10:20") as ctx:  # Monday
        order = services.register(ctx, channel="phone", equipment="E335M820091",
                                  fault_description="复印机显示 SC542，无法打印",
                                  fault_code="SC542")
        number = order.number
    order = _order(repair_app, number)
    assert number == "WO-SH-2026-00001"
    assert (order.category.value, order.category_basis.value, order.contract_id) == \
        ("B", "contract", contract_id)
    assert order.deadline_at == local("2026-11-30 17:20")  # 6 working hours
    assert (order.contact_name, order.phone, order.address) == \
        ("钱经理", "021-6888 1234", "上海市浦东新区张江路 88 号")
    assert (order.model, order.serial_no, order.service_mode.value, order.status.value) == \
        ("Ricoh MP 2555", "E335M820091", "on_site", "pending")

    with as_user("wufang", "2026-11-30 10:40") as ctx:
        services.dispatch(ctx, number, engineer="E001",
                          appointment_at="2026-11-30T14:00:00+08:00")
    with as_user("wanggong", "2026-11-30 13:55") as ctx:
        services.record_arrival(ctx, number)
    with as_user("wanggong", "2026-11-30 14:05") as ctx:
        services.diagnose(ctx, number, "定影热敏电阻失效", fault_code="SC542")
        services.start(ctx, number)  # contract job: no quote
        services.add_part(ctx, number, "定影热敏电阻", 1, "45.00")
    with as_user("wanggong", "2026-11-30 15:10") as ctx:
        services.complete(ctx, number, method="更换定影热敏电阻，试印 50 张正常",
                          cause="热敏电阻老化", hours="1.25")
    with as_user("zhengli", "2026-12-01 10:00") as ctx:
        services.close(ctx, number, note="服务凭证已签字")

    order = _order(repair_app, number)
    assert order.status.value == "closed"
    assert order.engineer_id == _employee_id(repair_app, "E001")
    assert order.appointment_at == local("2026-11-30 14:00")
    assert (order.arrived_at, order.deadline_met, order.missed_minutes) == \
        (local("2026-11-30 13:55"), True, 0)
    assert order.deadline_at == local("2026-11-30 17:20")  # the appointment was before it
    assert order.report_method.startswith("更换定影热敏电阻")
    assert order.report_fault == "复印机显示 SC542，无法打印"
    assert order.closed_at == local("2026-12-01 10:00")
    with repair_app.sessions() as session:
        line = session.scalar(select(WorkOrderLine))
        assert (line.quantity, line.unit_cost, line.amount) == \
            (1, Decimal("45.00"), Decimal("45.00"))
        assert session.scalar(select(LabourEntry.minutes)) == 75
    assert _events(repair_app, number) == [
        ("register", None, "pending"), ("dispatch", "pending", "dispatched"),
        ("arrive", "dispatched", "dispatched"), ("diagnose", "dispatched", "dispatched"),
        ("start", "dispatched", "in_repair"), ("complete", "in_repair", "completed"),
        ("close", "completed", "closed")]
    assert recorder.hooks(number) == ["registered", "dispatched", "parts_needed 定影热敏电阻 x1",
                                      "completed", "closed"]
    with repair_app.sessions() as session:
        actors = session.scalars(select(StatusChange.actor).order_by(StatusChange.id)).all()
    assert actors == ["zhengli", "wufang", "wanggong", "wanggong", "wanggong", "wanggong",
                      "zhengli"]

    # a closed order is read-only, except a supervisor's reopen
    with as_user("zhengli", "2026-12-01 10:05") as ctx:
        with pytest.raises(Conflict, match="closed and read-only"):
            services.edit(ctx, number, phone="021-6888 0000")
        with pytest.raises(Conflict, match="closed and cannot be cancelled"):
            services.cancel(ctx, number, reason="客户撤销")
        with pytest.raises(PermissionDenied):
            services.reopen(ctx, number, reason="客户说还是不行")
    with as_user("wufang", "2026-12-01 11:00") as ctx:
        with pytest.raises(ValidationError, match="Reason is required"):
            services.reopen(ctx, number)
        services.reopen(ctx, number, reason="客户来电：仍然报 SC542")
    order = _order(repair_app, number)
    assert (order.status.value, order.closed_at, order.reopen_count) == ("dispatched", None, 1)


def test_contract_visits_run_out(repair_app, as_user):
    with as_user("wufang", "2026-04-01 09:30") as ctx:
        services.create_contract(ctx, number="BY-2026-019", customer="C0001",
                                 equipment=["E335M820091"], start_date="2026-04-01",
                                 end_date="2027-03-31", visits_included=1)
    with as_user("zhengli", "2026-11-30 10:20") as ctx:
        first = services.register(ctx, channel="phone", equipment="E335M820091",
                                  fault_description="卡纸")
        second = services.register(ctx, channel="phone", equipment="E335M820091",
                                   fault_description="卡纸")
        assert (first.category.value, second.category.value) == ("B", "A")
        services.cancel(ctx, first, reason="重复报修")
        third = services.register(ctx, channel="phone", equipment="E335M820091",
                                  fault_description="卡纸")
        assert third.category.value == "B"  # a cancelled job gives the visit back


def test_contract_is_checked(repair_app, as_user):
    with as_user("wufang", "2026-04-01 09:30") as ctx:
        with pytest.raises(ValidationError, match="ends before it starts"):
            services.create_contract(ctx, number="X1", customer="C0001",
                                     equipment=["E335M820091"], start_date="2026-04-01",
                                     end_date="2026-03-31")
        with pytest.raises(ValidationError, match="does not belong"):
            services.create_contract(ctx, number="X2", customer="C0001",
                                     equipment=["QXY20614"], start_date="2026-04-01",
                                     end_date="2027-03-31")
    with as_user("zhengli", "2026-04-01 09:30") as ctx, pytest.raises(PermissionDenied):
        services.create_contract(ctx, number="X3", customer="C0001", equipment=["E335M820091"],
                                 start_date="2026-04-01", end_date="2027-03-31")


# ---------------------------------------------------------------------------
# scenario 2: a walk-in out of warranty (A, carry-in, quote, waiting for parts)
# ---------------------------------------------------------------------------


class Billing:
    """Stands in for the billing plugin: drum at cost + 15 %, medium repair by a regular
    engineer ¥120 (SCENARIOS.md 2)."""

    def __init__(self):
        self.asked = []

    @hookimpl
    def repair_quote_requested(self, order, lines, proposed):
        self.asked.append(([line.description for line in lines], proposed))
        parts = sum(line.amount for line in lines) * Decimal("1.15")
        return {"labour": Decimal("120.00"), "parts": parts.quantize(Decimal("0.01")),
                "travel": Decimal("0")}


def _walk_in_drum(as_user, when: str, **extra) -> str:
    with as_user("zhengli", when) as ctx:
        return services.register(ctx, channel="walk_in", equipment="QXY20614",
                                 fault_description="复印件有黑线，卡纸", **extra).number


def test_scenario_2_paid_carry_in_with_quote(repair_app, as_user, recorder):
    billing = Billing()
    repair_app.pm.register(billing, name="billing_stand_in")
    number = _walk_in_drum(as_user, "2026-12-01 10:00")
    order = _order(repair_app, number)
    assert (order.category.value, order.category_basis.value, order.service_mode.value) == \
        ("A", "not_covered", "carry_in")
    assert order.deadline_at is None  # carry-in: nobody drives anywhere
    assert (order.contact_name, order.phone) == ("周志华", "138 0013 5678")

    with as_user("wufang", "2026-12-01 10:30") as ctx:
        services.dispatch(ctx, number, engineer="E002")
    with as_user("liming", "2026-12-01 11:00") as ctx:
        with pytest.raises(Conflict, match="after the customer accepted the quote"):
            services.start(ctx, number)
        with pytest.raises(Conflict, match="diagnose the fault before quoting"):
            services.quote(ctx, number, labour="120")
        with pytest.raises(Conflict, match="carry-in job has no on-site arrival"):
            services.record_arrival(ctx, number)
        services.diagnose(ctx, number, "硒鼓磨损，需更换", fault_code="drum")
        services.add_part(ctx, number, "硒鼓 NPG-28", 1, "380.00")
        services.quote(ctx, number)  # billing prices it
        with pytest.raises(Conflict, match="has not decided on the quote"):
            services.start(ctx, number)
    order = _order(repair_app, number)
    assert (order.quote_labour, order.quote_parts, order.quote_travel, order.quote_total) == \
        (Decimal("120.00"), Decimal("437.00"), Decimal("0.00"), Decimal("557.00"))
    assert (order.status.value, order.quote_status.value) == ("quoted", "pending")
    assert billing.asked == [(["硒鼓 NPG-28"], None)]

    with as_user("zhengli", "2026-12-01 14:00") as ctx:  # the customer accepts by phone
        services.accept_quote(ctx, number, note="客户电话确认")
    with as_user("liming", "2026-12-01 14:30") as ctx:
        services.start(ctx, number)
        services.wait_for_parts(ctx, number, reason="硒鼓缺货，已向供应商订购")
    assert _order(repair_app, number).status.value == "waiting_parts"
    with as_user("liming", "2026-12-04 10:00") as ctx:
        services.start(ctx, number, note="硒鼓到货")
        services.complete(ctx, number, method="更换硒鼓，清洁搓纸轮", cause="硒鼓寿命到期",
                          hours=2)
    with as_user("wufang", "2026-12-04 11:00") as ctx:
        services.audit(ctx, number, passed=True)
    with as_user("zhengli", "2026-12-05 10:00") as ctx:
        services.close(ctx, number, note="客户已取机，银行转账")
    order = _order(repair_app, number)
    assert (order.status.value, order.audit_result.value) == ("closed", "passed")
    assert [e[0] for e in _events(repair_app, number)] == [
        "register", "dispatch", "diagnose", "quote", "accept_quote", "start", "wait_for_parts",
        "start", "complete", "audit", "close"]
    assert _events(repair_app, number)[8] == ("complete", "in_repair", "ready_for_pickup")
    assert recorder.hooks(number)[-3:] == ["completed", "audited True", "closed"]
    repair_app.pm.unregister(name="billing_stand_in")


def test_quote_without_billing_uses_staff_amounts(repair_app, as_user):
    number = _walk_in_drum(as_user, "2026-12-01 10:00")
    with as_user("wufang", "2026-12-01 10:30") as ctx:
        services.dispatch(ctx, number, engineer="E002")
        services.diagnose(ctx, number, "硒鼓磨损")
        with pytest.raises(ValidationError, match="enter the quote amounts"):
            services.quote(ctx, number)
        with pytest.raises(ValidationError, match="labour must not be negative"):
            services.quote(ctx, number, labour="-120")
        with pytest.raises(ValidationError, match="more than zero"):
            services.quote(ctx, number, labour="0", parts="0")
        with pytest.raises(ValidationError, match="at most two decimals"):
            services.quote(ctx, number, labour="120.005")
        services.quote(ctx, number, labour=120, parts="437.00")
    order = _order(repair_app, number)
    assert (order.quote_total, order.quote_travel, order.status.value) == \
        (Decimal("557.00"), Decimal("0.00"), "quoted")
    with as_user("zhengli", "2026-12-01 15:00") as ctx:
        services.reject_quote(ctx, number, reason="客户嫌贵")
    with as_user("wufang", "2026-12-01 15:10") as ctx:
        with pytest.raises(Conflict, match="after the customer accepted the quote"):
            services.start(ctx, number)
        services.close(ctx, number, note="客户取回未修机器")  # declined: ends unrepaired
    assert _order(repair_app, number).status.value == "closed"


@pytest.mark.parametrize("quantity, unit_cost, message", [
    (0, "380.00", "Quantity must be more than zero"),
    (-1, "380.00", "Quantity must be more than zero"),
    (1.5, "380.00", "Quantity must be a whole number"),
    ("两个", "380.00", "Quantity must be a whole number"),
    (1, "0", "Unit cost must be more than zero"),
    (1, "-5", "Unit cost must be more than zero"),
    (1, 380.5, None),  # a JSON number is fine
    (1, "abc", "Unit cost must be an amount"),
])
def test_part_lines_need_positive_amounts(repair_app, as_user, quantity, unit_cost, message):
    number = _walk_in_drum(as_user, "2026-12-01 10:00")
    with as_user("wufang", "2026-12-01 10:30") as ctx:
        services.dispatch(ctx, number, engineer="E002")
    with as_user("liming", "2026-12-01 11:00") as ctx:
        if message is None:
            assert services.add_part(ctx, number, "硒鼓", quantity, unit_cost).amount == \
                Decimal("380.50")
        else:
            with pytest.raises(ValidationError, match=message):
                services.add_part(ctx, number, "硒鼓", quantity, unit_cost)
        for hours in (0, "-1", "25", "abc"):
            with pytest.raises(ValidationError, match="hours"):
                services.add_labour(ctx, number, hours)


def test_parts_go_back_when_returned_or_cancelled(repair_app, as_user, recorder):
    number = _walk_in_drum(as_user, "2026-12-01 10:00")
    with as_user("wufang", "2026-12-01 10:30") as ctx:
        services.dispatch(ctx, number, engineer="E002")
        drum = services.add_part(ctx, number, "硒鼓", 1, "380.00")
        services.add_part(ctx, number, "搓纸轮", 2, "35.00")
        services.return_part(ctx, number, drum.id, reason="未使用")
        with pytest.raises(Conflict, match="given back already"):
            services.return_part(ctx, number, drum.id)
        assert load_order(ctx, number, "read").parts_cost == Decimal("70.00")
    with as_user("wufang", "2026-12-01 11:00") as ctx:
        services.cancel(ctx, number, reason="客户不修了")
        with pytest.raises(Conflict, match="is cancelled: cannot complete"):
            services.complete(ctx, number, method="x", cause="y")
    assert recorder.hooks(number) == [
        "registered", "dispatched", "parts_needed 硒鼓 x1", "parts_needed 搓纸轮 x2",
        "parts_returned 硒鼓", "parts_returned 搓纸轮", "cancelled 客户不修了"]
    with repair_app.context() as ctx:
        order = load_order(ctx, number, "read")
        assert (order.status.value, order.cancel_reason, order.parts_cost) == \
            ("cancelled", "客户不修了", Decimal("0.00"))


# ---------------------------------------------------------------------------
# scenario 3: the same fault again (repair warranty, R5)
# ---------------------------------------------------------------------------


def _repair_drum(as_user, day: str) -> str:
    number = _walk_in_drum(as_user, f"{day} 09:30", fault_code="drum")
    with as_user("wufang", f"{day} 10:00") as ctx:
        services.dispatch(ctx, number, engineer="E002")
        services.diagnose(ctx, number, "硒鼓磨损")
        services.quote(ctx, number, labour="120", parts="437")
        services.accept_quote(ctx, number)
        services.start(ctx, number)
        services.complete(ctx, number, method="更换硒鼓", cause="硒鼓磨损")
        services.close(ctx, number)
    return number


def test_scenario_3_repair_warranty(repair_app, as_user):
    first = _repair_drum(as_user, "2026-12-01")  # repaired 1 December
    first_id = _order(repair_app, first).id
    # 70 days later (9 February 2027) the same drum fault: free, linked
    again = _walk_in_drum(as_user, "2027-02-09 10:00", fault_code="DRUM")
    order = _order(repair_app, again)
    assert again == "WO-SH-2027-00001"
    assert (order.category.value, order.category_basis.value, order.earlier_order_id) == \
        ("C", "repair_warranty", first_id)
    # staff may name the earlier order instead of a fault code
    named = _walk_in_drum(as_user, "2027-02-09 10:05", earlier_order=first)
    assert _order(repair_app, named).earlier_order_id == first_id
    # another fault within 90 days is paid
    other = _walk_in_drum(as_user, "2027-02-09 10:10", fault_code="fuser")
    assert _order(repair_app, other).category.value == "A"
    # day 100 (11 March 2027): paid again, no link
    late = _walk_in_drum(as_user, "2027-03-11 10:00", fault_code="drum")
    order = _order(repair_app, late)
    assert (order.category.value, order.category_basis.value, order.earlier_order_id) == \
        ("A", "not_covered", None)


def test_repair_warranty_days_is_a_setting(repair_app, as_user):
    first = _repair_drum(as_user, "2026-12-01")
    with repair_app.context(user="admin") as ctx:
        set_setting(ctx, "repair.repair_warranty_days", "60")
    again = _walk_in_drum(as_user, "2027-02-09 10:00", fault_code="drum")
    assert _order(repair_app, again).category.value == "A"
    with as_user("zhengli", "2027-02-09 10:05") as ctx, \
            pytest.raises(ValidationError, match="other equipment"):
        services.register(ctx, channel="phone", equipment="E335M820091", earlier_order=first,
                          fault_description="卡纸")


# ---------------------------------------------------------------------------
# scenario 4: a suburban report late on Friday
# ---------------------------------------------------------------------------


def test_scenario_4_suburban_deadline_over_the_weekend(repair_app, as_user, recorder):
    with as_user("hejuan", "2026-11-27 17:00") as ctx:  # Friday, JD
        number = services.register(ctx, channel="phone", customer="C0003",
                                   equipment="LV93X10235",
                                   fault_description="卡纸，无法复印").number
    order = _order(repair_app, number)
    assert number == "WO-JD-2026-00001"
    assert order.deadline_at == local("2026-11-30 16:00")  # Monday, 7 working hours
    with as_user("huangtao", "2026-11-30 09:00") as ctx:
        services.dispatch(ctx, number, engineer="E006",
                          appointment_at="2026-11-30T15:00+08:00")
    with as_user("zhaolei", "2026-11-30 16:45") as ctx:
        services.record_arrival(ctx, number, at="2026-11-30T16:40+08:00")
    order = _order(repair_app, number)
    assert (order.deadline_met, order.missed_minutes) == (False, 40)
    with repair_app.sessions() as session:
        detail = session.scalar(select(StatusChange.detail).where(StatusChange.event == "arrive"))
    assert detail["missed_minutes"] == 40 and detail["deadline_met"] is False
    # the SH front desk does not see JD's order
    with as_user("zhengli", "2026-11-30 17:00") as ctx, pytest.raises(NotFound):
        services.cancel(ctx, number, reason="x")


# ---------------------------------------------------------------------------
# the deadline clock (R6)
# ---------------------------------------------------------------------------


def _phone_job(as_user, when="2026-11-30 10:20") -> str:
    with as_user("zhengli", when) as ctx:
        return services.register(ctx, channel="phone", customer="C0001",
                                 fault_description="不能扫描").number


def test_pause_and_resume_move_the_deadline(repair_app, as_user):
    number = _phone_job(as_user)  # deadline Monday 17:20
    with as_user("zhengli", "2026-11-30 11:00") as ctx:
        with pytest.raises(ValidationError, match="Reason is required"):
            services.pause(ctx, number)
        services.pause(ctx, number, reason="客户办公室今天上午装修，下午再联系")
        with pytest.raises(Conflict, match="paused already"):
            services.pause(ctx, number, reason="again")
    with as_user("zhengli", "2026-11-30 14:00") as ctx:
        services.resume(ctx, number)
        with pytest.raises(Conflict, match="not paused"):
            services.resume(ctx, number)
    order = _order(repair_app, number)
    # 11:00–12:00 and 13:00–14:00 paused: 120 working minutes; 17:20 + 2 h → Tue 10:20
    assert (order.paused_minutes, order.deadline_at, order.paused_at) == \
        (120, local("2026-12-01 10:20"), None)
    assert [e[0] for e in _events(repair_app, number)] == ["register", "pause", "resume"]


def test_arrival_restarts_a_paused_clock(repair_app, as_user):
    number = _phone_job(as_user)
    with as_user("wufang", "2026-11-30 10:30") as ctx:
        services.dispatch(ctx, number, engineer="E001")
        services.pause(ctx, number, reason="客户要求稍后联系")
    with as_user("wanggong", "2026-11-30 17:30") as ctx:
        services.record_arrival(ctx, number)
        with pytest.raises(Conflict, match="recorded already"):
            services.record_arrival(ctx, number)
    order = _order(repair_app, number)
    # paused 10:30–17:30: 1.5 h + 4.5 h = 360 minutes; deadline 17:20 + 6 h:
    # 17:20–18:00, Tuesday 09:00–12:00 and 13:00–15:20
    assert (order.paused_minutes, order.deadline_at, order.deadline_met) == \
        (360, local("2026-12-01 15:20"), True)


@pytest.mark.parametrize("arrival, met, missed, printed", [
    ("2026-12-01T09:00+08:00", True, 0, "on_time"),   # costs no working minute
    ("2026-11-30T18:00+08:00", True, 0, "on_time"),   # exactly at the deadline
    ("2026-12-01T09:01+08:00", False, 1, "late"),     # one working minute after it
])
def test_an_arrival_that_costs_no_working_minute_is_on_time(repair_app, as_user, arrival,
                                                            met, missed, printed):
    number = _phone_job(as_user, "2026-11-30 11:00")  # 6 working hours: Monday 18:00
    with as_user("wufang", "2026-11-30 11:10") as ctx:
        services.dispatch(ctx, number, engineer="E001")
    with as_user("wanggong", "2026-12-01 09:30") as ctx:
        services.record_arrival(ctx, number, at=arrival)
    order = _order(repair_app, number)
    assert order.deadline_at == local("2026-11-30 18:00")
    assert (order.deadline_met, order.missed_minutes) == (met, missed)
    with as_user("wufang", "2026-12-01 09:30") as ctx:
        assert gather_order(ctx, load_order(ctx, number, "read"))["arrival"] == printed


def test_a_machine_whose_model_names_its_brand_is_not_named_twice(repair_app, as_user):
    with repair_app.sessions() as session:
        machine = session.scalar(select(CustomerEquipment)
                                 .where(CustomerEquipment.serial_no == "LV93X10235"))
        machine.model = "Kyocera TASKalfa 2020"
        session.commit()
    with as_user("hejuan", "2026-11-30 10:00") as ctx:
        number = services.register(ctx, channel="phone", customer="C0003",
                                   equipment="LV93X10235", fault_description="卡纸").number
    assert _order(repair_app, number).model == "Kyocera TASKalfa 2020"


def test_appointment_after_the_deadline_moves_it(repair_app, as_user, recorder):
    number = _phone_job(as_user)  # deadline Monday 17:20
    with as_user("wufang", "2026-11-30 11:00") as ctx:
        services.dispatch(ctx, number, engineer="E001", appointment_at="2026-12-01T10:00+08:00",
                          reason="客户要求明早上门")
    order = _order(repair_app, number)
    # Monday 17:20–18:00 and Tuesday 09:00–10:00: 100 working minutes paused
    assert (order.deadline_at, order.paused_minutes) == (local("2026-12-01 10:00"), 100)
    with as_user("wufang", "2026-11-30 11:30") as ctx:  # re-dispatch to 李明, same time
        services.dispatch(ctx, number, engineer="E002", appointment_at="2026-12-01T10:00+08:00",
                          reason="王工临时外出")
    with repair_app.sessions() as session:
        rows = session.execute(select(StatusChange.event, StatusChange.reason,
                                      StatusChange.detail).order_by(StatusChange.id)).all()
    assert [r.event for r in rows] == ["register", "dispatch", "pause", "dispatch"]
    assert rows[3].reason == "王工临时外出"
    assert rows[3].detail["engineer_id"] == [_employee_id(repair_app, "E001"),
                                             _employee_id(repair_app, "E002")]
    assert recorder.hooks(number) == ["registered", "dispatched", "re-dispatched"]


def test_deadline_hours_are_per_branch_settings(repair_app, as_user):
    from kernel.masterdata import get_branch

    with repair_app.context(user="admin") as ctx:
        set_setting(ctx, "repair.urban_deadline_hours", "4", branch=get_branch(ctx, "SH"))
        with pytest.raises(ValidationError):
            set_setting(ctx, "repair.urban_deadline_hours", "0")
    number = _phone_job(as_user)
    assert _order(repair_app, number).deadline_at == local("2026-11-30 15:20")


# ---------------------------------------------------------------------------
# registration details and refusals
# ---------------------------------------------------------------------------


def test_category_override_exclusion_and_internal_jobs(repair_app, as_user):
    with as_user("hejuan", "2026-11-30 10:00") as ctx:
        # 嘉定实验学校's Canon is in warranty: free (C)
        free = services.register(ctx, channel="web", equipment="XQH30112",
                                 fault_description="不能开机", urgent=True)
        assert (free.category.value, free.category_basis.value, free.urgent) == \
            ("C", "warranty", True)
        # dropped by the customer: not covered (R4)
        dropped = services.register(ctx, channel="phone", equipment="XQH30112",
                                    fault_description="搬运时摔落，外壳破裂",
                                    exclusion="customer_transport")
        assert (dropped.category.value, dropped.category_basis.value,
                dropped.exclusion.value, dropped.category_reason) == \
            ("A", "exclusion", "customer_transport", "customer_transport")
        with pytest.raises(ValidationError, match="Category reason is required"):
            services.register(ctx, channel="phone", equipment="LV93X10235", category="C",
                              fault_description="卡纸")
        goodwill = services.register(ctx, channel="phone", equipment="LV93X10235",
                                     category="C", category_reason="经销商首次报修，免费",
                                     fault_description="卡纸")
        assert (goodwill.category.value, goodwill.category_basis.value) == ("C", "override")
        internal = services.register(ctx, channel="phone", internal=True,
                                     fault_description="季度工具检查")
        assert (internal.category.value, internal.customer_id, internal.deadline_at) == \
            ("D", None, None)
    with as_user("huangtao", "2026-11-30 11:00") as ctx:
        services.recategorize(ctx, goodwill, "A", reason="经理未批准免费")
    assert _order(repair_app, goodwill.number).category_basis.value == "override"


@pytest.mark.parametrize("fields, error, message", [
    (dict(fault_description=" "), ValidationError, "Fault description is required"),
    (dict(channel="fax"), ValidationError, "Channel must be one of"),
    (dict(customer=None, equipment=None), ValidationError, "customer is required"),
    (dict(customer="C0001"), ValidationError, "does not belong to customer C0001"),
    (dict(equipment="NOPE"), NotFound, "no Equipment NOPE"),
    (dict(reported_at="2026-11-30T12:00+08:00"), ValidationError, "lies in the future"),
    (dict(reported_at="2026-11-30 09:00"), ValidationError, "needs a time zone"),
    (dict(reported_at="2010-11-30T09:00+08:00"), ValidationError, "too far in the past"),
    (dict(reported_at="0001-01-01T00:00+08:00"), ValidationError, "must be a date and time"),
    (dict(exclusion="bad luck"), ValidationError, "Warranty exclusion must be one of"),
    (dict(category="E", category_reason="x"), ValidationError, "Category must be one of"),
])
def test_register_refuses_bad_input(repair_app, as_user, fields, error, message):
    values = {"channel": "phone", "equipment": "QXY20614", "fault_description": "卡纸",
              **fields}
    with as_user("zhengli", "2026-11-30 10:20") as ctx, pytest.raises(error, match=message):
        services.register(ctx, **values)


def test_permissions_by_role(repair_app, as_user):
    with as_user("wanggong", "2026-11-30 10:20") as ctx, pytest.raises(PermissionDenied):
        services.register(ctx, channel="phone", customer="C0001", fault_description="卡纸")
    number = _phone_job(as_user)
    with as_user("zhengli", "2026-11-30 10:30") as ctx, pytest.raises(PermissionDenied):
        services.dispatch(ctx, number, engineer="E001")
    with as_user("wanggong", "2026-11-30 10:30") as ctx, pytest.raises(PermissionDenied):
        services.recategorize(ctx, number, "C", reason="x")
    with as_user("wufang", "2026-11-30 10:30") as ctx:
        with pytest.raises(ValidationError, match="either an engineer or a partner outlet"):
            services.dispatch(ctx, number)
        with pytest.raises(ValidationError, match="either an engineer or a partner outlet"):
            services.dispatch(ctx, number, engineer="E001", partner_outlet="浦东特约维修站")
        with pytest.raises(ValidationError, match="more than a year after the report"):
            services.dispatch(ctx, number, engineer="E001", appointment_at="2028-01-01T10:00Z")
        with pytest.raises(ValidationError, match="before the report"):
            services.dispatch(ctx, number, engineer="E001", appointment_at="2026-11-29T10:00Z")
        services.dispatch(ctx, number, partner_outlet="浦东特约维修站")
    order = _order(repair_app, number)
    assert (order.partner_outlet, order.engineer_id, order.status.value) == \
        ("浦东特约维修站", None, "dispatched")


def test_failed_review_sends_the_job_back_for_rework(repair_app, as_user, recorder):
    number = _phone_job(as_user)
    with as_user("wufang", "2026-11-30 10:30") as ctx:
        services.dispatch(ctx, number, engineer="E001")
    with as_user("wanggong", "2026-11-30 13:00") as ctx:
        services.record_arrival(ctx, number)
        services.diagnose(ctx, number, "扫描模块排线松动")
        services.quote(ctx, number, labour="80")
        services.accept_quote(ctx, number)
        services.start(ctx, number)
        services.complete(ctx, number, method="重新插紧排线", cause="排线松动")
    with as_user("zhengli", "2026-11-30 16:00") as ctx:
        services.close(ctx, number)
    with as_user("wufang", "2026-12-02 10:00") as ctx:
        with pytest.raises(ValidationError, match="Note is required"):
            services.audit(ctx, number, passed=False)
        services.audit(ctx, number, passed="false", note="抽查发现排线未固定，需返工")
    order = _order(repair_app, number)
    assert (order.status.value, order.audit_result.value, order.closed_at) == \
        ("in_repair", "failed", None)
    assert [e[0] for e in _events(repair_app, number)][-2:] == ["audit", "rework"]
    assert recorder.hooks(number)[-1] == "audited False"
    with as_user("wanggong", "2026-12-02 14:00") as ctx:
        services.complete(ctx, number, method="排线加固定扣", cause="排线松动", hours="0.5")
    assert _order(repair_app, number).completed_at == local("2026-12-02 14:00").astimezone(
        dt.UTC)


def test_edit_changes_details_of_open_orders(repair_app, as_user):
    number = _phone_job(as_user)
    with as_user("zhengli", "2026-11-30 10:30") as ctx:
        services.edit(ctx, number, phone="139 0000 1111", urgent="true")
        with pytest.raises(ValidationError, match="category cannot be changed here"):
            services.edit(ctx, number, category="C")
    order = _order(repair_app, number)
    assert (order.phone, order.urgent) == ("139 0000 1111", True)
    with repair_app.sessions() as session:
        detail = session.scalar(select(StatusChange.detail).where(StatusChange.event == "edit"))
    assert detail == {"phone": ["021-6888 1234", "139 0000 1111"], "urgent": [False, True]}

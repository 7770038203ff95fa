"""The repair pages of the desk through HTTP (SQLite and PostgreSQL): the front desk's
registration page with the customer's history (R1–R3), and the follow-up forms (the
callback's survey, R19; the spot check, R17)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from plugins.repair import services
from plugins.repair.models import Callback, QualityCheck, WorkOrder

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def contract(web):
    """Scenario 1's maintenance contract for 申达物流's Ricoh."""
    with web.state.fixdesk.context(user="wufang") as ctx:
        services.create_contract(ctx, number="BY-2026-018", customer="C0001",
                                 equipment=["E335M820091"], start_date="2026-04-01",
                                 end_date="2099-03-31", visits_included=12, fee="4800.00")


def _count(web, cls) -> int:
    with web.state.fixdesk.sessions() as session:
        return session.scalar(select(func.count()).select_from(cls))


def test_the_front_desk_looks_up_the_history_then_registers(web, login, contract):
    front = login("zhengli")
    listing = front.get("/desk/repair_work_order")
    assert 'href="/desk/repair_work_order/new"' in listing.text
    page = front.get("/desk/repair_work_order/new")
    assert page.status_code == 200
    for name in ("equipment", "customer", "channel", "fault_description", "reported_at"):
        assert f'name="{name}"' in page.text
    assert 'type="datetime-local"' in page.text and 'data-lookup="/desk/customer_equipment' \
        "/lookup\"" in page.text

    # R2: the machine's label as picked from the suggestions; its history and category
    looked = front.post("/desk/repair_work_order/new", data={
        "csrf": front.csrf, "step": "lookup", "equipment": "E335M820091 MP 2555"})
    assert looked.status_code == 200, looked.text
    assert "申达物流有限公司" in looked.text and "BY-2026-018" in looked.text
    assert 'id="category-preview"' in looked.text and "合同服务" not in looked.text
    assert re.search(r'id="category-preview">[^<]*<b>B 类</b>', looked.text)  # zh_CN desk
    assert 'value="E335M820091 MP 2555"' in looked.text  # what was typed stays
    assert _count(web, WorkOrder) == 0

    # a missing fault description: the field's error, nothing written
    missing = front.post("/desk/repair_work_order/new", data={
        "csrf": front.csrf, "step": "register", "equipment": "E335M820091 MP 2555",
        "channel": "phone"})
    assert missing.status_code == 422
    assert 'id="a-register-fault_description-error"' in missing.text
    assert _count(web, WorkOrder) == 0
    unknown = front.post("/desk/repair_work_order/new", data={
        "csrf": front.csrf, "step": "register", "equipment": "NO-SUCH-SERIAL",
        "channel": "phone", "fault_description": "卡纸"})
    assert unknown.status_code == 422 and 'id="a-register-equipment-error"' in unknown.text

    done = front.post("/desk/repair_work_order/new", data={
        "csrf": front.csrf, "step": "register", "equipment": "E335M820091 MP 2555",
        "channel": "phone", "fault_description": "复印机显示 SC542，无法打印",
        "fault_code": "SC542", "urgent": "true"})
    assert done.status_code == 303
    order_id = int(re.search(r"/desk/repair_work_order/(\d+)\?done=created",
                             done.headers["location"]).group(1))
    with web.state.fixdesk.sessions() as session:
        order = session.get(WorkOrder, order_id)
        assert (order.category.value, order.urgent, order.contact_name, order.channel.value) \
            == ("B", True, "钱经理", "phone")
    shown = front.get(done.headers["location"])
    assert order.number in shown.text and 'role="status"' in shown.text


def test_registration_needs_the_register_permission_and_a_csrf_token(web, login):
    engineer = login("wanggong")
    assert 'href="/desk/repair_work_order/new"' not in \
        engineer.get("/desk/repair_work_order").text
    assert engineer.get("/desk/repair_work_order/new").status_code == 403
    front = login("zhengli")
    forged = front.post("/desk/repair_work_order/new", data={
        "csrf": "not-the-token", "step": "register", "customer": "C0001", "channel": "phone",
        "fault_description": "卡纸"})
    assert forged.status_code == 403 and _count(web, WorkOrder) == 0


def _closed_order(web) -> int:
    app = web.state.fixdesk
    with app.context(user="zhengli") as ctx:
        number = services.register(ctx, channel="phone", equipment="E335M820091",
                                   fault_description="卡纸").number
    with app.context(user="wufang") as ctx:
        services.dispatch(ctx, number, engineer="E001")
    with app.context(user="wanggong") as ctx:
        services.record_arrival(ctx, number)
        services.start(ctx, number)
        services.complete(ctx, number, method="清洁", cause="纸屑")
    with app.context(user="zhengli") as ctx:
        return services.close(ctx, number).id


def test_the_callback_survey_and_the_spot_check_from_the_desk(web, login, contract):
    order_id = _closed_order(web)
    with web.state.fixdesk.sessions() as session:
        callback_id = session.scalar(select(Callback.id))
    front = login("zhengli")
    form = front.get(f"/desk/repair_callback/{callback_id}")
    assert form.status_code == 200
    assert 'name="attitude"' in form.text and '<option value="4"' in form.text
    bad = front.post(f"/desk/repair_callback/{callback_id}/action/record_survey", data={
        "csrf": front.csrf, "attitude": "4", "skill": "4", "arrival": "4"})
    assert bad.status_code == 422 and 'value="4" selected' in bad.text
    done = front.post(f"/desk/repair_callback/{callback_id}/action/record_survey", data={
        "csrf": front.csrf, "attitude": "4", "skill": "4", "arrival": "4", "promise": "3",
        "channel": "phone", "comments": "满意"})
    assert done.status_code == 303
    with web.state.fixdesk.sessions() as session:
        assert session.get(Callback, callback_id).ratings == (4, 4, 4, 3)

    boss = login("wufang")
    assert f'action="/desk/repair_work_order/{order_id}/action/spot_check"' in \
        boss.get(f"/desk/repair_work_order/{order_id}").text
    chosen = boss.post(f"/desk/repair_work_order/{order_id}/action/spot_check",
                       data={"csrf": boss.csrf, "note": "抽查"})
    assert chosen.status_code == 303
    with web.state.fixdesk.sessions() as session:
        check_id = session.scalar(select(QualityCheck.id))
    failed = boss.post(f"/desk/repair_quality_check/{check_id}/action/record_check",
                       data={"csrf": boss.csrf, "passed": "false"})
    assert failed.status_code == 422  # findings are required when it fails
    failed = boss.post(f"/desk/repair_quality_check/{check_id}/action/record_check",
                       data={"csrf": boss.csrf, "passed": "false", "findings": "未清洁"})
    assert failed.status_code == 303
    with web.state.fixdesk.sessions() as session:
        assert session.get(WorkOrder, order_id).status.value == "in_repair"

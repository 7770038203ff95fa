"""Forms as documents through real HTTP (SQLite and PostgreSQL): the status bar with the
workflow's states and the actions possible now, the header with the deadline against a
fixed clock, sections instead of a grid without technical fields, and lines on the form —
a customer's contacts added and edited in place, a work order's parts and labour added
through the order's actions (kernel/web/desk/document.py, document_lines.py)."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from desk_sessions import demo_sessions
from site_cache import no_demo
from sqlalchemy import func, select

from kernel.i18n import translations
from kernel.models import Customer, CustomerContact

zh = translations("zh_CN").gettext
SHANGHAI = ZoneInfo("Asia/Shanghai")
#: a Monday morning in Shanghai: the clock of these tests
MONDAY = dt.datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def app(make_site, monkeypatch):
    """The repair plugin's demo site (without its order history), its clock at MONDAY."""
    import plugins.repair.demo
    from kernel.web.app import create_app

    monkeypatch.setattr(plugins.repair.demo, "load_demo", no_demo)
    site = make_site(["repair"], demo=True, branch_code="SH", branch_name="上海服务中心")
    web = create_app(site)
    web.state.fixdesk.clock = lambda: MONDAY.astimezone(dt.UTC)
    web.state.fixdesk.web = web
    yield web.state.fixdesk
    web.state.fixdesk.close()


@pytest.fixture
def login(app):
    with demo_sessions(app.web) as open_session:
        yield open_session


def _order(app, **steps) -> int:
    """A new order for 申达物流's Ricoh, taken through ``steps`` by the right people."""
    from plugins.repair import services

    with app.context(user="zhengli") as ctx:
        number = services.register(ctx, channel="phone", equipment="E335M820091",
                                   fault_description="卡纸", fault_code="J101").number
    if "dispatch" in steps:
        with app.context(user="wufang") as ctx:
            services.dispatch(ctx, number, engineer="E001", **steps["dispatch"])
    if steps.get("arrive"):
        with app.context(user="wanggong") as ctx:
            services.record_arrival(ctx, number)
    with app.context() as ctx:
        return _id(ctx, number)


def _id(ctx, number: str) -> int:
    from plugins.repair.models import WorkOrder

    return ctx.session.scalar(select(WorkOrder.id).where(WorkOrder.number == number))


def _section(page: str, marker: str) -> str:
    """The HTML of the ``<section ... marker ...>`` of a page."""
    start = page.index(marker)
    start = page.rindex("<section", 0, start)
    return page[start:page.index("</section>", start)]


def _bar(page: str) -> str:
    return _section(page, "data-doc-bar")


def _buttons(page: str) -> list[str]:
    return re.findall(r'data-action="(\w+)"', _bar(page))


def _states(page: str) -> list[str]:
    return re.findall(r'data-state="(\w+)"', _bar(page))


def _current(page: str) -> str:
    return re.search(r'data-state="(\w+)" aria-current="step"', _bar(page)).group(1)


def _fact(page: str, name: str) -> str:
    found = re.search(rf'data-fact="{name}">\s*<dt>(.*?)</dt>\s*<dd>(.*?)</dd>', page, re.S)
    assert found, name
    return re.sub(r"<[^>]+>", "", found.group(1) + " | " + found.group(2)).strip()


# --------------------------------------------------------------------------
# the status bar
# --------------------------------------------------------------------------


def test_the_status_bar_marks_the_state_and_offers_the_next_step_first(app, login):
    boss = login("wufang")
    new = boss.get(f"/desk/repair_work_order/{_order(app)}").text
    # the main path in the enum's order; side states (cancelled, waiting for parts) hidden
    assert _states(new) == ["pending", "dispatched", "in_repair", "completed", "closed"]
    assert _current(new) == "pending"
    assert f'<span class="sr-only">{zh("Current:")} </span>{zh("pending")}</li>' in _bar(new)
    buttons = _buttons(new)
    assert buttons[0] == "dispatch" and buttons[-1] == "cancel"  # the next step first
    assert 'class="button primary" data-action="dispatch"' in _bar(new)
    assert buttons.index("edit") > buttons.index("receive_unit")  # rarely used ones later
    assert '<details class="action-box">' in _bar(new)
    assert 'id="a-dispatch-engineer"' in _bar(new)  # the box's inputs keep their ids

    dispatched = boss.get(f"/desk/repair_work_order/{_order(app, dispatch={})}").text
    assert _current(dispatched) == "dispatched" and _buttons(dispatched)[0] == "arrive"
    arrived = boss.get(f"/desk/repair_work_order/{_order(app, dispatch={}, arrive=True)}")
    assert _buttons(arrived.text)[0] == "diagnose"

    # an action without inputs is a plain button; one that failed comes back open
    order_id = _order(app)
    refused = boss.post(f"/desk/repair_work_order/{order_id}/action/cancel",
                        data={"csrf": boss.csrf, "reason": ""})
    assert refused.status_code == 422
    assert '<details class="action-box" open>' in _bar(refused.text)
    assert 'id="a-cancel-reason-error"' in _bar(refused.text)
    done = boss.post(f"/desk/repair_work_order/{order_id}/action/cancel",
                     data={"csrf": boss.csrf, "reason": "客户自行修好"})
    assert done.status_code == 303
    cancelled = boss.get(done.headers["location"]).text
    assert _current(cancelled) == "cancelled" and "cancelled" in _states(cancelled)
    assert _buttons(cancelled) == ["reopen"]


def test_an_engineer_sees_only_his_buttons_and_a_record_without_workflow_none(app, login):
    order_id = _order(app, dispatch={})
    engineer = login("wanggong").get(f"/desk/repair_work_order/{order_id}").text
    assert _buttons(engineer)[0] == "arrive"
    assert "dispatch" not in _buttons(engineer) and "cancel" not in _buttons(engineer)
    clerk = login("zhengli")
    customer = clerk.get(f"/desk/customer/{_customer(app, 'C0001')}").text
    assert "data-doc-bar" not in customer  # no workflow, no action: no bar


# --------------------------------------------------------------------------
# the header and the sections
# --------------------------------------------------------------------------


def test_the_header_says_what_matters_with_the_time_left(app, login):
    from plugins.repair.models import WorkOrder

    order_id = _order(app, dispatch={})
    with app.sessions() as session:
        order = session.get(WorkOrder, order_id)
        deadline, category, number = order.deadline_at, order.category.value, order.number
    boss = login("wufang")
    url = f"/desk/repair_work_order/{order_id}"

    app.clock = lambda: deadline - dt.timedelta(hours=2, minutes=15)
    page = boss.get(url).text
    assert _fact(page, "number") == f"{zh('Number')} | {number}"
    assert _fact(page, "customer_id") == f"{zh('Customer')} | C0001 申达物流有限公司"
    assert _fact(page, "model") == f"{zh('Model')} · {zh('Serial number')} | " \
        "Ricoh MP 2555 · E335M820091"
    assert _fact(page, "category") == f"{zh('Category')} | {zh(category)}"
    assert _fact(page, "engineer_id") == f"{zh('Engineer')} | E001 王建国"
    local = deadline.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    assert _fact(page, "deadline_at") == \
        f"{zh('Arrival deadline')} {zh('(clock time)')} | {local} 还剩 2 小时 15 分"
    assert 'class="fact deadline-ok"' in page

    app.clock = lambda: deadline - dt.timedelta(minutes=30)
    assert "还剩 30 分钟" in _fact(boss.get(url).text, "deadline_at")
    assert 'class="fact deadline-soon"' in boss.get(url).text
    app.clock = lambda: deadline + dt.timedelta(minutes=40)
    late = boss.get(url).text
    assert _fact(late, "deadline_at").endswith(f"{local} 已超时 40 分钟")
    assert 'class="fact deadline-late"' in late
    app.clock = lambda: deadline + dt.timedelta(days=1, hours=3, minutes=5)
    assert _fact(boss.get(url).text, "deadline_at").endswith("已超时 1 天 3 小时")

    # once the engineer is there, the deadline is met (or missed), no longer counted
    from plugins.repair import services

    with app.context(user="wanggong", clock=lambda: deadline - dt.timedelta(minutes=5)) as ctx:
        services.record_arrival(ctx, number)
    app.clock = lambda: deadline + dt.timedelta(hours=5)
    met = boss.get(url).text
    assert _fact(met, "deadline_at") == f"{zh('Arrival deadline')} | {local} 按时完成"


def test_details_in_sections_without_technical_fields(app, login):
    from plugins.repair.models import WorkOrder

    order_id = _order(app, dispatch={})
    with app.context() as ctx:  # flagged by the overdue job: internal, never shown
        ctx.session.get(WorkOrder, order_id).overdue_flagged_at = dt.datetime.now(dt.UTC)
    page = login("wufang").get(f"/desk/repair_work_order/{order_id}").text
    titles = re.findall(r'<h2 id="sec-[\w-]+">([^<]*)</h2>', page)
    assert titles[:3] == [zh("Customer and machine"), zh("Fault"), zh("Dispatch and deadline")]
    assert '<section class="record doc-section"' in page
    for technical in ("id", "company_id", "created_at", "updated_at", "overdue_flagged_at",
                      "promise_flagged_at"):
        assert f'data-field="{technical}"' not in page
    record = page[page.index('<div class="record-layout">'):page.index('<aside class="side"')]
    assert zh("Flagged overdue at") not in record and zh("Created") not in record
    assert 'data-field="contact_name"' in page and "钱经理" in page
    # values still at their default say nothing (no pause, never reopened)
    assert 'data-field="paused_minutes"' not in page and 'data-field="reopen_count"' not in page
    # the customer's form: contacts and addresses are tables, not links
    customer = login("zhengli").get(f"/desk/customer/{_customer(app, 'C0001')}").text
    assert 'data-field="id"' not in customer and 'data-field="created_at"' not in customer
    assert 'href="/desk/customer_contact?f=customer_id' not in customer
    assert 'href="/desk/customer_equipment?f=customer_id' in customer  # not lines: a link


# --------------------------------------------------------------------------
# lines
# --------------------------------------------------------------------------


def _customer(app, code: str) -> int:
    with app.sessions() as session:
        return session.scalar(select(Customer.id).where(Customer.code == code))


def _contacts(app, customer_id: int) -> list[tuple]:
    with app.sessions() as session:
        return [(c.name, c.phone, c.is_primary) for c in session.scalars(
            select(CustomerContact).where(CustomerContact.customer_id == customer_id)
            .order_by(CustomerContact.id))]


def test_contacts_added_and_edited_in_place_on_the_customer(app, login):
    clerk = login("zhengli")
    customer_id = _customer(app, "C0001")
    other = _customer(app, "C0002")
    url = f"/desk/customer/{customer_id}"
    before = _contacts(app, customer_id)
    page = clerk.get(url).text
    table = _section(page, 'data-lines="customer_contact"')
    assert "钱经理" in table and zh("Customer contact") in table
    assert 'id="l-customer_contact-new-name"' in table  # the add row
    assert f'action="{url}/lines/customer_contact"' in page

    # a new contact without a name: the error under the name's cell, nothing written
    missing = clerk.post(f"{url}/lines/customer_contact", data={
        "csrf": clerk.csrf, "_fields": ["name", "phone"], "name": "", "phone": "139"})
    assert missing.status_code == 422
    add_row = _section(missing.text, 'data-lines="customer_contact"')
    assert 'id="l-customer_contact-new-name-error"' in add_row
    assert 'id="l-customer_contact-new-phone" name="phone" form="lf-customer_contact-new" ' \
        'type="tel" value="139"' in add_row  # kept as typed
    assert _contacts(app, customer_id) == before

    # added, fixed to this customer whatever the form says
    added = clerk.post(f"{url}/lines/customer_contact", data={
        "csrf": clerk.csrf, "_fields": ["name", "phone", "is_primary", "customer_id"],
        "name": "孙会计", "phone": "021-6888 5678", "customer_id": str(other)})
    assert added.status_code == 303
    assert added.headers["location"] == f"{url}?done=created#lines-customer_contact"
    assert _contacts(app, customer_id)[-1] == ("孙会计", "021-6888 5678", False)
    assert all(name != "孙会计" for name, _p, _m in _contacts(app, other))
    with app.sessions() as session:
        new_id = session.scalar(select(func.max(CustomerContact.id)))

    # the row turns into inputs; a wrong value comes back under its cell
    editing = clerk.get(f"{url}?edit=customer_contact.{new_id}").text
    row = _section(editing, 'data-lines="customer_contact"')
    assert f'id="l-customer_contact-{new_id}-name"' in row and 'value="孙会计"' in row
    assert f'action="{url}/lines/customer_contact/{new_id}"' in editing
    too_long = clerk.post(f"{url}/lines/customer_contact/{new_id}", data={
        "csrf": clerk.csrf, "_fields": ["name", "phone"], "name": "孙会计",
        "phone": "9" * 60})
    assert too_long.status_code == 422
    assert f'id="l-customer_contact-{new_id}-phone-error"' in too_long.text
    assert _contacts(app, customer_id)[-1] == ("孙会计", "021-6888 5678", False)
    saved = clerk.post(f"{url}/lines/customer_contact/{new_id}", data={
        "csrf": clerk.csrf, "_fields": ["name", "phone", "is_primary"], "name": "孙会计",
        "phone": "021-6888 0000", "is_primary": "1"})
    assert saved.status_code == 303
    assert _contacts(app, customer_id)[-1] == ("孙会计", "021-6888 0000", True)

    # another customer's contact is not a line of this one; no token, no write
    with app.sessions() as session:
        foreign = session.scalar(select(CustomerContact.id).where(
            CustomerContact.customer_id == other))
    assert clerk.post(f"{url}/lines/customer_contact/{foreign}", data={
        "csrf": clerk.csrf, "_fields": ["name"], "name": "x"}).status_code == 404
    assert clerk.post(f"{url}/lines/customer_contact", data={
        "_fields": ["name"], "name": "无令牌"}).status_code == 403
    assert clerk.post(f"{url}/lines/customer_equipment", data={
        "csrf": clerk.csrf}).status_code == 404  # equipment is not a line of a customer
    # an engineer may read the customer but not change it: no add row, no edit link
    reader = login("wanggong").get(url).text
    assert "l-customer_contact-new-name" not in reader and "data-line-edit" not in reader


def test_parts_and_labour_added_from_the_order_form(app, login):
    order_id = _order(app, dispatch={}, arrive=True)
    engineer = login("wanggong")
    url = f"/desk/repair_work_order/{order_id}"
    page = engineer.get(url).text
    parts = _section(page, 'data-lines="repair_work_order_line"')
    assert 'id="a-add_part-quantity"' in parts  # the add row is the order's action
    assert "add_part" not in _buttons(page) and "add_labour" not in _buttons(page)
    assert 'id="a-add_labour-hours"' in _section(page, 'data-lines="repair_labour_entry"')

    bad = engineer.post(f"{url}/action/add_part", data={
        "csrf": engineer.csrf, "description": "搓纸轮", "quantity": "0", "unit_cost": "35.50"})
    assert bad.status_code == 422
    parts = _section(bad.text, 'data-lines="repair_work_order_line"')
    assert 'id="a-add_part-quantity-error"' in parts and 'value="搓纸轮"' in parts
    with app.sessions() as session:
        from plugins.repair.models import LabourEntry, WorkOrderLine

        assert session.scalar(select(func.count()).select_from(WorkOrderLine)) == 0

    for description in ("搓纸轮", "分离垫"):
        assert engineer.post(f"{url}/action/add_part", data={
            "csrf": engineer.csrf, "description": description, "quantity": "2",
            "unit_cost": "35.50"}).status_code == 303
    assert engineer.post(f"{url}/action/add_labour", data={
        "csrf": engineer.csrf, "hours": "1.5", "engineer": "E001", "note": "清洁"}
    ).status_code == 303
    page = engineer.get(url).text
    parts = _section(page, 'data-lines="repair_work_order_line"')
    assert parts.count("<tr id=\"line-repair_work_order_line-") == 2 and "35.50" in parts
    labour = _section(page, 'data-lines="repair_labour_entry"')
    assert "E001 王建国" in labour and ">90<" in labour and "清洁" in labour

    # giving one back: the row's own button, the line preselected (never an id typed)
    with app.sessions() as session:
        first = session.scalar(select(func.min(WorkOrderLine.id)))
    assert f'<input type="hidden" name="line_id" value="{first}">' in parts
    assert f'id="a-return_part-reason-{first}"' in parts
    back = engineer.post(f"{url}/action/return_part", data={
        "csrf": engineer.csrf, "line_id": str(first), "reason": "型号不符", "_row": "1"})
    assert back.status_code == 303
    with app.sessions() as session:
        assert session.get(WorkOrderLine, first).return_reason == "型号不符"
        assert session.scalar(select(func.count()).select_from(LabourEntry)) == 1
    parts = _section(engineer.get(url).text, 'data-lines="repair_work_order_line"')
    assert f'name="line_id" value="{first}"' not in parts  # given back: no button any more
    assert "型号不符" in parts


def test_appointments_in_time_order_and_the_callback_with_whom_to_call(app, login):
    from plugins.repair import services

    later = "2026-12-02T10:00:00+08:00"
    earlier = "2026-12-01T14:00:00+08:00"
    order_id = _order(app, dispatch={"appointment_at": later})
    with app.context(user="wufang") as ctx:
        order = services.load_order(ctx, order_id, "dispatch")
        services.dispatch(ctx, order, engineer="E002", appointment_at=earlier)
    page = login("wufang").get(f"/desk/repair_work_order/{order_id}").text
    appointments = _section(page, 'data-lines="repair_appointment"')
    times = re.findall(r"(2026-12-0\d \d\d:\d\d)", appointments)
    assert times == sorted(times) == ["2026-12-01 14:00", "2026-12-02 10:00"]
    assert "E002 李明" in appointments and zh("rescheduled") in appointments
    assert 'href="/desk/repair_appointment?f=order_id' not in page  # a table, not a link

    with app.context(user="wufang") as ctx:  # the supervisor stands in for 李明
        services.record_arrival(ctx, order_id)
        services.diagnose(ctx, order_id, diagnosis="搓纸轮磨损")
        order = services.load_order(ctx, order_id, "read")
        if order.category.value == "A":
            services.quote(ctx, order_id, labour="100")
            services.accept_quote(ctx, order_id)
        services.start(ctx, order_id)
        services.complete(ctx, order_id, method="更换搓纸轮", cause="磨损")
    with app.context(user="zhengli") as ctx:
        services.close(ctx, order_id)
    page = login("zhengli").get(f"/desk/repair_work_order/{order_id}").text
    callback = _section(page, 'data-lines="repair_callback"')
    assert "C0001 申达物流有限公司" in callback and "钱经理" in callback
    assert "021-6888 1234" in callback and zh("open") in callback


# --------------------------------------------------------------------------
# the declarations
# --------------------------------------------------------------------------


def test_the_usual_next_step_first_then_by_order():
    from types import SimpleNamespace

    from kernel import Action
    from kernel.web.desk.document import ordered

    def action(name, **options):
        return Action(entity="x", name=name, title=name, func=print, permission="x.y",
                      **options)

    actions = [action("cancel", order=900), action("edit"), action("start", next_for="open"),
               action("close", next_for=lambda record: record.status == "done")]
    info = SimpleNamespace(workflow="status")
    assert [a.name for a in ordered(info, SimpleNamespace(status="open"), actions)] == \
        ["start", "edit", "close", "cancel"]
    assert [a.name for a in ordered(info, SimpleNamespace(status="done"), actions)] == \
        ["close", "edit", "start", "cancel"]
    assert actions[2].next_for == ("open",) and not actions[1].is_next(object(), "status")


def test_declarations_that_name_what_is_not_there_are_refused(monkeypatch):
    from kernel.models import KERNEL_ENTITIES
    from kernel.registry import Refused, _check_declarations

    classes = {c.__tablename__: c for c in KERNEL_ENTITIES}
    monkeypatch.setattr(Customer, "__workflow__", "tier", raising=False)
    _check_declarations(Customer, classes)  # a choice: a workflow
    monkeypatch.setattr(CustomerContact, "__workflow__", "name", raising=False)
    with pytest.raises(Refused, match="__workflow__"):
        _check_declarations(CustomerContact, classes)
    monkeypatch.delattr(CustomerContact, "__workflow__")
    monkeypatch.setattr(CustomerContact, "__lines_of__", ("customer_id", "repair_work_order"))
    with pytest.raises(Refused, match="__lines_of__"):
        _check_declarations(CustomerContact, classes)  # not an entity of a kernel-only site

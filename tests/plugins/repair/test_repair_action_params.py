"""The work order's typed action params, in the desk and the API (SQLite and PostgreSQL).

The desk draws each param by kind (date-time and date pickers, yes/no and choice
lists, the employee lookup, text areas, numeric boxes), sends what was typed the
way the services take it, and shows a failed action again as typed; the API
documents the params in OpenAPI and still takes the string forms old clients send.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from api_tokens import bearer_headers
from fastapi.testclient import TestClient
from sqlalchemy import select

from kernel.i18n import translations
from kernel.models import Employee
from plugins.repair import services
from plugins.repair.models import LabourEntry, WorkOrder, WorkOrderLine

zh = translations("zh_CN").gettext
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
#: when the test orders were reported (Monday, Shanghai): in the past, so that any "now" works
REPORTED = "2026-11-30T10:00:00+08:00"


def _register(web, **changes) -> int:
    """A phone order of customer C0001 reported on Monday 30 November, moved on by
    ``changes`` (service name → params) as the supervisor."""
    app = web.state.fixdesk
    with app.context(user="zhengli") as ctx:
        order = services.register(ctx, channel="phone", customer="C0001",
                                  fault_description="复印机卡纸", reported_at=REPORTED)
        order_id = order.id
    for name, params in changes.items():
        with app.context(user="wufang") as ctx:
            getattr(services, name)(ctx, ctx.session.get(WorkOrder, order_id), **params)
    return order_id


def _order(web, order_id: int) -> WorkOrder:
    with web.state.fixdesk.sessions() as session:
        order = session.get(WorkOrder, order_id)
        session.expunge_all()
        return order


def _employee_id(web, code: str) -> int:
    with web.state.fixdesk.sessions() as session:
        return session.scalar(select(Employee.id).where(Employee.code == code))


def _control(page: str, action: str, name: str) -> str:
    """The HTML of one action input (``<input ...>``, ``<select ...>...</select>``, ...)."""
    found = re.search(rf'<(input|select|textarea) id="a-{action}-{name}"[^>]*>'
                      rf'(?:.*?</\1>)?', page, re.S)
    assert found, f"no control for {action}.{name}"
    return found.group(0)


# --------------------------------------------------------------------------
# the desk
# --------------------------------------------------------------------------


def test_each_kind_gets_its_widget(web, login):
    pending = _register(web)
    supervisor = login("wufang")
    page = supervisor.get(f"/desk/repair_work_order/{pending}").text

    appointment = _control(page, "dispatch", "appointment_at")  # datetime
    assert 'type="datetime-local"' in appointment
    assert 'aria-describedby="a-dispatch-appointment_at-hint"' in appointment
    assert zh("Local time ({zone})").format(zone="中国（上海）时间") in page
    engineer = _control(page, "dispatch", "engineer")  # reference: the employee lookup
    assert 'data-lookup="/desk/employee/lookup"' in engineer
    assert 'list="a-dispatch-engineer-list"' in engineer
    # the engineers ranked for this order (R7), offered in the datalist and as buttons:
    # 申达物流 is in 浦东; the copier-skilled 浦东 engineers first, the senior one on top
    suggested = re.findall(r'data-fill="a-dispatch-engineer" value="([^"]+)">([^<]+)<',
                           page)
    assert [value for value, _text in suggested] == \
        ["E001 王建国", "E002 李明", "E005 刘洋", "E003 张伟", "E004 陈静"]
    assert "浦东" in suggested[0][1] and zh("copier") in suggested[0][1]
    assert '<datalist id="a-dispatch-engineer-list"><option value="E001 王建国">' in page
    assert '<label for="a-dispatch-engineer">' + zh("Engineer") + "</label>" in page
    assert 'type="text"' in _control(page, "dispatch", "partner_outlet")  # string
    category = _control(page, "recategorize", "category")  # choice, required
    assert ' required aria-required="true"' in category
    assert [(v, t) for v, t in re.findall(r'<option value="(\w*)"[^>]*>([^<]*)</option>',
                                          category)] == \
        [("", "—")] + [(c, zh(c)) for c in "ABCD"]
    urgent = _control(page, "edit", "urgent")  # boolean: yes / no
    assert f'<option value="true">{zh("yes")}</option>' in urgent
    assert f'<option value="false">{zh("no")}</option>' in urgent
    assert _control(page, "edit", "fault_description").startswith("<textarea")  # text
    assert 'type="datetime-local"' in _control(page, "edit", "promised_at")  # inferred
    assert ' required' in _control(page, "cancel", "reason")
    assert ' required' not in _control(page, "dispatch", "reason")

    in_repair = _register(web, dispatch={"engineer": "E002"},
                          diagnose={"diagnosis": "搓纸轮磨损"},
                          quote={"labour": "100.00"}, accept_quote={}, start={})
    page = supervisor.get(f"/desk/repair_work_order/{in_repair}").text
    quantity = _control(page, "add_part", "quantity")  # integer
    assert 'type="number"' in quantity and 'inputmode="numeric"' in quantity
    assert 'step="1"' in quantity
    cost = _control(page, "add_part", "unit_cost")  # money
    assert 'type="text"' in cost and 'inputmode="decimal"' in cost
    assert 'inputmode="decimal"' in _control(page, "add_labour", "hours")  # number
    assert 'type="date"' in _control(page, "add_labour", "work_date")  # date
    assert _control(page, "complete", "method").startswith("<textarea")
    assert 'data-lookup="/desk/employee/lookup"' in _control(page, "add_labour", "engineer")

    completed = _register(web, dispatch={"engineer": "E002"}, diagnose={"diagnosis": "卡纸"},
                          quote={"labour": "100.00"}, accept_quote={}, start={},
                          complete={"method": "更换搓纸轮", "cause": "磨损"})
    page = supervisor.get(f"/desk/repair_work_order/{completed}").text
    passed = _control(page, "audit", "passed")  # a required yes / no
    assert ' required aria-required="true"' in passed and 'value="true"' in passed


def test_dispatch_with_a_picked_engineer_and_a_local_time(web, login):
    order_id = _register(web)
    supervisor = login("wufang")
    lookup = supervisor.get("/desk/employee/lookup", params={"q": "李明"}).json()
    label = next(item["label"] for item in lookup if item["label"].startswith("E002"))
    assert label == "E002 李明"
    done = supervisor.post(f"/desk/repair_work_order/{order_id}/action/dispatch", data={
        "csrf": supervisor.csrf, "engineer": label, "appointment_at": "2026-12-01T14:00",
        "partner_outlet": "", "reason": ""})
    assert done.status_code == 303, done.text
    order = _order(web, order_id)
    assert order.status.value == "dispatched"
    assert order.engineer_id == _employee_id(web, "E002")
    assert order.appointment_at == dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)  # 14:00 +08
    page = supervisor.get(done.headers["location"]).text
    assert zh("Done: {action}.").format(action=zh("Dispatch")) in page


def test_labour_and_parts_from_the_desk(web, login):
    order_id = _register(web, dispatch={"engineer": "E001"}, diagnose={"diagnosis": "卡纸"},
                         quote={"labour": "100.00"}, accept_quote={}, start={})
    supervisor = login("wufang")
    base = f"/desk/repair_work_order/{order_id}/action"
    assert supervisor.post(f"{base}/add_part", data={
        "csrf": supervisor.csrf, "description": "搓纸轮", "quantity": "2",
        "unit_cost": "35.50", "part_code": ""}).status_code == 303
    assert supervisor.post(f"{base}/add_labour", data={
        "csrf": supervisor.csrf, "hours": "1.5", "engineer": "E002",
        "work_date": "2026-11-30", "note": ""}).status_code == 303
    with web.state.fixdesk.sessions() as session:
        line = session.scalar(select(WorkOrderLine).where(WorkOrderLine.order_id == order_id))
        labour = session.scalar(select(LabourEntry).where(LabourEntry.order_id == order_id))
        assert (line.description, line.quantity, str(line.unit_cost)) == ("搓纸轮", 2, "35.50")
        assert (labour.minutes, labour.work_date) == (90, dt.date(2026, 11, 30))
        assert labour.employee_id == _employee_id(web, "E002")


def test_a_failed_action_comes_back_as_typed_with_the_error_at_its_input(web, login):
    order_id = _register(web)
    supervisor = login("wufang")
    url = f"/desk/repair_work_order/{order_id}/action/dispatch"

    bad_time = supervisor.post(url, data={
        "csrf": supervisor.csrf, "engineer": "E002 李明", "appointment_at": "2026-13-45T10:00",
        "reason": "浦东片区"})
    assert bad_time.status_code == 422
    page = bad_time.text
    assert '<details class="action-box" open>' in page  # the dispatch form, opened
    assert page.count('<details class="action-box" open>') == 1  # only the one that failed
    appointment = _control(page, "dispatch", "appointment_at")
    assert 'value="2026-13-45T10:00"' in appointment and 'aria-invalid="true"' in appointment
    assert 'aria-describedby="a-dispatch-appointment_at-error a-dispatch-appointment_at-hint"' \
        in appointment
    error = re.search(r'<p class="field-error" id="a-dispatch-appointment_at-error">'
                      r'([^<]*)</p>', page)  # read before the service: one reader for all
    assert error and error.group(1) == zh("must be a date and time like 2026-05-29T16:00+08:00")
    assert 'value="E002 李明"' in _control(page, "dispatch", "engineer")  # kept as typed
    assert 'value="浦东片区"' in _control(page, "dispatch", "reason")
    assert 'aria-invalid' not in _control(page, "dispatch", "engineer")

    nobody = supervisor.post(url, data={"csrf": supervisor.csrf, "engineer": "E999 无名",
                                        "appointment_at": "2026-12-01T14:00"})
    assert nobody.status_code == 422
    error = re.search(r'<p class="field-error" id="a-dispatch-engineer-error">([^<]*)</p>',
                      nobody.text)
    assert error and error.group(1) == zh("nothing matches {text}").format(text="E999 无名")
    assert 'value="2026-12-01T14:00"' in _control(nobody.text, "dispatch", "appointment_at")

    unknown_id = supervisor.post(url, data={"csrf": supervisor.csrf, "engineer": "999999"})
    assert unknown_id.status_code == 422  # an id no record has is the input's problem
    assert 'id="a-dispatch-engineer-error"' in unknown_id.text

    order = _order(web, order_id)  # nothing was written
    assert (order.status.value, order.engineer_id, order.appointment_at) == \
        ("pending", None, None)
    assert order.dispatched_at is None


def test_a_required_yes_no_from_the_desk(web, login):
    order_id = _register(web, dispatch={"engineer": "E002"}, diagnose={"diagnosis": "卡纸"},
                         quote={"labour": "100.00"}, accept_quote={}, start={},
                         complete={"method": "更换搓纸轮", "cause": "磨损"})
    supervisor = login("wufang")
    url = f"/desk/repair_work_order/{order_id}/action/audit"
    unanswered = supervisor.post(url, data={"csrf": supervisor.csrf, "passed": ""})
    assert unanswered.status_code == 422
    assert 'id="a-audit-passed-error"' in unanswered.text
    assert _order(web, order_id).audit_result is None
    assert supervisor.post(url, data={"csrf": supervisor.csrf, "passed": "true",
                                      "note": ""}).status_code == 303
    assert _order(web, order_id).audit_result.value == "passed"


# --------------------------------------------------------------------------
# the API
# --------------------------------------------------------------------------


@pytest.fixture
def api(web):
    with web.state.fixdesk.context() as ctx:
        headers = bearer_headers(ctx, "wufang", "wanggong")
    with TestClient(web, raise_server_exceptions=False) as client:
        client.as_user = headers
        yield client


def test_openapi_lists_the_typed_params(api):
    spec = api.get("/api/v1/openapi.json").json()
    schemas = spec["components"]["schemas"]

    def prop(action, name):
        body = schemas[f"RepairWorkOrder{action}Params"]
        assert body["additionalProperties"] is False
        return body["properties"][name]

    def types(schema):
        return [s["type"] for s in schema["anyOf"]]

    appointment = prop("Dispatch", "appointment_at")
    assert appointment["anyOf"] == [{"type": "string", "format": "date-time"}, {"type": "null"}]
    assert types(prop("Dispatch", "engineer")) == ["integer", "string", "null"]
    assert prop("Dispatch", "engineer")["title"] == "Engineer"
    audit = schemas["RepairWorkOrderAuditParams"]
    assert audit["required"] == ["passed"]
    assert types(audit["properties"]["passed"]) == ["boolean", "string"]  # required: no null
    assert audit["properties"]["passed"]["title"] == "Review passed"
    category = prop("Recategorize", "category")
    assert (category["type"], category["enum"]) == ("string", ["A", "B", "C", "D"])
    assert set(schemas["RepairWorkOrderRecategorizeParams"]["required"]) == {"category",
                                                                             "reason"}
    assert types(prop("AddPart", "quantity")) == ["integer", "string"]
    assert types(prop("Quote", "labour")) == ["number", "string", "null"]
    assert prop("AddLabour", "work_date")["anyOf"][0] == {"type": "string", "format": "date"}
    assert types(prop("AddLabour", "hours")) == ["number", "string"]
    assert prop("Edit", "fault_description")["anyOf"] == [{"type": "string"}, {"type": "null"}]
    body = spec["paths"]["/api/v1/repair_work_order/{record_id}/dispatch"]["post"][
        "requestBody"]
    assert not body.get("required")
    assert {"$ref": "#/components/schemas/RepairWorkOrderDispatchParams"} in \
        body["content"]["application/json"]["schema"]["anyOf"]


def test_the_api_takes_typed_values_and_their_string_forms(web, api):
    order_id = _register(web)
    boss = api.as_user["wufang"]

    def act(action, **body):
        return api.post(f"/api/v1/repair_work_order/{order_id}/{action}", headers=boss,
                        json=body)

    wrong_type = act("dispatch", engineer=["E002"])
    assert wrong_type.status_code == 422
    assert wrong_type.json()["error"]["fields"].keys() == {"engineer"}
    bad_time = act("dispatch", engineer="E002", appointment_at="tomorrow")
    assert bad_time.status_code == 422
    assert bad_time.json()["error"]["fields"].keys() == {"appointment_at"}
    assert act("dispatch", engineer="E002", colour="red").status_code == 422
    assert _order(web, order_id).engineer_id is None
    dispatched = act("dispatch", engineer=_employee_id(web, "E002"),
                     appointment_at="2026-12-01T14:00:00+08:00")
    assert dispatched.status_code == 200, dispatched.text
    assert dispatched.json()["appointment_at"].startswith("2026-12-01T06:00")
    assert act("diagnose", diagnosis="搓纸轮磨损").status_code == 200
    assert act("quote", labour=100, parts="35.50").json()["quote_total"] == "135.50"
    assert act("accept_quote").status_code == 200
    assert act("start").status_code == 200
    assert act("add_part", description="搓纸轮", quantity="2", unit_cost=35.5).status_code \
        == 200
    assert act("add_labour", hours=1.5, work_date="2026-11-30").status_code == 200
    missing = act("complete", method="更换搓纸轮")
    assert missing.status_code == 422 and "cause" in missing.json()["error"]["fields"]
    assert act("complete", method="更换搓纸轮", cause="磨损", hours="0.5").status_code == 200
    assert act("audit", passed="true").json()["audit_result"] == "passed"

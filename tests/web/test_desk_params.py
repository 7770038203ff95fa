"""Action params in the kernel: kinds inferred from the entity, the action body in OpenAPI,
and the "New" of entities made on their plugin's own page (``__new_permission__``)."""

from __future__ import annotations

import pytest
from fastapi.responses import HTMLResponse

from kernel import Action, Param, hookimpl
from kernel.auth import create_token, get_user
from kernel.entities import describe
from kernel.models import Customer, CustomerEquipment, Employee
from kernel.params import action_params, infer_param


def _noop(ctx, record, **params):
    return record


def test_plain_names_take_their_kind_from_the_column():
    from fdt_notes.models import Note

    equipment = describe(CustomerEquipment, "kernel")
    assert infer_param(equipment, "customer") == Param("customer", "reference",
                                                       reference="customer")
    assert infer_param(equipment, "customer_id") == Param("customer_id", "reference",
                                                          reference="customer")
    assert infer_param(equipment, "warranty_end") == Param("warranty_end", "date")
    assert infer_param(equipment, "note") == Param("note", "text")
    assert infer_param(equipment, "serial_no") == Param("serial_no", "string")
    assert infer_param(equipment, "id") == Param("id", "integer")
    assert infer_param(equipment, "colour") == Param("colour", "string")  # no such column
    tier = infer_param(describe(Customer, "kernel"), "tier")
    assert tier.kind == "choice" and tier.choices == ("dealer", "retail_chain", "corporate",
                                                      "individual")
    employee = describe(Employee, "kernel")
    assert infer_param(employee, "active") == Param("active", "boolean")
    assert infer_param(employee, "skills") == Param("skills", "string")  # JSON: typed as text
    note = describe(Note, "fdt_notes")
    assert infer_param(note, "amount") == Param("amount", "money")
    assert infer_param(note, "created_at") == Param("created_at", "datetime")
    assert infer_param(None, "amount") == Param("amount")  # the entity is not exposed

    declared = Param("reason", "text", label="Why", required=True)
    action = Action(Note, "x", "X", _noop, "fdt_note.update", params=("amount", declared))
    assert action.param_names == ("amount", "reason")
    assert action_params(note, action) == (Param("amount", "money"), declared)


def test_a_param_is_checked_when_declared():
    with pytest.raises(ValueError, match="unknown kind"):
        Param("x", "colour")
    with pytest.raises(ValueError, match="choices"):
        Param("x", "choice")
    with pytest.raises(ValueError, match="names its entity"):
        Param("x", "reference")
    with pytest.raises(ValueError, match="identifier"):
        Param("two words")


def test_an_action_body_in_openapi_and_its_checks(desk):
    from fdt_notes.models import Note

    with desk.app.context() as ctx:
        _row, token = create_token(ctx, get_user(ctx.session, "lily"), "test")
    api = desk.browser()
    headers = {"Authorization": f"Bearer {token}"}
    body = api.get("/api/v1/openapi.json").json()["components"]["schemas"][
        "FdtNotesNoteMarkUrgentParams"]
    assert body["additionalProperties"] is False and "required" not in body
    assert body["properties"]["reason"]["anyOf"] == [{"type": "string"}, {"type": "null"}]

    note = desk.id_of(Note, title="演示便签")
    url = f"/api/v1/fdt_notes_note/{note}/mark_urgent"
    unknown = api.post(url, headers=headers, json={"colour": "red"})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["fields"].keys() == {"colour"}
    wrong = api.post(url, headers=headers, json={"reason": 5})
    assert wrong.status_code == 422 and wrong.json()["error"]["fields"].keys() == {"reason"}
    assert desk.get(Note, id=note).title == "演示便签"  # nothing written
    assert api.post(url, headers=headers).status_code == 200  # no body: no params
    assert desk.get(Note, id=note).title == "[加急] 演示便签"


# --------------------------------------------------------------------------
# entities made on their plugin's own page
# --------------------------------------------------------------------------

PLUGIN_PAGE = "<h1>plugin's own new-note page</h1>"


@pytest.fixture
def made_by_plugin(monkeypatch):
    """Notes become an entity without writable fields whose records are made on a page
    of the ``fdt_notes`` plugin (a route of its ``fixdesk_routers``)."""
    import fdt_notes.plugin
    from fastapi import APIRouter
    from fdt_notes.models import Note

    from kernel.web.desk.render import DeskRoute

    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.get("/desk/fdt_notes_note/new")
    def new_note():
        return HTMLResponse(PLUGIN_PAGE)

    monkeypatch.setattr(Note, "__readonly__", tuple(Note.__table__.columns.keys()),
                        raising=False)
    monkeypatch.setattr(Note, "__new_permission__", "create", raising=False)
    monkeypatch.setattr(fdt_notes.plugin, "fixdesk_routers", hookimpl(lambda: [routes]),
                        raising=False)


@pytest.fixture
def plugin_desk(made_by_plugin, desk):
    return desk


def test_new_permission_shows_new_for_the_plugins_page(plugin_desk):
    from fdt_notes.models import Note

    desk = plugin_desk
    info = desk.app.exposed["fdt_notes_note"]
    assert info.new_permission == "create"
    note = desk.id_of(Note, title="演示便签")
    new_link = 'href="/desk/fdt_notes_note/new"'

    clerk = desk.login("lily")  # front desk: holds fdt_note.create
    assert new_link in clerk.get("/desk/fdt_notes_note").text
    form = clerk.get(f"/desk/fdt_notes_note/{note}").text
    assert new_link in form and 'accesskey="s"' not in form  # nothing to save here
    assert new_link in clerk.get("/").text
    page = clerk.get("/desk/fdt_notes_note/new")  # the plugin's route comes first
    assert page.status_code == 200 and PLUGIN_PAGE in page.text

    engineer = desk.login("wangli")  # may read notes, not make them
    assert new_link not in engineer.get("/desk/fdt_notes_note").text
    assert new_link not in engineer.get(f"/desk/fdt_notes_note/{note}").text
    assert new_link not in engineer.get("/").text


def test_without_new_permission_a_readonly_entity_has_no_new(monkeypatch):
    from fdt_notes.models import Note

    from kernel.web.desk.pages import creatable

    assert creatable(describe(Note, "fdt_notes"), lambda permission: True)
    monkeypatch.setattr(Note, "__readonly__", tuple(Note.__table__.columns.keys()),
                        raising=False)
    info = describe(Note, "fdt_notes")
    assert info.new_permission is None and not creatable(info, lambda permission: True)
    monkeypatch.setattr(Note, "__new_permission__", "create", raising=False)
    info = describe(Note, "fdt_notes")
    assert creatable(info, {"fdt_note.create"}.__contains__)
    assert not creatable(info, {"fdt_note.read"}.__contains__)


def test_a_reference_picked_from_the_suggestions_is_found_by_its_label(desk, monkeypatch):
    from kernel import references

    monkeypatch.setattr(references, "MAX_SELECT_OPTIONS", 3)  # references become lookups
    browser = desk.login("lily")
    label = browser.get("/desk/customer/lookup", params={"q": "C0002"}).json()[0]["label"]
    assert label == "C0002 周志华"
    saved = browser.post("/desk/customer_equipment/new", data={
        "csrf": browser.csrf, "_fields": ["customer_id", "model", "serial_no"],
        "customer_id": label, "model": "X1", "serial_no": "LK-LABEL"})
    assert saved.status_code == 303, saved.text
    assert desk.get(CustomerEquipment, serial_no="LK-LABEL").customer_id == desk.id_of(
        Customer, code="C0002")

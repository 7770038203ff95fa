"""The admin console's roles and permissions: the table of every permission against every
role (the plugins' too), and granting and revoking through it, audited like
``fixdesk role grant`` / ``revoke``."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from kernel.audit import AuditLog
from kernel.auth import RoleGrant, add_user
from kernel.masterdata import get_branch
from kernel.web.app import create_app

from .conftest import PASSWORD, csrf_of

ROLES = "/desk/admin/roles"
CELL = re.compile(r'<td class="perm perm-(\w+)" data-state="\w+">\s*<label><input '
                  r'type="checkbox" name="held" value="([^"]+)"( checked)?>')


def cells(page) -> dict[str, tuple[str, bool]]:
    """``role:permission`` → (state, ticked) of every cell of the table."""
    return {value: (state, bool(checked)) for state, value, checked in CELL.findall(page.text)}


def form_of(client, page, *, tick=(), untick=()) -> dict:
    held = {value for value, (_state, ticked) in cells(page).items() if ticked}
    held = (held | set(tick)) - set(untick)
    version = re.search(r'name="version" value="([^"]+)"', page.text).group(1)
    return {"csrf": client.csrf, "version": version, "held": sorted(held)}


def test_the_table_shows_every_permission_and_role(desk):
    root = desk.login("root")
    page = root.get(ROLES)
    assert page.status_code == 200
    found = cells(page)
    assert found["front_desk:customer.update"] == ("default", True)
    assert found["engineer:customer.delete"] == ("none", False)
    assert found["front_desk:fdt_note.create"] == ("default", True)  # a plugin's permission
    assert not any(value.startswith("admin:") for value in found)
    for role in ("admin", "branch_manager", "front_desk", "engineer", "accountant"):
        assert f'data-role="{role}"' in page.text
    rows = page.text.count('<tr data-permission=')
    assert rows == len(desk.app.declared_permissions)
    assert page.text.count('<td class="perm-all">') == rows  # the admin column: all
    assert "perm-module" in page.text


def test_granting_and_revoking_changes_what_a_role_may_do_and_is_audited(desk):
    root = desk.login("root")
    with desk.app.context(user="lily") as ctx:
        assert ctx.can("customer.update") and not ctx.can("customer.delete")
    page = root.get(ROLES)
    answer = root.post(ROLES, data=form_of(root, page, tick=["front_desk:customer.delete"],
                                           untick=["front_desk:customer.update"]))
    assert answer.status_code == 303, answer.text[:500]
    assert answer.headers["location"] == f"{ROLES}?done=saved"
    with desk.app.context(user="lily") as ctx:
        assert not ctx.can("customer.update") and ctx.can("customer.delete")
    with desk.app.context(user="supersh") as ctx:  # another role: unchanged
        assert ctx.can("customer.update")
    found = cells(root.get(answer.headers["location"]))
    assert found["front_desk:customer.update"] == ("revoked", False)
    assert found["front_desk:customer.delete"] == ("granted", True)
    with desk.app.sessions() as session:
        audited = session.scalars(select(AuditLog).where(AuditLog.entity == "role_grant")
                                  .order_by(AuditLog.id)).all()
        grants = session.scalars(select(RoleGrant).order_by(RoleGrant.id)).all()
        assert {(g.role, g.permission, g.granted) for g in grants} == {
            ("front_desk", "customer.delete", True), ("front_desk", "customer.update", False)}
    assert {(a.actor, a.action, a.changes["permission"][1], a.changes["granted"][1])
            for a in audited} == {("root", "insert", "customer.delete", True),
                                  ("root", "insert", "customer.update", False)}
    # lily's desk follows: the customer's form is read-only for her now
    lily = desk.login("lily")
    customer = lily.get("/desk/customer").text
    first = re.search(r'href="/desk/customer/(\d+)"', customer).group(1)
    saved = lily.post(f"/desk/customer/{first}", data={"csrf": lily.csrf, "name": "改名"})
    assert saved.status_code == 403
    # ticked back: the default again, an update in the audit trail
    page = root.get(ROLES)
    answer = root.post(ROLES, data=form_of(root, page, tick=["front_desk:customer.update"]))
    assert answer.status_code == 303
    assert cells(root.get(ROLES))["front_desk:customer.update"] == ("default", True)
    with desk.app.sessions() as session:
        last = session.scalars(select(AuditLog).where(AuditLog.entity == "role_grant")
                               .order_by(AuditLog.id.desc())).first()
        assert (last.action, last.changes) == ("update", {"granted": [False, True]})
    # sending the table unchanged writes nothing
    before = desk.count(AuditLog)
    answer = root.post(ROLES, data=form_of(root, root.get(ROLES)))
    assert answer.headers["location"] == f"{ROLES}?done=unchanged"
    assert desk.count(AuditLog) == before


BAD_CELLS = ["janitor:customer.read", "front_desk:nope.x", "garbage",
             "front_desk:customer.read\x00", "x" * 10_000]


def test_bad_cells_are_refused_and_nothing_is_written(desk):
    root = desk.login("root")
    page = root.get(ROLES)
    before = desk.count(AuditLog)
    for extra in BAD_CELLS:  # each refused: the next one starts from the same table
        case = repr(extra)[:60]
        answer = root.post(ROLES, data=form_of(root, page, tick=[extra],
                                               untick=["front_desk:customer.update"]))
        assert answer.status_code == 422, (case, answer.status_code)
        assert 'class="alert"' in answer.text, case
        assert (desk.count(RoleGrant), desk.count(AuditLog)) == (0, before), case


def test_a_table_made_for_other_modules_is_refused(desk):
    root = desk.login("root")
    form = form_of(root, root.get(ROLES), untick=["front_desk:customer.update"])
    form["version"] = "stale"
    answer = root.post(ROLES, data=form)
    assert answer.status_code == 409 and 'class="alert"' in answer.text
    assert desk.count(RoleGrant) == 0


def test_writes_need_the_csrf_token_and_others_get_403(desk):
    # every role's 403 on every console URL: test_admin_console; here, that a refused
    # real change of the table writes nothing
    root = desk.login("root")
    form = form_of(root, root.get(ROLES), untick=["front_desk:customer.update"])
    before = desk.count(AuditLog)
    assert root.post(ROLES, data={**form, "csrf": ""}).status_code == 403
    assert root.post(ROLES, data={**form, "csrf": "wrong"}).status_code == 403
    supersh = desk.login("supersh")
    assert supersh.get(ROLES).status_code == 403
    assert supersh.post(ROLES, data={**form, "csrf": supersh.csrf}).status_code == 403
    assert (desk.count(RoleGrant), desk.count(AuditLog)) == (0, before)


def test_an_enabled_plugin_s_roles_are_columns_with_their_defaults(make_site):
    site = make_site(["acme_warranty"], branch_code="SH", branch_name="上海服务中心")
    web = create_app(site)
    app = web.state.fixdesk
    try:
        with app.context() as ctx:
            add_user(ctx, "root", "管理员", PASSWORD, get_branch(ctx, "SH"), roles=["admin"])
        client = TestClient(web, raise_server_exceptions=False, follow_redirects=False)
        assert client.post("/login", data={"username": "root",
                                           "password": PASSWORD}).status_code == 303
        page = client.get(ROLES)
        assert page.status_code == 200
        assert 'data-role="warranty_clerk"' in page.text
        found = cells(page)
        assert found["warranty_clerk:acme_warranty_category.create"] == ("default", True)
        assert found["warranty_clerk:customer.read"] == ("none", False)
        client.csrf = csrf_of(page)
        answer = client.post(ROLES, data=form_of(client, page,
                                                 tick=["warranty_clerk:customer.read"]))
        assert answer.status_code == 303
        assert cells(client.get(ROLES))["warranty_clerk:customer.read"] == ("granted", True)
        client.close()
    finally:
        app.close()

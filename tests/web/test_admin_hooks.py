"""The admin console's "Hooks per branch": the matrix of plugin hook implementations ×
branches, each cell a switch calling the same service as ``fixdesk hooks disable|enable``,
audited and effective with the branch's next request (SCENARIOS.md, 8)."""

from __future__ import annotations

import re

import pytest
from desk_sessions import demo_sessions
from repair_jobs import SmsGateway, closed_order, survey_sms
from sqlalchemy import select

from kernel import hookimpl
from kernel.audit import AuditLog
from kernel.contributions import title_of, titled
from kernel.hookswitch import HookSwitch, hook_matrix, implementations
from kernel.i18n import N_, use_locale
from kernel.web.app import create_app

SWITCH = "/desk/admin/hooks/switch"


def _switch(client, plugin: str, hook: str, branch: str, enabled: str, **extra):
    return client.post(SWITCH, data={"csrf": client.csrf, "plugin": plugin, "hook": hook,
                                     "branch": branch, "enabled": enabled, **extra})


def english(client):
    """The client's user reads the desk in English from now on."""
    answer = client.post("/desk/language", data={"csrf": client.csrf, "locale": "en",
                                                 "next": "/"})
    assert answer.status_code == 303
    return client


def _audit(app, entity: str) -> list[AuditLog]:
    with app.sessions() as session:
        rows = session.scalars(select(AuditLog).where(AuditLog.entity == entity)
                               .order_by(AuditLog.id)).all()
        session.expunge_all()
        return rows


# --------------------------------------------------------------------------
# the titles plugins give their implementations
# --------------------------------------------------------------------------


def test_titled_marks_functions_and_methods_in_either_order():
    @hookimpl
    @titled(N_("Say hello"))
    def first():
        """A hook implementation."""

    @titled(N_("Say goodbye"))
    @hookimpl
    def second():
        """Another."""

    class Plugin:
        @hookimpl
        @titled(N_("As a method"))
        def third(self):
            """A method."""

    assert title_of(first) == "Say hello" and title_of(second) == "Say goodbye"
    assert title_of(Plugin().third) == "As a method"
    assert hasattr(first, "fixdesk_impl") and hasattr(second, "fixdesk_impl")

    def untitled():
        """No title."""

    assert title_of(untitled) is None
    with pytest.raises(ValueError):
        titled("  ")


# --------------------------------------------------------------------------
# the matrix and its switches (the desk fixture: fdt_notes)
# --------------------------------------------------------------------------


def test_the_matrix_shows_each_implementation_for_each_branch(desk):
    root = desk.login("root")
    page = root.get("/desk/admin/hooks")
    assert page.status_code == 200
    with desk.app.context() as ctx:
        rows = hook_matrix(ctx)
        codes = [b for (b,) in ctx.session.execute(select(HookSwitch.id))]
    assert codes == [] and rows
    assert [(r.plugin, r.hook) for r in rows] == implementations(desk.app.pm)
    for row in rows:
        assert f'id="hook-{row.plugin}-{row.hook}"' in page.text
    # one switch per implementation and branch, all on
    branches = {"SH", "JD"}
    assert set(re.findall(r'name="branch" value="(\w+)"', page.text)) >= branches
    assert page.text.count('class="small switch-on"') >= len(rows) * len(branches)
    assert 'class="small switch-off"' not in page.text
    assert 'name="csrf"' in page.text


def test_switching_off_and_on_through_the_desk_is_audited(desk):
    root = desk.login("root")
    plugin, hook = "fdt_notes", "fixdesk_actions"
    off = _switch(root, plugin, hook, "JD", "0")
    assert off.status_code == 303
    assert off.headers["location"].startswith("/desk/admin/hooks?done=off&plugin=fdt_notes")
    assert desk.count(HookSwitch, plugin=plugin, hook=hook) == 1
    with desk.app.context(branch="JD") as ctx:
        assert (plugin, hook) in ctx.switched_off
    with desk.app.context(branch="SH") as ctx:
        assert not ctx.switched_off
    page = root.get(off.headers["location"])
    assert page.status_code == 200 and 'role="status"' in page.text and "JD" in page.text
    row = page.text.split(f'id="hook-{plugin}-{hook}"')[1].split("</tr>")[0]
    assert row.count("switch-off") == 1 and "switch-on" in row  # off in JD only
    again = _switch(root, plugin, hook, "JD", "0")  # already off: nothing new
    assert again.status_code == 303 and desk.count(HookSwitch) == 1
    on = _switch(root, plugin, hook, "jd", "1")
    assert on.status_code == 303 and desk.count(HookSwitch) == 0
    audit = _audit(desk.app, "hook_switch")
    assert [r.action for r in audit] == ["insert", "delete"]
    assert {r.actor for r in audit} == {"root"}
    assert audit[0].changes["hook"][1] == hook and audit[0].changes["plugin"][1] == plugin


BAD_SWITCHES = [
    ({"plugin": "fdt_notes", "hook": "no_such_hook"}, 422, "has no implementation"),
    ({"plugin": "fdt_nobody"}, 422, "has no implementation"),
    ({"hook": "fixdesk_settings"}, 422, "works the same in every branch"),
    ({"hook": "fixdesk_document_cancelled"}, 422, "works the same in every branch"),
    ({"branch": "ZZ"}, 422, "no branch ZZ"),
    ({"branch": ""}, 422, "no branch"),
    ({"enabled": "maybe"}, 422, "choose on or off"),
    ({"plugin": "fdt_notes\x00"}, 422, "has no implementation"),
    ({"hook": "x" * 100_000}, 422, "has no implementation"),
    ({"branch": "J\x00D"}, 422, "no branch"),
]


def test_bad_switches_and_a_missing_csrf_token_are_refused_and_change_nothing(desk):
    root = english(desk.login("root"))
    for fields, status, message in BAD_SWITCHES:  # one site: none of them writes
        case = {k: v[:40] for k, v in fields.items()}
        sent = {"plugin": "fdt_notes", "hook": "fixdesk_actions", "branch": "JD",
                "enabled": "0", **fields}
        answer = root.post(SWITCH, data={"csrf": root.csrf, **sent})
        assert answer.status_code == status, (case, answer.status_code)
        assert message in answer.text and 'role="alert"' in answer.text, (case, message)
        assert len(answer.text) < 200_000, case  # a huge name is not echoed whole
        assert desk.count(HookSwitch) == 0 and _audit(desk.app, "hook_switch") == [], case
    # a good switch without the CSRF token
    answer = root.post(SWITCH, data={"plugin": "fdt_notes", "hook": "fixdesk_actions",
                                     "branch": "JD", "enabled": "0"})
    assert answer.status_code == 403
    assert desk.count(HookSwitch) == 0


def test_others_may_neither_see_nor_switch(desk):
    """test_admin_console refuses every console URL to every other role; here: the refused
    switch writes nothing."""
    client = desk.login("supersh")
    assert client.get("/desk/admin/hooks").status_code == 403
    answer = _switch(client, "fdt_notes", "fixdesk_actions", "JD", "0")
    assert answer.status_code == 403
    assert desk.count(HookSwitch) == 0 and _audit(desk.app, "hook_switch") == []


# --------------------------------------------------------------------------
# scenario 8 on the repair site: JD phones its customers instead of the survey SMS
# --------------------------------------------------------------------------


@pytest.fixture
def repair_web(make_site):
    site = make_site(["repair"], demo=True, branch_code="SH", branch_name="上海服务中心")
    web = create_app(site)
    web.state.fixdesk.pm.register(SmsGateway(), name="sms_gateway")
    yield web
    web.state.fixdesk.close()


def test_jd_switches_off_the_survey_sms_in_the_desk(repair_web):
    app = repair_web.state.fixdesk
    with demo_sessions(repair_web) as open_session:
        admin = open_session("admin")
        admin.cookies.set("fixdesk_lang", "zh_CN")
        page = admin.get("/desk/admin/hooks")
        assert page.status_code == 200
        row = page.text.split('id="hook-repair-repair_order_closed"')[1].split("</tr>")[0]
        with use_locale("zh_CN"):  # what it does, in the plugin's own words, translated
            from kernel.i18n import _

            title = _("Send the customer a satisfaction survey by SMS or e-mail")
        assert title != "Send the customer a satisfaction survey by SMS or e-mail"
        assert title in row and "repair_order_closed" in row and "维修" in page.text
        # every switchable implementation of repair has a title
        with app.context() as ctx:
            untitled = [r.hook for r in hook_matrix(ctx) if r.plugin == "repair"
                        and r.title is None]
        assert untitled == []
        off = _switch(admin, "repair", "repair_order_closed", "JD", "0")
        assert off.status_code == 303
    jd, sh = closed_order(app, jd=True), closed_order(app, jd=False)
    sms = survey_sms(app)
    assert sh in sms and jd not in sms  # JD's front desk phones instead
    [row] = [r for r in _audit(app, "hook_switch")]
    assert row.action == "insert" and row.actor == "admin"

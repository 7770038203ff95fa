"""The admin console's Settings page: every declared setting with its site value and the
branches' overrides, typed inputs, set and unset through the same services as
``fixdesk settings set|unset``, audited; refused values come back next to their input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import select

from kernel.audit import AuditLog
from kernel.contributions import Setting
from kernel.settings import BranchSettingValue, SiteSettingValue, get_setting

SET, UNSET = "/desk/admin/settings/set", "/desk/admin/settings/unset"
AMOUNT = "fdt_notes.max_amount"  # Decimal, per branch, default 1000


def english(client):
    """The client's user reads the desk in English from now on."""
    answer = client.post("/desk/language", data={"csrf": client.csrf, "locale": "en",
                                                 "next": "/"})
    assert answer.status_code == 303
    return client


def _set(client, key: str, value: str, branch: str = ""):
    return client.post(SET, data={"csrf": client.csrf, "key": key, "value": value,
                                  "branch": branch})


def _unset(client, key: str, branch: str = ""):
    return client.post(UNSET, data={"csrf": client.csrf, "key": key, "branch": branch})


def _audit(desk) -> list[AuditLog]:
    with desk.app.sessions() as session:
        rows = session.scalars(select(AuditLog).where(AuditLog.entity.in_(
            ("setting_value", "branch_setting_value"))).order_by(AuditLog.id)).all()
        session.expunge_all()
        return rows


def _value(desk, key: str, branch: str | None = None):
    with desk.app.context(branch=branch) as ctx:
        return get_setting(ctx, key, ctx.branch)


def _panel(page, key: str) -> str:
    """The HTML of one setting's panel."""
    return page.text.split(f'id="setting-{key}"')[1].split('class="admin-panel setting"')[0]


@pytest.fixture
def typed_settings(desk):
    """A yes/no, a time and a number setting beside the declared ones (none of the desk's
    plugins declares these types)."""
    extra = [Setting("kernel.test_flag", bool, False, "A yes/no test setting"),
             Setting("kernel.test_opens", dt.time, dt.time(8, 30), "A time test setting",
                     per_branch=True),
             Setting("kernel.test_ratio", float, 0.5, "A number test setting")]
    for setting in extra:
        desk.app.settings_registry[setting.key] = setting
    yield extra
    for setting in extra:
        desk.app.settings_registry.pop(setting.key)


def test_every_setting_is_shown_with_an_input_of_its_type(desk, typed_settings):
    root = english(desk.login("root"))
    page = root.get("/desk/admin/settings")
    assert page.status_code == 200
    for key in desk.app.settings_registry:
        assert f'id="setting-{key}"' in page.text, key
    # grouped by who declared them: the kernel's, then the test plugin's
    assert page.text.index(">System</h2>") < page.text.index(f'id="setting-{AMOUNT}"')
    assert "Largest amount on one note" in _panel(page, AMOUNT)  # the description as help
    kinds = {"kernel.login_max_attempts": 'type="number" step="1"',
             AMOUNT: 'type="number" step="any"', "kernel.test_ratio": 'type="number" step="any"',
             "kernel.test_opens": 'type="time"', "kernel.attachment_types": 'placeholder="a,b"',
             "numbering.fdt_note": 'type="text"', "kernel.test_flag": '<option value="false"'}
    for key, control in kinds.items():
        assert control in _panel(page, key), key
    assert 'value="08:30"' in _panel(page, "kernel.test_opens")
    assert 'value="false" selected' in _panel(page, "kernel.test_flag")
    # per-branch settings have a row per branch, site-wide ones none
    amount = _panel(page, AMOUNT)
    assert 'name="branch" value="JD"' in amount and 'name="branch" value="SH"' in amount
    assert 'name="branch" value="JD"' not in _panel(page, "kernel.login_max_attempts")


def test_site_value_and_branch_override_set_and_unset_through_the_desk(desk):
    root = desk.login("root")
    done = _set(root, AMOUNT, "500")
    assert done.status_code == 303
    assert done.headers["location"].startswith(f"/desk/admin/settings?done=set&key={AMOUNT}")
    assert _value(desk, AMOUNT, "JD") == Decimal("500")
    jd = _set(root, AMOUNT, "50", "jd")
    assert jd.status_code == 303 and "branch=JD" in jd.headers["location"]
    assert _value(desk, AMOUNT, "JD") == Decimal("50")
    assert _value(desk, AMOUNT, "SH") == Decimal("500")
    page = root.get(jd.headers["location"])
    assert page.status_code == 200 and 'role="status"' in page.text
    amount = _panel(page, AMOUNT)
    assert 'value="500"' in amount and 'value="50"' in amount
    assert amount.count('action="/desk/admin/settings/unset"') == 2  # the site's and JD's
    # JD back to the site value, then the site back to the default
    assert _unset(root, AMOUNT, "JD").status_code == 303
    assert _value(desk, AMOUNT, "JD") == Decimal("500")
    assert _unset(root, AMOUNT).status_code == 303
    assert _value(desk, AMOUNT, "JD") == Decimal("1000")
    assert desk.count(SiteSettingValue) == 0 and desk.count(BranchSettingValue) == 0
    audit = _audit(desk)
    assert [(r.entity, r.action) for r in audit] == [
        ("setting_value", "insert"), ("branch_setting_value", "insert"),
        ("branch_setting_value", "delete"), ("setting_value", "delete")]
    assert {r.actor for r in audit} == {"root"}
    assert audit[0].changes["value"][1] == "500"


def test_typed_values_are_stored_as_their_type(desk, typed_settings):
    root = desk.login("root")
    assert _set(root, "kernel.test_flag", "true").status_code == 303
    assert _set(root, "kernel.test_opens", "09:15", "JD").status_code == 303
    assert _set(root, "kernel.test_ratio", "0.25").status_code == 303
    assert _set(root, "kernel.attachment_types", "png, pdf").status_code == 303
    assert _value(desk, "kernel.test_flag") is True
    assert _value(desk, "kernel.test_opens", "JD") == dt.time(9, 15)
    assert _value(desk, "kernel.test_opens", "SH") == dt.time(8, 30)
    assert _value(desk, "kernel.test_ratio") == 0.25
    assert _value(desk, "kernel.attachment_types") == ["png", "pdf"]
    page = root.get("/desk/admin/settings")
    assert 'value="true" selected' in _panel(page, "kernel.test_flag")
    assert 'value="09:15"' in _panel(page, "kernel.test_opens")


REFUSED = [  # key, value, branch, message
    ("kernel.login_max_attempts", "three", "", "expects integer, got 'three'"),
    ("kernel.login_max_attempts", "1.5", "", "expects integer"),
    (AMOUNT, "lots", "JD", "expects decimal, got 'lots'"),
    (AMOUNT, "NaN", "", "expects decimal"),
    (AMOUNT, "1e30", "", "is too large"),
    ("kernel.login_max_attempts", "9" * 40, "", "is too large"),
    ("kernel.attachment_max_mb", "0", "", "from 1 to 1024"),  # the setting's own check
    ("kernel.attachment_types", "png,exe", "", "must be some of"),
    ("numbering.fdt_note", "X-{###}", "JD", "site-wide; it cannot be set per branch"),
    ("numbering.fdt_note", "X-{nothing}", "", "numbering pattern"),
    ("numbering.fdt_note", "NT-\x00-{###}", "", "must not contain control characters"),
    ("numbering.fdt_note", "NT-\x1b[31m-{###}", "", "must not contain control characters"),
    ("numbering.fdt_note", "NT-\u202e-{###}", "", "must not contain control characters"),
    ("numbering.fdt_note", "N" * 100_000 + "{###}", "", "at most 1000 characters"),
    (AMOUNT, "5", "ZZ", "no branch ZZ"),
    (AMOUNT, "5", "J\x00D", "no branch JD"),
]


def test_refused_values_come_back_by_their_input_and_nothing_is_stored(desk):
    root = english(desk.login("root"))
    answers = {}
    for key, value, branch, message in REFUSED:  # each refused: nothing to restore
        case = f"{key}={value!r:.60} branch={branch!r}"
        answer = answers[key, value, branch] = _set(root, key, value, branch)
        assert answer.status_code == 422, (case, answer.status_code)
        panel = unescape(_panel(answer, key))
        assert message in panel and 'class="field-error"' in panel, (case, answer.text[-3000:])
        assert 'role="alert"' in answer.text, case  # a line at the top says it was not saved
        assert len(answer.text) < 100_000, case  # a huge value is not echoed whole
        assert desk.count(SiteSettingValue) == 0 and desk.count(BranchSettingValue) == 0, case
        assert _audit(desk) == [], case
    # a refused branch value is shown in its branch's row
    jd_row = _panel(answers[AMOUNT, "lots", "JD"], AMOUNT) \
        .split('name="branch" value="JD"')[1].split("</tr>")[0]
    assert "expects decimal, got &#39;lots&#39;" in jd_row and 'value="lots"' in jd_row
    assert 'aria-invalid="true"' in jd_row


def test_unknown_keys_are_refused_at_the_top(desk):
    root = english(desk.login("root"))
    for data, message in [({"key": "nosuch.key", "value": "1"}, "unknown setting 'nosuch.key'"),
                          ({"key": "k" * 100_000, "value": "1"}, "unknown setting")]:
        case = repr(data)[:60]
        answer = root.post(SET, data={"csrf": root.csrf, "branch": "", **data})
        assert answer.status_code == 422 and message in unescape(answer.text), case
        assert 'role="alert"' in answer.text and len(answer.text) < 100_000, case
        unset = root.post(UNSET, data={"csrf": root.csrf, "branch": "", **data})
        assert unset.status_code == 422 and message in unescape(unset.text), case
        assert desk.count(SiteSettingValue) == 0 and _audit(desk) == [], case


def test_unset_of_a_site_wide_setting_for_a_branch_is_refused(desk):
    root = english(desk.login("root"))
    assert _set(root, "numbering.fdt_note", "NT-{###}").status_code == 303
    answer = _unset(root, "numbering.fdt_note", "JD")
    assert answer.status_code == 422 and "site-wide" in _panel(answer, "numbering.fdt_note")
    assert desk.count(SiteSettingValue) == 1


def test_writes_need_the_csrf_token_and_others_get_403(desk):
    # every role's 403 on every console URL: test_admin_console; here, that refused
    # writes of a real value store nothing
    root = desk.login("root")
    for url in (SET, UNSET):
        answer = root.post(url, data={"key": AMOUNT, "value": "5", "branch": ""})
        assert answer.status_code == 403, url
    supersh = desk.login("supersh")
    assert supersh.get("/desk/admin/settings").status_code == 403
    assert _set(supersh, AMOUNT, "5").status_code == 403
    assert _set(supersh, AMOUNT, "5", "SH").status_code == 403
    assert _unset(supersh, AMOUNT).status_code == 403
    assert desk.count(SiteSettingValue) == 0 and desk.count(BranchSettingValue) == 0
    assert _audit(desk) == []


# --------------------------------------------------------------------------
# the CLI: the same services
# --------------------------------------------------------------------------


def test_cli_settings_unset(make_site, app_of, fixdesk):
    site = make_site(["fdt_notes"], demo=True, branch_code="SH")
    assert fixdesk("--site", site.path, "settings", "set", AMOUNT, "500").code == 0
    assert fixdesk("--site", site.path, "settings", "set", AMOUNT, "50",
                   "--branch", "JD").code == 0
    done = fixdesk("--site", site.path, "settings", "unset", AMOUNT, "--branch", "JD")
    assert (done.code, done.out) == (0, f"{AMOUNT} unset, now 500\n")
    again = fixdesk("--site", site.path, "settings", "unset", AMOUNT, "--branch", "JD")
    assert (again.code, again.out) == (0, f"{AMOUNT} was not set, it is 500\n")
    assert fixdesk("--site", site.path, "settings", "unset", AMOUNT).out == \
        f"{AMOUNT} unset, now 1000\n"
    refused = fixdesk("--site", site.path, "settings", "unset", "numbering.fdt_note",
                      "--branch", "JD")
    assert refused.code == 2 and "site-wide; it cannot be set per branch" in refused.err
    unknown = fixdesk("--site", site.path, "settings", "unset", "nosuch.key")
    assert unknown.code == 2 and "unknown setting 'nosuch.key'" in unknown.err
    control = fixdesk("--site", site.path, "settings", "set", "numbering.fdt_note",
                      "NT-\x1b-{###}")
    assert control.code == 2 and "must not contain control characters" in control.err
    with app_of(site).sessions() as session:
        rows = session.scalars(select(AuditLog).where(AuditLog.entity.in_(
            ("setting_value", "branch_setting_value"))).order_by(AuditLog.id)).all()
        assert [(r.entity, r.action) for r in rows] == [
            ("setting_value", "insert"), ("branch_setting_value", "insert"),
            ("branch_setting_value", "delete"), ("setting_value", "delete")]
        assert rows[-1].actor.startswith("cli:")

"""Declared settings per site and branch; per-branch hook switches (SCENARIOS.md, 8)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kernel.errors import ValidationError


@pytest.fixture
def site(make_site):
    return make_site(["fdt_notes", "fdt_tags", "fdt_alpha"], demo=True, branch_code="SH")


def test_settings_fall_back_branch_then_site_then_default(site, app_of, fixdesk):
    import fdt_notes.plugin as notes

    app = app_of(site)
    with app.context(branch="JD") as ctx:
        assert ctx.setting("fdt_notes.max_amount") == Decimal("1000")
    assert fixdesk("--site", site.path, "settings", "set", "fdt_notes.max_amount", "500").code == 0
    assert fixdesk("--site", site.path, "settings", "set", "fdt_notes.max_amount", "50",
                   "--branch", "JD").code == 0
    with app.context(branch="JD") as ctx:
        assert ctx.setting("fdt_notes.max_amount") == Decimal("50")
        with pytest.raises(ValidationError, match="amount above 50"):
            notes.add_note(ctx, ctx.branch.id, "too much", "60.00")
    with app.context(branch="SH") as ctx:
        assert ctx.setting("fdt_notes.max_amount") == Decimal("500")
        notes.add_note(ctx, ctx.branch.id, "fine in SH", "60.00")
    listing = fixdesk("--site", site.path, "settings", "list", "--branch", "JD").out.splitlines()
    assert listing[0].split("\t")[:4] == ["KEY", "VALUE", "TYPE", "SCOPE"]
    row = next(ln.split("\t") for ln in listing if ln.startswith("fdt_notes.max_amount"))
    assert row[1:4] == ["50", "decimal", "branch"]


@pytest.mark.parametrize("args, message", [
    (["nosuch.key", "1"], "unknown setting 'nosuch.key'"),
    (["fdt_notes.max_amount", "lots"], "fdt_notes.max_amount expects decimal, got 'lots'"),
    (["numbering.fdt_note", "X-{###}", "--branch", "SH"], "site-wide; it cannot be set per branch"),
    (["fdt_notes.max_amount", "5", "--branch", "XX"], "no branch XX"),
])
def test_bad_settings_are_refused_with_one_line(site, fixdesk, args, message):
    result = fixdesk("--site", site.path, "settings", "set", *args)
    assert result.code == 2 and result.err.count("\n") == 1
    assert message in result.err, result.err


def test_switching_a_hook_off_for_one_branch(site, app_of, fixdesk):
    import fdt_notes.plugin as notes

    app = app_of(site)
    listing = fixdesk("--site", site.path, "hooks", "list").out.splitlines()
    assert listing[0].split("\t") == ["PLUGIN", "HOOK", "STATE"]
    assert "fdt_tags\tfdt_notes_added\ton" in listing
    result = fixdesk("--site", site.path, "hooks", "disable", "fdt_tags", "fdt_notes_added",
                     "--branch", "JD")
    assert result.out == "fdt_tags.fdt_notes_added switched off for JD\n"
    with app.context(branch="JD") as ctx:
        _note, answers = notes.add_note(ctx, ctx.branch.id, "JD note", "1.00")
        assert answers == ["alpha"]  # fdt_tags is never called for JD
    with app.context(branch="SH") as ctx:
        _note, answers = notes.add_note(ctx, ctx.branch.id, "SH note", "1.00")
        assert answers == ["tagged", "alpha"]  # other branches are unaffected
    assert "fdt_tags\tfdt_notes_added\toff in JD" in fixdesk(
        "--site", site.path, "hooks", "list").out.splitlines()
    jd = fixdesk("--site", site.path, "hooks", "list", "--branch", "JD").out.splitlines()
    assert "fdt_tags\tfdt_notes_added\toff" in jd and "fdt_alpha\tfdt_notes_added\ton" in jd
    assert fixdesk("--site", site.path, "hooks", "enable", "fdt_tags", "fdt_notes_added",
                   "--branch", "JD").code == 0
    with app.context(branch="JD") as ctx:
        assert notes.add_note(ctx, ctx.branch.id, "again", "1.00")[1] == ["tagged", "alpha"]


def test_switching_is_audited(site, app_of, fixdesk):
    from sqlalchemy import select

    from kernel.audit import AuditLog

    fixdesk("--site", site.path, "hooks", "disable", "fdt_tags", "fdt_notes_added",
            "--branch", "JD")
    fixdesk("--site", site.path, "hooks", "enable", "fdt_tags", "fdt_notes_added",
            "--branch", "JD")
    with app_of(site).sessions() as session:
        rows = session.scalars(select(AuditLog).where(AuditLog.entity == "hook_switch")
                               .order_by(AuditLog.id)).all()
    assert [r.action for r in rows] == ["insert", "delete"]
    assert rows[0].actor.startswith("cli:") and rows[0].changes["hook"][1] == "fdt_notes_added"


@pytest.mark.parametrize("args, message", [
    (["fdt_tags", "no_such_hook", "--branch", "JD"], "has no implementation of hook"),
    (["fdt_nobody", "fdt_notes_added", "--branch", "JD"], "has no implementation of hook"),
    (["fdt_tags", "fdt_notes_added", "--branch", "ZZ"], "no branch ZZ"),
    (["fdt_notes", "fixdesk_settings", "--branch", "JD"],
     "hook fixdesk_settings works the same in every branch"),
    (["fdt_notes", "fixdesk_document_cancelled", "--branch", "JD"],
     "hook fixdesk_document_cancelled works the same in every branch"),
])
def test_bad_hook_switches_are_refused(site, fixdesk, args, message):
    result = fixdesk("--site", site.path, "hooks", "disable", *args)
    assert result.code == 2 and message in result.err


def test_relays_are_cached_per_set_of_switches(site, app_of, fixdesk):
    fixdesk("--site", site.path, "hooks", "disable", "fdt_tags", "fdt_notes_added",
            "--branch", "JD")
    app = app_of(site)
    with app.context(branch="JD") as first:
        relay, caller = first.hook, first.hook.fdt_notes_added
    with app.context(branch="JD") as second:
        assert second.hook is relay and second.hook.fdt_notes_added is caller
    with app.context(branch="SH") as ctx:
        assert ctx.hook is app.pm.hook

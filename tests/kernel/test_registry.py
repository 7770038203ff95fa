"""The site's registry refuses what would collide or point nowhere, and a plugin whose
registration fails is disabled with its reason while the site and the others start.

``fdt_misfit`` contributes, as ``FDT_MISFIT`` asks when the site starts, a duplicate key,
an entity nobody has, a hook that raises, a name without its plugin's prefix, or a
wrong answer; without it, an action on repair's work order that waits for repair.
"""

from __future__ import annotations

import pytest

from kernel.web.app import create_app

REFUSALS = {
    "raises": "registration failed: RuntimeError: the settings file is on fire (plugin.py:",
    "duplicate_setting": "setting fdt_misfit.level is registered by fdt_misfit already",
    "duplicate_permission": "permission fdt_note.read belongs to fdt_notes",
    "duplicate_role": "role engineer is registered by kernel already",
    "missing_entity": "action fdt_misfit_nothing.poke names the entity fdt_misfit_nothing, "
                      "which no plugin has",
    "unprefixed": "setting level: the name must start with fdt_misfit.",
    "unprefixed_action": "action poke: the name must start with fdt_misfit_",
    "bad_document": "document fdt_misfit.sheet: unknown paper 'A3'",
    "wrong_answer": "fixdesk_documents answers Document objects, not 'not a document'",
    "unlisted_partner": "part tags needs fdt_tags, which manifest.toml does not name in "
                        "integrates",
}


@pytest.fixture
def misfit_site(make_site):
    return make_site(["fdt_notes", "fdt_misfit"], demo=True)


@pytest.mark.parametrize("mode", sorted(REFUSALS))
def test_a_refused_contribution_disables_its_plugin_only(misfit_site, app_of, monkeypatch,
                                                          mode):
    monkeypatch.setenv("FDT_MISFIT", mode)
    app = app_of(misfit_site)
    assert app.enabled_plugins == ["fdt_notes"]
    assert app.failed_plugins["fdt_misfit"].startswith(REFUSALS[mode])
    assert "fdt_misfit.level" not in app.settings_registry  # nothing of it is taken
    assert ("fdt_notes_note", "mark_urgent") in app.actions  # the others work
    assert not app.pm.has_plugin("fdt_misfit")


def test_the_reason_is_shown_by_the_cli_and_the_desk(misfit_site, monkeypatch, fixdesk):
    monkeypatch.setenv("FDT_MISFIT", "missing_entity")
    listing = fixdesk("--site", misfit_site.path, "plugins", "list")
    line = next(ln for ln in listing.out.splitlines() if ln.startswith("fdt_misfit"))
    assert "enabled (not loaded)" in line and "fdt_misfit_nothing" in line
    from fastapi.testclient import TestClient

    from kernel.demo import DEMO_PASSWORD

    web = create_app(misfit_site)
    try:
        with TestClient(web, follow_redirects=False) as client:
            client.post("/login", data={"username": "admin", "password": DEMO_PASSWORD})
            home = client.get("/").text
            assert "fdt_misfit" in home and "fdt_misfit_nothing, which no plugin has" in home
    finally:
        web.state.fixdesk.close()


def test_a_contribution_for_a_disabled_partner_waits_and_is_listed(misfit_site, app_of,
                                                                   fixdesk):
    app = app_of(misfit_site)
    assert "fdt_misfit" in app.enabled_plugins and "fdt_misfit" not in app.failed_plugins
    assert ("repair_work_order", "fdt_misfit_poke") not in app.actions
    [waiting] = [i for i in app.inactive if i.plugin == "fdt_misfit"]
    assert (waiting.what, waiting.needs) == ("action repair_work_order.fdt_misfit_poke",
                                            ("repair",))
    out = fixdesk("--site", misfit_site.path, "plugins", "list").out
    assert "  - action repair_work_order.fdt_misfit_poke: inactive (needs repair)" in out


def test_with_the_partner_on_the_contribution_is_taken(make_site, app_of):
    app = app_of(make_site(["repair", "fdt_misfit"]))
    action = app.actions[("repair_work_order", "fdt_misfit_poke")]
    assert app.registry.owner(action) == "fdt_misfit"
    assert app.registry.source(action) == ("fdt_misfit", "fixdesk_actions")
    # repair's own glue for partners that are off (repair.complaints) stays inactive
    assert [i for i in app.inactive if i.plugin == "fdt_misfit"] == []


def test_a_partner_s_entity_misspelt_is_refused_while_the_partner_is_on(make_site, app_of,
                                                                       monkeypatch):
    site = make_site(["repair", "fdt_misfit"])
    monkeypatch.setenv("FDT_MISFIT", "typo_of_partner")
    app = app_of(site)
    assert app.enabled_plugins == ["repair"]
    assert app.failed_plugins["fdt_misfit"] == (
        "action repair_wrok_order.fdt_misfit_typo names the entity repair_wrok_order, "
        "which no plugin has")


def test_every_contribution_knows_its_plugin(make_site, app_of):
    app = app_of(make_site(["fdt_notes"]))
    registry = app.registry
    assert registry.owner(app.actions[("fdt_notes_note", "mark_urgent")]) == "fdt_notes"
    assert registry.owner(app.reports["fdt_notes.by_branch"]) == "fdt_notes"
    assert registry.owner(app.settings_registry["fdt_notes.max_amount"]) == "fdt_notes"
    assert registry.owner(app.documents["kernel.equipment_record"]) == "kernel"
    assert registry.table_owners["fdt_notes_note"] == "fdt_notes"
    assert registry.table_owners["customer"] == "kernel"

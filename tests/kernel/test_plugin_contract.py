"""The contract every plugin in the repository keeps (as Tryton's ``ModuleTestCase``).

For each plugin under ``plugins/`` and each test distribution under
``tests/distributions/``: it installs alone (with only its dependencies) and with all
the others, without failing or waiting on anything it cannot have; its tables migrate
down and up again to the models; every hook it implements or offers and every
contribution is documented and titled in Chinese (:mod:`kernel.plugin_checks`); and it
imports no other plugin (``test_layering.py``). That every string of its code is in its
own catalogue is ``test_i18n.py``'s check, for the same plugins.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel import migrate, plugin_checks

ROOT = Path(__file__).resolve().parents[2]
INSIDE = sorted(p.parent.name for p in ROOT.glob("plugins/*/manifest.toml"))
OUTSIDE = sorted(p.parent.name for p in ROOT.glob("tests/distributions/*/*/manifest.toml"))
EVERY = INSIDE + OUTSIDE


def _dependencies(name: str) -> list[str]:
    from kernel.plugins import discover

    found = discover()
    wanted, queue = [], [name]
    while queue:
        current = queue.pop()
        for dependency in found[current].depends:
            if dependency not in wanted:
                wanted.append(dependency)
                queue.append(dependency)
    return [*wanted, name]


def test_the_plugins_are_found():
    assert "repair" in INSIDE and {"acme_warranty", "acme_rating"} <= set(OUTSIDE)


@pytest.mark.parametrize("plugin", EVERY)
def test_installs_alone_and_migrates_down_and_up(make_site, app_of, plugin):
    site = make_site(_dependencies(plugin))
    app = app_of(site)
    assert app.failed_plugins == {}
    integrates = set(app.plugins[plugin].integrates)
    waiting = {need for item in app.inactive for need in item.needs}
    assert waiting <= integrates, f"waits for {waiting - integrates}, not in its manifest"
    assert migrate.schema_differences(app) == []
    branches = [unit for unit in app.units if unit.split(".")[0] == plugin]
    for branch in reversed(branches):
        migrate.downgrade(app, branch)
    from sqlalchemy import inspect

    left = set(inspect(app.engine).get_table_names())
    assert not {t for unit in branches for t in app.registry.unit_tables.get(unit, [])} & left
    migrate.upgrade(app)
    assert migrate.schema_differences(app) == []


@pytest.mark.parametrize("plugin", EVERY)
def test_documented_and_titled_in_chinese(make_site, app_of, plugin):
    app = app_of(make_site(EVERY))
    assert app.failed_plugins == {} and app.inactive == []
    assert plugin_checks.documentation_problems(app, plugin) == []
    assert plugin_checks.untranslated_titles(app, plugin) == []


def test_all_together_every_part_is_registered(make_site, app_of):
    app = app_of(make_site(EVERY))
    assert set(app.enabled_plugins) == set(EVERY)
    assert {"acme_warranty.repair", "acme_rating.repair"} <= set(app.units)
    assert migrate.schema_differences(app) == []


def test_the_checks_find_what_is_missing(make_site, app_of):
    """``fdt_notes`` is a test plugin written without care for the contract."""
    app = app_of(make_site(["fdt_notes"]))
    problems = plugin_checks.documentation_problems(app, "fdt_notes")
    assert "fdt_notes: the implementation of fixdesk_entities has no docstring" in problems
    assert "hook fdt_notes_added (offered): no ':param note:' line" in problems
    untranslated = plugin_checks.untranslated_titles(app, "fdt_notes")
    assert "plugin fdt_notes: 'Notes (test plugin)' is not translated" in untranslated
    assert "action fdt_notes_note.mark_urgent: 'Mark urgent' is not translated" in untranslated

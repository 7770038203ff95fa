"""Migrations: after ``migrate`` the schema equals the models, per plugin combination."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from kernel import migrate
from kernel.site import Site

COMBINATIONS = [[], ["fdt_notes"], ["fdt_notes", "fdt_tags"],
                ["fdt_alpha", "fdt_notes", "fdt_tags"], ["fdt_links"], ["fdt_links", "fdt_notes"]]


@pytest.mark.parametrize("plugins", COMBINATIONS, ids=lambda p: "+".join(p) or "kernel")
def test_schema_equals_models_after_migrate(make_site, app_of, plugins):
    app = app_of(make_site(plugins))
    assert migrate.schema_differences(app) == []
    tables = set(inspect(app.engine).get_table_names())
    assert ("fdt_notes_note" in tables) == ("fdt_notes" in plugins)
    assert ("fdt_tags_tag" in tables) == ("fdt_tags" in plugins)


def test_migrate_is_idempotent_and_check_reports_in_sync(make_site, fixdesk):
    site = make_site(["fdt_notes", "fdt_tags"])
    first = fixdesk("--site", site.path, "migrate")
    assert first.code == 0 and first.out == "up to date: kernel, fdt_notes, fdt_tags\n"
    assert fixdesk("--site", site.path, "migrate").code == 0
    check = fixdesk("--site", site.path, "migrate", "--check")
    assert (check.code, check.out) == (0, "schema matches the models\n")


def test_check_finds_a_drifted_schema(make_site, app_of, fixdesk):
    site = make_site(["fdt_notes"])
    app = app_of(site)
    with app.engine.begin() as conn:
        conn.exec_driver_sql("CREATE INDEX ix_extra ON fdt_notes_note (title)")
    check = fixdesk("--site", site.path, "migrate", "--check")
    assert check.code == 1 and "ix_extra" in check.out


def test_disabled_plugin_tables_stay_out_of_the_comparison(make_site, app_of, fixdesk):
    site = make_site(["fdt_notes"])
    assert fixdesk("--site", site.path, "plugins", "disable", "fdt_notes").code == 0
    app = app_of(Site.load(site.path))
    assert "fdt_notes_note" in inspect(app.engine).get_table_names()
    assert migrate.schema_differences(app) == []
    assert "fdt_notes_0001" in migrate.current_heads(app)


def test_revision_for_a_plugin_continues_its_branch(make_site, app_of, tmp_path):
    import shutil

    app = app_of(make_site(["fdt_notes"]))
    # a copy of the plugin's folder: other test processes migrate from the real one
    info = app.plugins["fdt_notes"]
    shutil.copytree(info.path, tmp_path / "fdt_notes")
    info.path = tmp_path / "fdt_notes"
    path = migrate.make_revision(app, "fdt_notes", "nothing changed")
    try:
        source = path.read_text()
        assert path.name.startswith("fdt_notes_0002_")
        assert "revision = 'fdt_notes_0002'" in source
        assert "down_revision = 'fdt_notes_0001'" in source
        assert "branch_labels = None" in source
        assert path.parent == app.plugins["fdt_notes"].migrations_dir
    finally:
        path.unlink()


def test_a_failing_migration_changes_nothing(make_site, app_of, tmp_path, monkeypatch):
    """Kernel and plugin upgrades run in one transaction: a failure rolls all of them back."""
    site = make_site([])
    app = app_of(site)
    before = set(inspect(app.engine).get_table_names())
    heads_before = migrate.current_heads(app)
    original = migrate._has_branch

    def upgrade_then_fail(*args, **kwargs):
        raise RuntimeError("disk full")

    site.config.plugins = ["fdt_notes", "fdt_tags"]
    app = app_of(Site(site.path, site.config))
    from alembic import command

    real_upgrade = command.upgrade
    calls = []

    def flaky_upgrade(cfg, target, **kwargs):
        calls.append(target)
        real_upgrade(cfg, target, **kwargs)
        if target == "fdt_tags@head":
            upgrade_then_fail()

    monkeypatch.setattr(command, "upgrade", flaky_upgrade)
    with pytest.raises(RuntimeError, match="disk full"):
        migrate.upgrade(app)
    assert calls == ["kernel@head", "fdt_notes@head", "fdt_tags@head"]
    assert set(inspect(app.engine).get_table_names()) == before
    assert migrate.current_heads(app) == heads_before
    assert original is migrate._has_branch

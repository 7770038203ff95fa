"""Plugin discovery, manifests, dependency order, enabling and disabling."""

from __future__ import annotations

import sys

import pytest
from sqlalchemy import func, select

from kernel.errors import PluginError
from kernel.plugins import dependency_order, discover


def test_discovery_reads_manifests_without_importing_plugins():
    for name in list(sys.modules):
        if name.startswith("fdt_broken"):
            del sys.modules[name]
    plugins = discover()
    assert {"fdt_notes", "fdt_tags", "fdt_alpha", "fdt_broken"} <= set(plugins)
    tags = plugins["fdt_tags"]
    assert (tags.title, tags.version, tags.depends) == ("Tags (test plugin)", "0.3.0",
                                                        ("fdt_notes",))
    assert tags.migrations_dir and tags.migrations_dir.name == "versions"
    assert plugins["fdt_broken"].error is None  # not imported, so not known to be broken yet
    assert "fdt_broken.plugin" not in sys.modules


def test_dependency_order_beats_names_and_names_break_ties():
    plugins = discover()
    assert dependency_order(plugins, ["fdt_alpha", "fdt_tags", "fdt_notes"]) == [
        "fdt_notes", "fdt_tags", "fdt_alpha"]
    with pytest.raises(PluginError, match="fdt_tags depends on fdt_notes"):
        dependency_order(plugins, ["fdt_tags"])
    with pytest.raises(PluginError, match="unknown plugin 'nope'"):
        dependency_order(plugins, ["nope"])


def test_hooks_run_in_dependency_order(make_site, app_of):
    site = make_site(["fdt_alpha", "fdt_notes", "fdt_tags"])
    app = app_of(site)
    assert app.plugin_order == ["kernel", "fdt_notes", "fdt_tags", "fdt_alpha"]
    with app.context() as ctx:
        app.pm.hook.fixdesk_demo_data(ctx=ctx)
        assert ctx.demo_calls == ["fdt_notes", "fdt_tags", "fdt_alpha"]
        ctx.session.rollback()


def test_plugin_hookspecs_are_called_across_plugins(make_site, app_of):
    import fdt_notes.plugin as notes
    from fdt_tags.plugin import Tag

    app = app_of(make_site(["fdt_notes", "fdt_tags", "fdt_alpha"]))
    with app.context() as ctx:
        from kernel.masterdata import get_branch

        note, answers = notes.add_note(ctx, get_branch(ctx, "HQ").id, "复印机卡纸", "35.50")
        assert answers == ["tagged", "alpha"]
        assert ctx.session.scalar(select(Tag.label).where(Tag.note_id == note.id)) == "auto"


def test_only_enabled_plugins_are_registered(make_site, app_of):
    app = app_of(make_site(["fdt_notes"]))
    assert app.pm.get_plugin("fdt_notes") is not None
    assert app.pm.get_plugin("fdt_tags") is None
    assert app.pm.hook.fdt_notes_added(ctx=None, note=None) == []
    other = app_of(make_site([]))
    assert other.pm.get_plugin("fdt_notes") is None  # two sites in one process stay apart
    assert not hasattr(other.pm.hook, "fdt_notes_added")


def test_broken_plugin_is_reported_and_the_site_starts(make_site, app_of, fixdesk):
    site = make_site(["fdt_notes"])
    site.config.plugins.append("fdt_broken")  # as if it broke after being enabled
    site.save()
    app = app_of(site)
    assert app.enabled_plugins == ["fdt_notes"]
    assert "import failed: ModuleNotFoundError" in app.failed_plugins["fdt_broken"]
    listing = fixdesk("--site", site.path, "plugins", "list")
    assert listing.code == 0
    line = next(ln for ln in listing.out.splitlines() if ln.startswith("fdt_broken"))
    assert "enabled (not loaded)" in line and "fdt_this_module_does_not_exist" in line


def test_enable_refuses_a_broken_plugin(make_site, fixdesk):
    site = make_site([])
    result = fixdesk("--site", site.path, "plugins", "enable", "fdt_broken")
    assert result.code == 2
    assert result.err.count("\n") == 1 and "fdt_broken cannot be loaded" in result.err


def test_plugins_list_shows_state_version_and_dependencies(make_site, fixdesk):
    site = make_site(["fdt_notes"])
    out = fixdesk("--site", site.path, "plugins", "list").out.splitlines()
    assert out[0].split()[:4] == ["NAME", "STATE", "VERSION", "DEPENDS"]
    rows = {ln.split()[0]: ln.split() for ln in out[1:]}
    assert rows["fdt_notes"][1:3] == ["enabled", "1.2.0"]
    assert rows["fdt_tags"][1:4] == ["available", "0.3.0", "fdt_notes"]


def test_enable_needs_dependencies_and_disable_needs_no_dependents(make_site, fixdesk):
    site = make_site([])
    refused = fixdesk("--site", site.path, "plugins", "enable", "fdt_tags")
    assert refused.code == 2
    assert refused.err == ("error: cannot enable fdt_tags: it depends on fdt_notes, "
                           "which is not enabled\n")
    assert fixdesk("--site", site.path, "plugins", "enable", "fdt_notes").code == 0
    assert fixdesk("--site", site.path, "plugins", "enable", "fdt_tags").code == 0
    refused = fixdesk("--site", site.path, "plugins", "disable", "fdt_notes")
    assert refused.code == 2
    assert refused.err == "error: cannot disable fdt_notes: fdt_tags depends on it\n"
    assert fixdesk("--site", site.path, "plugins", "disable", "fdt_tags").code == 0
    assert fixdesk("--site", site.path, "plugins", "disable", "fdt_notes").code == 0
    unknown = fixdesk("--site", site.path, "plugins", "enable", "acme")
    assert (unknown.code, unknown.err) == (2, "error: unknown plugin 'acme'\n")


def test_disable_keeps_data_and_enable_finds_it_again(make_site, fixdesk, app_of):
    import fdt_notes.plugin as notes

    from kernel.site import Site

    site = make_site([])
    assert fixdesk("--site", site.path, "plugins", "enable", "fdt_notes").code == 0
    app = app_of(Site.load(site.path))
    with app.context() as ctx:
        from kernel.masterdata import get_branch

        notes.add_note(ctx, get_branch(ctx, "HQ").id, "保留的数据", "9.99")
    app.close()
    assert fixdesk("--site", site.path, "plugins", "disable", "fdt_notes").code == 0
    assert Site.load(site.path).config.plugins == []
    assert fixdesk("--site", site.path, "migrate").code == 0
    assert fixdesk("--site", site.path, "plugins", "enable", "fdt_notes").code == 0
    app = app_of(Site.load(site.path))
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(notes.Note)) == 1
        assert session.scalar(select(notes.Note.title)) == "保留的数据"


def test_hooks_with_wrong_parameters_are_reported_not_fatal(make_site, app_of, fixdesk):
    site = make_site(["fdt_notes", "fdt_tags"])
    site.config.plugins.append("fdt_badhooks")
    site.save()
    app = app_of(site)
    assert app.enabled_plugins == ["fdt_notes", "fdt_tags"]
    assert "invalid hooks" in app.failed_plugins["fdt_badhooks"]
    assert "mood" in app.failed_plugins["fdt_badhooks"]
    refused = fixdesk("--site", site.path, "plugins", "disable", "fdt_badhooks")
    assert refused.code == 0
    other = make_site(["fdt_notes"])
    result = fixdesk("--site", other.path, "plugins", "enable", "fdt_badhooks")
    assert result.code == 2 and "fdt_badhooks cannot be loaded: invalid hooks" in result.err


def test_an_uninstalled_plugin_does_not_block_the_site(make_site, app_of, fixdesk):
    site = make_site(["fdt_notes"])
    site.config.plugins.append("acme_gone")
    site.save()
    app = app_of(site)
    assert app.enabled_plugins == ["fdt_notes"] and app.failed_plugins == {
        "acme_gone": "not installed"}
    listing = fixdesk("--site", site.path, "plugins", "list")
    assert listing.code == 0
    assert any(ln.startswith("acme_gone") and "not installed" in ln
               for ln in listing.out.splitlines())
    assert fixdesk("--site", site.path, "branch", "list").code == 0
    migrated = fixdesk("--site", site.path, "migrate")
    assert migrated.code == 0 and "acme_gone: not installed" in migrated.err
    assert fixdesk("--site", site.path, "plugins", "disable", "acme_gone").code == 0

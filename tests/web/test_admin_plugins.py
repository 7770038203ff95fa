"""The admin console's modules page: every installed plugin with its state, version, parts,
what waits for a partner, the schema's state and the command that enables or disables it;
the same gathering as ``fixdesk plugins list`` (:func:`kernel.plugins.plugin_states`)."""

from __future__ import annotations

import functools
import html
import re

import pytest
from fastapi.testclient import TestClient

from kernel.auth import add_user, hash_password
from kernel.i18n import translations
from kernel.masterdata import get_branch
from kernel.migrate import migration_states
from kernel.plugins import AVAILABLE, ENABLED, NOT_INSTALLED, NOT_LOADED, plugin_states
from kernel.web.app import create_app

zh = translations("zh_CN").gettext
PASSWORD = "password-123"


@functools.cache
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def console(make_site):
    """``console(plugins, also_enabled=())``: a site with ``plugins`` (and ``also_enabled``
    written into its configuration without migrating, as if edited by hand), started, with
    an admin ``root`` and a front desk ``lily``; returns ``(app, login)``."""
    opened = []

    def start(plugins, also_enabled=()):
        site = make_site(plugins)
        if also_enabled:
            site.config.plugins += list(also_enabled)
            site.save()
        web = create_app(site)
        app = web.state.fixdesk
        with app.context() as ctx:
            for username, roles in (("root", ["admin"]), ("lily", ["front_desk"])):
                user = add_user(ctx, username, f"{username} 测试", None,
                                get_branch(ctx, "HQ"), roles=roles)
                user.password_hash = password_hash()

        def login(username="root") -> TestClient:
            client = TestClient(web, raise_server_exceptions=False, follow_redirects=False)
            opened.append(client)
            answer = client.post("/login", data={"username": username, "password": PASSWORD})
            assert answer.status_code == 303
            return client

        opened.append(app)
        return app, login

    yield start
    for thing in opened:
        thing.close()


def row(page, name: str) -> str:
    """The table row of plugin ``name`` on the modules page."""
    found = re.search(rf'<tr id="module-{name}" class="module-(\w+)">(.*?)</tr>', page.text,
                      re.S)
    assert found, (name, page.text[-3000:])
    return found.group(1) + " " + found.group(2)


def test_an_enabled_plugin_up_to_date_and_the_available_ones(console):
    app, login = console(["repair"])
    page = login().get("/desk/admin/plugins")
    assert page.status_code == 200
    repair = row(page, "repair")
    assert repair.startswith(ENABLED)
    assert zh("Repair") in repair and zh("Repair") != "Repair"  # its own catalogue's title
    assert app.plugins["repair"].version in repair
    assert f'<span class="switch-on">{zh("Enabled")}</span>' in repair
    assert f'<span class="switch-on">{zh("up to date")}</span>' in repair
    assert migration_states(app)["repair"].head in repair  # where the database is
    folder = str(app.site.path)
    assert f"fixdesk --site {folder} plugins disable repair" in html.unescape(repair)
    assert zh("needs an upgrade") not in page.text
    assert f'{zh("Core tables (users, branches, customers, audit trail):")}' in page.text
    # installed but not enabled: the command to enable it; a partner's title translated
    # from its own catalogue although it is not loaded
    warranty = row(page, "acme_warranty")
    assert warranty.startswith(AVAILABLE)
    assert f"fixdesk --site {folder} plugins enable acme_warranty" in html.unescape(warranty)
    assert "厂家保修索赔" in warranty
    # a test plugin without a Chinese catalogue keeps its English title, marked as English
    assert '<span class="module-title" lang="en">Notes (test plugin)</span>' in \
        row(page, "fdt_notes")
    # the schema's state comes from the database (same site: all reads)
    states = migration_states(app)
    assert list(states) == ["kernel", "repair"]
    assert all(s.up_to_date for s in states.values())
    assert states["kernel"].head == states["kernel"].current
    # others get 403 (test_admin_console refuses every console URL to every other role;
    # here: no command is shown)
    answer = login("lily").get("/desk/admin/plugins")
    assert answer.status_code == 403
    assert "plugins disable" not in answer.text


def test_a_part_waiting_for_a_missing_partner_is_inactive_with_the_reason(console):
    app, login = console(["acme_warranty"])
    page = login().get("/desk/admin/plugins")
    warranty = row(page, "acme_warranty")
    assert warranty.startswith(ENABLED)
    assert zh("not active yet") in warranty and "part acme_warranty.repair" in warranty
    assert zh("waits for {modules}").format(modules=zh("{module} ({why})").format(
        module="维修", why=zh("not enabled"))) in warranty
    assert f'<span class="switch-on">{zh("up to date")}</span>' in warranty
    [state] = [s for s in plugin_states(app.site, app) if s.name == "acme_warranty"]
    assert [(i.what, i.needs) for i in state.inactive] == [("part acme_warranty.repair",
                                                            ("repair",))]
    assert state.parts == []


def test_a_partner_on_makes_the_part_active(console):
    app, login = console(["repair", "acme_warranty"])
    warranty = row(login().get("/desk/admin/plugins"), "acme_warranty")
    assert zh("Module part") in warranty and "acme_warranty.repair" in warranty
    assert zh("not active yet") not in warranty


def test_plugins_that_failed_to_load_or_are_not_installed(console, fixdesk):
    app, login = console(["fdt_notes"], also_enabled=["fdt_broken", "acme_gone"])
    page = login().get("/desk/admin/plugins")
    assert page.status_code == 200
    broken = row(page, "fdt_broken")
    assert broken.startswith(NOT_LOADED)
    assert zh("Enabled, but not loaded") in broken
    assert "fdt_this_module_does_not_exist" in broken
    assert "plugins disable fdt_broken" in broken
    gone = row(page, "acme_gone")
    assert gone.startswith(NOT_INSTALLED) and zh("Enabled, but not installed") in gone
    # the CLI's list comes from the same service
    states = {s.name: s.state for s in plugin_states(app.site)}
    assert states["fdt_broken"] == NOT_LOADED and states["acme_gone"] == NOT_INSTALLED
    assert states["fdt_notes"] == ENABLED and states["fdt_tags"] == AVAILABLE
    listing = fixdesk("--site", app.site.path, "plugins", "list").out.splitlines()
    assert any(ln.startswith("acme_gone") and "enabled (not installed)" in ln for ln in listing)


def test_a_plugin_whose_tables_are_missing_needs_migrate(console):
    app, login = console([], also_enabled=["fdt_notes"])  # site.toml edited, not migrated
    page = login().get("/desk/admin/plugins")
    notes = row(page, "fdt_notes")
    assert f'<span class="switch-off">{zh("needs an upgrade")}</span>' in notes
    head = '<code lang="en" translate="no">fdt_notes_0001</code>'
    assert zh("database {current}, newest {head}").format(current="—", head=head) in notes
    assert f"fixdesk --site {app.site.path} migrate" in html.unescape(page.text)
    assert zh("The database is not up to date with the installed modules. On the server, "
              "run:") in html.unescape(page.text)


"""Admin console section: the modules (plugins) of the site.

``/desk/admin/plugins`` lists every installed plugin with its title, version and state on
this site (:func:`kernel.plugins.plugin_states`, what ``fixdesk plugins list`` prints):
enabled, available, enabled but not loaded (with the error) or enabled but not
installed; for an enabled one its parts, what of it waits for a partner that is not
enabled (or failed to load), and whether its database tables are up to date
(:func:`kernel.migrate.migration_states`). Enabling and disabling change the site's
configuration and its database schema, so they stay command-line steps: the page shows
the exact command.
"""

from __future__ import annotations

import shlex

from fastapi import APIRouter, Request
from markupsafe import Markup

from kernel.i18n import N_, _, terminal_locale
from kernel.plugins import (
    AVAILABLE,
    ENABLED,
    NOT_INSTALLED,
    NOT_LOADED,
    plugin_states,
    plugin_text,
)
from kernel.web.desk.admin.shell import admin_context, render_admin
from kernel.web.desk.render import DeskRoute

#: how each state reads, and its badge's class
STATES = {
    ENABLED: (N_("Enabled"), "switch-on"),
    AVAILABLE: (N_("Not enabled"), "muted"),
    NOT_LOADED: (N_("Enabled, but not loaded"), "switch-off"),
    NOT_INSTALLED: (N_("Enabled, but not installed"), "switch-off"),
}


def _lang(locale: str) -> str:
    return "zh-CN" if locale == "zh_CN" else "en"


def _title(states_by_name: dict, name: str) -> tuple[str, bool]:
    """A plugin's title in the reader's language (its name when it is not installed), and
    whether it is translated (an English title is marked as such on the page)."""
    state = states_by_name.get(name)
    if state is None or state.info is None:
        return name, False
    return plugin_text(state.info, state.info.title or name)


def _code(text: str) -> Markup:
    """An identifier (a revision, a plugin's name) inside a translated sentence."""
    return Markup('<code lang="en" translate="no">{}</code>').format(text)


def _migrations(states: dict, units: list[str]) -> dict | None:
    """The migration state of a plugin's branches (itself and its parts): None when it has
    no tables of its own."""
    found = [states[unit] for unit in units if unit in states]
    if not found:
        return None
    return {"up_to_date": all(s.up_to_date for s in found),
            "branches": [{"name": s.branch, "current": _code(s.current) if s.current else "—",
                          "head": _code(s.head), "up_to_date": s.up_to_date} for s in found]}


def _modules(ctx) -> dict:
    """What the page shows: every plugin (``modules``), the kernel's schema state
    (``kernel``), whether any schema needs ``fixdesk migrate`` (``behind``), the language
    the site's own messages are in (``written_in``) and the site's folder for commands."""
    from kernel.migrate import migration_states  # Alembic: loaded when the page is opened

    app = ctx.app
    site = app.site
    states = plugin_states(site, app)
    by_name = {s.name: s for s in states}
    schema = migration_states(app)
    # what the site wrote when it started (errors, what waits) is in the server's language
    written_in = _lang(terminal_locale())
    site_arg = shlex.quote(str(site.path))
    modules = []
    for state in states:
        info = state.info
        title, titled = plugin_text(info, info.title or state.name) if info else (state.name,
                                                                                   True)
        description, described = plugin_text(info, info.description) if info else ("", True)
        label, badge = STATES[state.state]
        loaded = state.state == ENABLED
        verb = "enable" if state.state == AVAILABLE else "disable"
        waiting = []
        for item in state.inactive:
            partners = []
            for need in item.needs:
                partner = by_name.get(need)
                if partner is not None and partner.state == NOT_LOADED:
                    why = _("failed to load")
                elif partner is None or partner.info is None:
                    why = _("not installed")
                else:
                    why = _("not enabled")
                partners.append(_("{module} ({why})").format(module=_title(by_name, need)[0],
                                                             why=why))
            waiting.append({"what": item.what, "partners": partners})
        modules.append({
            "name": state.name, "title": title, "titled": titled,
            "description": description, "described": described,
            "version": state.version, "state": state.state, "state_label": _(label),
            "badge": badge, "error": state.error,
            "depends": [_title(by_name, d) for d in state.depends],  # (title, translated)
            "parts": state.parts if loaded else [], "waiting": waiting,
            "migrations": _migrations(schema, [state.name, *state.parts]) if loaded else None,
            "command": f"fixdesk --site {site_arg} plugins {verb} {shlex.quote(state.name)}",
            "verb": verb})
    kernel = _migrations(schema, ["kernel"])
    behind = any(not s.up_to_date for s in schema.values())
    return {"modules": modules, "kernel": kernel, "behind": behind, "written_in": written_in,
            "site_arg": site_arg}


def router() -> APIRouter:
    routes = APIRouter(route_class=DeskRoute, include_in_schema=False)

    @routes.get("/desk/admin/plugins")
    def page(request: Request):
        with admin_context(request) as ctx:
            return render_admin(request, "plugins.html", ctx, "plugins", _("Modules"),
                                **_modules(ctx))

    return routes

"""The admin console: what an office admin configures, in the desk instead of the CLI.

``/desk/admin`` and one page group per section (:data:`SECTIONS`): users, roles and
permissions, branches and calendars, hooks per branch, settings, plugins, templates and
the audit trail. Only admins reach it (403 for everyone else, and no link in their
menus). Every change calls the same service as the matching ``fixdesk`` command, so the
desk and the CLI can never disagree, and is audited by the same trail.
"""

from __future__ import annotations

from kernel.web.desk.admin.sections import SECTIONS  # noqa: F401 (the menu, for callers)


def sections() -> list:
    """The console's sections (and its front page), each a module with ``router()``."""
    from kernel.web.desk.admin import (
        audit,
        branches,
        hooks,
        index,
        plugins,
        roles,
        settings,
        templates,
        users,
    )

    return [index, users, roles, branches, hooks, settings, plugins, templates, audit]


def routers() -> list:
    """The console's routers, one per section (and its front page)."""
    return [section.router() for section in sections()]


def install(web) -> None:
    """Mount the console's pages (before the entity pages' ``/desk/{entity}`` catch-all)."""
    from kernel.web.shared_routes import include

    for section in sections():
        include(web, section.router)

"""The admin console: what an office admin configures, in the desk instead of the CLI.

``/desk/admin`` and one page group per section (:data:`SECTIONS`): users, roles and
permissions, branches and calendars, hooks per branch, settings, plugins, templates and
the audit trail. Only admins reach it (403 for everyone else, and no link in their
menus). Every change calls the same service as the matching ``fixdesk`` command, so the
desk and the CLI can never disagree, and is audited by the same trail.
"""

from __future__ import annotations

from kernel.i18n import N_

#: (address under /desk/admin, title, what an admin does there), in menu order
SECTIONS = (
    ("users", N_("Users"), N_("Accounts, roles, branches, passwords, API tokens, locked "
                              "accounts.")),
    ("roles", N_("Roles and permissions"), N_("What each role may do; grant and revoke.")),
    ("branches", N_("Branches and calendars"), N_("Working hours, holidays and make-up "
                                                  "working days per branch; deadlines.")),
    ("hooks", N_("Hooks per branch"), N_("Switch a module's behaviour on or off for one "
                                         "branch.")),
    ("settings", N_("Settings"), N_("Every setting with its site value and branch "
                                    "overrides.")),
    ("plugins", N_("Modules"), N_("Installed modules, their state, version and database "
                                  "schema.")),
    ("templates", N_("Print templates"), N_("Copy, edit and preview the printed papers; "
                                            "revert to the shipped ones.")),
    ("audit", N_("Audit trail"), N_("Who changed what and when; export to Excel.")),
)


def routers() -> list:
    """The console's routers, one per section (and its front page)."""
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

    return [section.router() for section in (index, users, roles, branches, hooks, settings,
                                             plugins, templates, audit)]


def install(web) -> None:
    """Mount the console's pages (before the entity pages' ``/desk/{entity}`` catch-all)."""
    for router in routers():
        web.include_router(router)

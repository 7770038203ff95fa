"""The admin console's sections, in menu order."""

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

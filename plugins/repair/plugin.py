"""The repair plugin's hook implementations: short, delegating to the modules beside them."""

from __future__ import annotations

from decimal import Decimal

from kernel import Permission, Setting, ValidationError, hookimpl
from kernel.i18n import N_, _
from kernel.numbering import series_setting

from . import hookspecs

ALL_ROLES = ("branch_manager", "service_supervisor", "front_desk", "engineer",
             "warehouse_keeper", "accountant")
SUPERVISORS = ("branch_manager", "service_supervisor")

#: (entity, action) → roles that get it by default (admins hold every permission)
PERMISSIONS = {
    ("repair_work_order", "read"): ALL_ROLES,
    ("repair_work_order", "register"): (*SUPERVISORS, "front_desk"),
    ("repair_work_order", "edit"): (*SUPERVISORS, "front_desk"),
    ("repair_work_order", "categorize"): SUPERVISORS,
    ("repair_work_order", "dispatch"): SUPERVISORS,
    ("repair_work_order", "arrive"): (*SUPERVISORS, "engineer"),
    ("repair_work_order", "pause"): (*SUPERVISORS, "front_desk"),
    ("repair_work_order", "diagnose"): (*SUPERVISORS, "engineer"),
    ("repair_work_order", "quote"): (*SUPERVISORS, "engineer"),
    ("repair_work_order", "decide_quote"): (*SUPERVISORS, "front_desk", "engineer"),
    ("repair_work_order", "repair"): (*SUPERVISORS, "engineer"),
    ("repair_work_order", "complete"): (*SUPERVISORS, "engineer"),
    ("repair_work_order", "audit"): SUPERVISORS,
    ("repair_work_order", "close"): (*SUPERVISORS, "front_desk"),
    ("repair_work_order", "cancel"): (*SUPERVISORS, "front_desk"),
    ("repair_work_order", "reopen"): SUPERVISORS,
    ("repair_contract", "read"): ALL_ROLES,
    ("repair_contract", "create"): SUPERVISORS,
}


def _positive(value) -> None:
    if value <= 0:
        raise ValidationError(_("must be more than zero"))


@hookimpl
def fixdesk_addhooks(pluginmanager):
    """Offer the repair hooks (registered, dispatched, parts, quote, completed, ...)."""
    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def fixdesk_entities():
    """Work orders with their parts, labour and history; maintenance contracts."""
    from .models import ENTITIES

    return ENTITIES


@hookimpl
def fixdesk_permissions():
    """Front desk registers, supervisors dispatch, review and reopen, engineers repair."""
    return [Permission(entity, action, roles) for (entity, action), roles in PERMISSIONS.items()]


@hookimpl
def fixdesk_settings():
    """Work order numbers, arrival deadlines per zone (per branch), the repair warranty."""
    return [
        series_setting("repair_work_order", "WO-{branch}-{YYYY}-{#####}",
                       N_("Numbers of repair work orders")),
        Setting("repair.urban_deadline_hours", Decimal, Decimal("6"),
                N_("Working hours from report to arrival in urban zones"), per_branch=True,
                validate=_positive),
        Setting("repair.suburban_deadline_hours", Decimal, Decimal("7"),
                N_("Working hours from report to arrival in suburban zones"), per_branch=True,
                validate=_positive),
        Setting("repair.repair_warranty_days", int, 90,
                N_("Days a repair is guaranteed: the same fault again is repaired free"),
                validate=_positive),
    ]


@hookimpl
def fixdesk_actions():
    """Dispatch, arrive, diagnose, quote, start, complete, close, cancel, reopen, ..."""
    from .actions import ACTIONS

    return ACTIONS


@hookimpl
def fixdesk_routers():
    """``POST /api/repair/work_orders`` (register) and ``/api/repair/contracts``."""
    from .api import router

    return [router()]

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
    ("repair_work_order", "carry_in"): (*SUPERVISORS, "front_desk", "engineer"),
    ("repair_contract", "read"): ALL_ROLES,
    ("repair_contract", "create"): SUPERVISORS,
}


def _positive(value) -> None:
    if value <= 0:
        raise ValidationError(_("must be more than zero"))


def _skill(value) -> None:
    if not str(value).strip():
        raise ValidationError(_("must not be empty"))


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
        Setting("repair.contract_notice_days", int, 30,
                N_("Days before a maintenance contract ends that its expiry notice is issued"),
                validate=_positive),
        Setting("repair.default_skill", str, "copier",
                N_("Engineer skill a job needs when its model and fault name none"),
                validate=_skill),
    ]


@hookimpl
def fixdesk_actions():
    """Dispatch, arrive, diagnose, quote, start, complete, close, cancel, reopen, ..."""
    from .actions import ACTIONS

    return ACTIONS


@hookimpl
def fixdesk_routers():
    """``POST /api/repair/work_orders`` (register), ``/api/repair/contracts`` and the
    reports under ``/api/repair/reports`` (JSON or ``?format=xlsx``)."""
    from .api import router
    from .reports_api import reports_router

    return [router(), reports_router()]


@hookimpl
def fixdesk_demo_data(ctx):
    """Maintenance contracts and a few hundred historical work orders (made by the services)."""
    from .demo import load_demo

    load_demo(ctx)


@hookimpl
def fixdesk_documents():
    """Service voucher, repair card, product receipt, maintenance record sheet, contract
    expiry notice and survey card (templates in ``templates/repair/``)."""
    from .documents import DOCUMENTS

    return DOCUMENTS


@hookimpl
def fixdesk_scheduled_jobs():
    """Flag overdue and late jobs every 5 minutes (R8, R15); contract expiry notices daily
    at 08:00 (R20)."""
    from kernel import ScheduledJob

    from . import scheduled

    return [ScheduledJob("repair.flag_overdue", scheduled.flag_overdue, interval_seconds=300),
            ScheduledJob("repair.contract_expiry_notices",
                         scheduled.issue_contract_expiry_notices, daily_at="08:00")]

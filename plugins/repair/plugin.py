"""The repair plugin's hook implementations: short, delegating to the modules beside them."""

from __future__ import annotations

from decimal import Decimal

from kernel import Part, Permission, Setting, ValidationError, hookimpl
from kernel.contributions import titled
from kernel.i18n import N_, _
from kernel.numbering import series_setting

from . import hookspecs

ALL_ROLES = ("branch_manager", "service_supervisor", "front_desk", "engineer",
             "warehouse_keeper", "accountant")
SUPERVISORS = ("branch_manager", "service_supervisor")
#: the title in manifest.toml, here so that the catalogue translates it
TITLE = N_("Repair")

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
    # field work on jobs dispatched to others (plugins/repair/own_jobs.py)
    ("repair_work_order", "others_jobs"): SUPERVISORS,
    ("repair_work_order", "audit"): SUPERVISORS,
    ("repair_work_order", "close"): (*SUPERVISORS, "front_desk"),
    ("repair_work_order", "cancel"): (*SUPERVISORS, "front_desk"),
    ("repair_work_order", "reopen"): SUPERVISORS,
    ("repair_work_order", "carry_in"): (*SUPERVISORS, "front_desk", "engineer"),
    ("repair_contract", "read"): ALL_ROLES,
    ("repair_contract", "create"): SUPERVISORS,
    ("repair_appointment", "read"): ALL_ROLES,
    ("repair_callback", "read"): ALL_ROLES,
    ("repair_callback", "record"): (*SUPERVISORS, "front_desk"),
    ("repair_quality_check", "read"): ALL_ROLES,
    ("repair_quality_check", "draw"): SUPERVISORS,
    ("repair_quality_check", "check"): SUPERVISORS,
}


def _positive(value) -> None:
    if value <= 0:
        raise ValidationError(_("must be more than zero"))


def _percent(value) -> None:
    if not 0 <= value <= 100:
        raise ValidationError(_("must be from 0 to 100"))


def _rating_level(value) -> None:
    if not 1 <= value <= 4:
        raise ValidationError(_("must be from 1 to 4"))


def _map_url(value) -> None:
    if "{address}" not in str(value) or ":" not in str(value):
        raise ValidationError(_("must be a link (geo:, https:, ...) containing {address}"))


def _skill(value) -> None:
    if not str(value).strip():
        raise ValidationError(_("must not be empty"))


@hookimpl
def fixdesk_addhooks(pluginmanager):
    """Offer the repair hooks (registered, dispatched, parts, quote, completed, ...)."""
    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def fixdesk_entities():
    """Work orders with their parts, labour and history; maintenance contracts;
    appointments, callbacks with surveys, quality spot checks."""
    from .models import ENTITIES

    return ENTITIES


@hookimpl
def fixdesk_permissions():
    """Front desk registers and records surveys, supervisors dispatch, review, spot-check
    and reopen, engineers repair."""
    return [Permission(entity, action, roles) for (entity, action), roles in PERMISSIONS.items()]


@hookimpl
def fixdesk_settings():
    """Work order numbers, arrival deadlines per zone (per branch), the repair warranty,
    callbacks and survey links, the spot-check share."""
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
        Setting("repair.callback_within_hours", Decimal, Decimal("8"),
                N_("Working hours after closing a job within which the customer is called "
                   "back"), per_branch=True, validate=_positive),
        Setting("repair.callback_attempts", int, 3,
                N_("Calls without an answer before a callback is given up as unreachable"),
                validate=_positive),
        Setting("repair.survey_link_days", int, 30,
                N_("Days a printed or sent survey link works"), validate=_positive),
        Setting("repair.poor_rating", int, 2,
                N_("Survey ratings at or below this level are reported to the supervisors"),
                validate=_rating_level),
        Setting("repair.map_url", str, "geo:0,0?q={address}",
                N_("Link that opens a job's address in the engineer's map app ({address} is "
                   "replaced)"), validate=_map_url),
        Setting("repair.spot_check_percent", Decimal, Decimal("10"),
                N_("Share of each day's completed jobs drawn for a quality spot check (%)"),
                per_branch=True, validate=_percent),
    ]


@hookimpl
@titled(N_("Work order buttons: dispatch, arrive, diagnose, quote, complete, close"))
def fixdesk_actions():
    """Dispatch, arrive, diagnose, quote, start, complete, close, cancel, reopen, ..."""
    from .actions import ACTIONS
    from .followup_actions import FOLLOW_UP_ACTIONS

    return ACTIONS + FOLLOW_UP_ACTIONS


@hookimpl
def fixdesk_routers():
    """``POST /api/repair/work_orders`` (register), ``/api/repair/contracts``, dispatch help,
    history, spot-check draws and survey links under ``/api/repair``; the reports under
    ``/api/repair/reports``; the desk's registration page; the engineer's phone page
    ``/desk/repair/phone``; the dispatch board ``/desk/repair_work_order/board``; the
    customer's public survey page ``/survey/<token>``."""
    from . import board, desk, phone, survey_page
    from .api import router
    from .reports_api import reports_router

    return [router(), reports_router(), survey_page.router(), desk.router(), phone.router(),
            board.router()]


@hookimpl
def fixdesk_parts():
    """The glue for complaints (``repair.complaints``): jobs per branch for the complaint
    rate, the customer and engineer of a work order a complaint is about."""
    return [Part("complaints", "plugins.repair.complaints_glue", needs=("complaints",),
                 title=N_("Jobs for the complaint rate, who a work order concerns"))]


@hookimpl
def fixdesk_demo_data(ctx):
    """Maintenance contracts and a few hundred historical work orders with their callbacks,
    surveys and spot checks (made by the services)."""
    from .demo import load_demo

    load_demo(ctx)


@hookimpl
@titled(N_("Printed papers: service voucher, repair card, receipt, survey card"))
def fixdesk_documents():
    """Service voucher, repair card, product receipt, maintenance record sheet, contract
    expiry notice and survey card (templates in ``templates/repair/``)."""
    from .documents import DOCUMENTS

    return DOCUMENTS


@hookimpl
def fixdesk_reports():
    """The repair register, deadline compliance, and the engineer's and supervisor's daily
    reports (R1, R8, R18), the daily ones with papers of their own (``reports.py``)."""
    from .reports import REPORTS

    return list(REPORTS.values())


@hookimpl
@titled(N_("Repair cards and charts on the home page"))
def fixdesk_dashboard():
    """Cards (open, not dispatched, overdue, due today, callbacks due, an engineer's jobs
    today, ...) and charts (deadline compliance by week, open orders by status and by
    branch, engineers' load today) on the desk's home page (``dashboard.py``)."""
    from .dashboard import dashboard

    return dashboard()


@hookimpl
def fixdesk_scheduled_jobs():
    """Flag overdue and late jobs every 5 minutes (R8, R15); contract expiry notices daily
    at 08:00 (R20); draw yesterday's quality spot checks daily at 07:30 (R17)."""
    from kernel import ScheduledJob

    from . import quality, scheduled

    return [ScheduledJob("repair.flag_overdue", scheduled.flag_overdue, interval_seconds=300),
            ScheduledJob("repair.contract_expiry_notices",
                         scheduled.issue_contract_expiry_notices, daily_at="08:00"),
            ScheduledJob("repair.draw_spot_checks", quality.draw_yesterday, daily_at="07:30")]


@hookimpl
@titled(N_("Status changes of a work order in its timeline"))
def fixdesk_timeline(ctx, entity, record, before, limit):
    """A work order's registration and status changes, with who, why and the status
    before and after (``timeline.py``)."""
    if entity != "repair_work_order":
        return []
    from .timeline import status_events

    return status_events(ctx, record, before, limit)


@hookimpl
@titled(N_("Send the customer a satisfaction survey by SMS or e-mail"))
def repair_order_closed(ctx, order):
    """Send the customer the survey link by SMS or e-mail (R19). A branch whose front desk
    phones every customer instead switches this off: ``fixdesk hooks disable repair
    repair_order_closed --branch JD``; the callback task is made either way."""
    from .callbacks import send_survey_link

    send_survey_link(ctx, order)

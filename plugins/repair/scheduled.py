"""The repair plugin's scheduled jobs and their messages: overdue and late jobs (R8, R15),
contract expiry notices (R20)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from kernel.i18n import _
from kernel.models import Branch
from kernel.notifications import tell_branch

from .events import record_event
from .inputs import local_date, local_text, now_utc
from .models import MaintenanceContract, WorkOrder
from .rules import NOT_REPAIRED, ServiceMode, Status

# ---------------------------------------------------------------------------
# scheduled jobs: overdue jobs (R8, R15) and contract expiry notices (R20)
# ---------------------------------------------------------------------------

SUPERVISOR_ROLES = ("service_supervisor",)
BRANCH_NOTICE_ROLES = ("service_supervisor", "branch_manager")


def _overdue_context(ctx, order: WorkOrder, kind: str, due: dt.datetime) -> dict:
    return {
        "kind": kind, "number": order.number, "urgent": bool(order.urgent),
        "customer": order.customer.name if order.customer is not None else "",
        "address": order.address or "", "model": order.model or "",
        "serial_no": order.serial_no or "", "fault": order.fault_description,
        "status": Status(order.status).value, "due": local_text(ctx, due),
        "reported_at": local_text(ctx, order.reported_at),
        "engineer": order.engineer.name if order.engineer is not None
        else (order.partner_outlet or ""),
        "branch": order.branch.name,
    }


def _flag(ctx, order: WorkOrder, event: str, reason: str, kind: str, field: str,
          due: dt.datetime) -> None:
    """The history entry of a missed deadline or promise, and the supervisors' e-mail."""
    record_event(ctx, order, event, order.status, reason, {field: due})
    tell_branch(ctx, order.branch_id, SUPERVISOR_ROLES, "repair_overdue",
                _overdue_context(ctx, order, kind, due))


def flag_overdue(ctx) -> dict:
    """Scheduled every 5 minutes (``repair.flag_overdue``). Flags, once each:

    * on-site jobs past their arrival deadline without an arrival and with the clock
      running (R8): ``overdue_flagged_at``, history event ``overdue``;
    * carry-in jobs past their promised date and not repaired yet (R15):
      ``promise_flagged_at``, history event ``late_repair``;

    and e-mails the branch's service supervisors (``repair_overdue`` message). Returns
    the numbers flagged, ``{"overdue": [...], "late": [...]}``.
    """
    now = now_utc(ctx)
    flagged: dict[str, list[str]] = {"overdue": [], "late": []}
    overdue = ctx.session.scalars(select(WorkOrder).where(
        WorkOrder.service_mode == ServiceMode.ON_SITE, WorkOrder.deadline_at.is_not(None),
        WorkOrder.deadline_at < now, WorkOrder.arrived_at.is_(None),
        WorkOrder.paused_at.is_(None), WorkOrder.overdue_flagged_at.is_(None),
        WorkOrder.status.in_(NOT_REPAIRED)).order_by(WorkOrder.id).with_for_update())
    for order in overdue.all():
        order.overdue_flagged_at = now
        _flag(ctx, order, "overdue", _("arrival deadline missed"), "arrival",
              "deadline_at", order.deadline_at)
        flagged["overdue"].append(order.number)
    late = ctx.session.scalars(select(WorkOrder).where(
        WorkOrder.service_mode == ServiceMode.CARRY_IN, WorkOrder.promised_at.is_not(None),
        WorkOrder.promised_at < now, WorkOrder.promise_flagged_at.is_(None),
        WorkOrder.status.in_(NOT_REPAIRED)).order_by(WorkOrder.id).with_for_update())
    for order in late.all():
        order.promise_flagged_at = now
        _flag(ctx, order, "late_repair", _("promised date missed"), "promised",
              "promised_at", order.promised_at)
        flagged["late"].append(order.number)
    return flagged


def issue_contract_expiry_notices(ctx) -> list[str]:
    """Scheduled daily at 08:00 (``repair.contract_expiry_notices``, R20): each contract
    that is not cancelled and ends within ``repair.contract_notice_days`` (30) days from
    today (site time zone; a contract ending today included, one ended yesterday not) gets
    its expiry notice once: ``expiry_notice_at`` is set and the branch's supervisors and
    managers are e-mailed (``repair_contract_expiry``). Returns the contract numbers."""
    now = now_utc(ctx)
    today = local_date(ctx, now)
    days = ctx.setting("repair.contract_notice_days")
    contracts = ctx.session.scalars(select(MaintenanceContract).where(
        MaintenanceContract.cancelled_at.is_(None),
        MaintenanceContract.expiry_notice_at.is_(None),
        MaintenanceContract.end_date >= today,
        MaintenanceContract.end_date <= today + dt.timedelta(days=days))
        .order_by(MaintenanceContract.end_date, MaintenanceContract.id).with_for_update())
    issued = []
    for contract in contracts.all():
        contract.expiry_notice_at = now
        branch = ctx.session.get(Branch, contract.branch_id)
        tell_branch(ctx, contract.branch_id, BRANCH_NOTICE_ROLES, "repair_contract_expiry", {
            "number": contract.number, "customer": contract.customer.name,
            "start_date": contract.start_date.isoformat(),
            "end_date": contract.end_date.isoformat(),
            "days_left": (contract.end_date - today).days,
            "equipment": ", ".join(item.equipment.serial_no for item in contract.items),
            "branch": branch.name})
        issued.append(contract.number)
    ctx.session.flush()
    return issued


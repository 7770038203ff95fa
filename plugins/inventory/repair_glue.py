"""Glue for repair (the part ``inventory.repair``, registered only where repair runs).

Repair is reached only through its hooks (:mod:`plugins.repair.hookspecs`), its tables by
name and ``ctx.run_action`` — never imported. With it:

- a part line whose ``part_code`` is a part inventory knows is resolved (description and
  the moving average cost in the job's warehouse) and **reserves** its quantity there
  for the order (job ``repair_work_order``, source ``repair_work_order_line``). The job's
  warehouse is the assigned engineer's van when it has the part available, else the
  branch's parts warehouse (the per-branch setting ``inventory.job_warehouse`` names it by
  code; empty: the branch's first parts warehouse). An unknown code stays free text;
- starting the repair **issues** what is reserved, completing it issues what is still
  reserved, and a line added while the repair runs (or after) is issued at once; every
  issue is a line of a submitted stock entry the system writes (purpose issue, the order
  linked). When units are short while the repair runs, the order **waits for parts**
  (repair's ``wait_for_parts``) and the branch's service supervisors get an e-mail;
- a line given back (or every line of a cancelled order) lets its reservation go and puts
  issued units back at the cost they went out at (a system stock entry, purpose return);
- when stock arrives (``inventory_stock_arrived``) and completes an order's reservations,
  a job (``inventory.resume_repair_job``, run as the system) restarts the waiting order
  (repair's ``start``, which issues the parts) and e-mails the supervisors; run twice it
  does nothing the second time;
- the order's form shows *Parts and stock* (reserved, short, issued, returned and the
  warehouse per line) and its list the column *Awaiting parts* (units short).
"""

from __future__ import annotations

from sqlalchemy import and_, func, select

from kernel import (
    Conflict,
    FormSection,
    JobHandler,
    ListColumn,
    Money,
    RecordLink,
    SectionContent,
    hookimpl,
)
from kernel.contributions import titled
from kernel.i18n import N_, _
from kernel.links import link_columns
from kernel.notifications import tell_branch
from kernel.settings import get_setting

from . import arrivals, ledger
from .models import (
    LedgerEntry,
    Movement,
    Part,
    Reservation,
    ReservationStatus,
    Warehouse,
    WarehouseKind,
)

ORDERS = "repair_work_order"
LINES = "repair_work_order_line"
RESUME_JOB = "inventory.resume_repair_job"
#: who hears of jobs waiting for parts and resumed
SUPERVISOR_ROLES = ("service_supervisor",)
#: order statuses in which parts are used: a line added then is issued at once
ISSUING = ("in_repair", "completed", "ready_for_pickup")
#: order statuses in which arrived parts are handed out (or the order restarted)
RESUMABLE = ("waiting_parts", *ISSUING)
OPEN = (ReservationStatus.RESERVED, ReservationStatus.SHORT)


# ---------------------------------------------------------------------------
# parts, warehouses and reservations of a work order
# ---------------------------------------------------------------------------


def part_by_code(ctx, code: str | None) -> Part | None:
    """The part with this code (as typed, trimmed), or None."""
    code = (code or "").strip()
    if not code:
        return None
    return ctx.session.scalars(select(Part).where(Part.code == code)).first()


def branch_warehouse(ctx, branch) -> Warehouse | None:
    """The branch's parts warehouse for jobs: the one the setting ``inventory.job_warehouse``
    names by code, else its first active parts warehouse."""
    code = (get_setting(ctx, "inventory.job_warehouse", branch) or "").strip()
    query = select(Warehouse).where(Warehouse.active.is_(True))
    if code:
        return ctx.session.scalars(query.where(Warehouse.code == code)).first()
    return ctx.session.scalars(query.where(Warehouse.branch_id == branch.id,
                                           Warehouse.kind == WarehouseKind.PARTS)
                               .order_by(Warehouse.code, Warehouse.id)).first()


def job_warehouse(ctx, order, part: Part, qty: int) -> Warehouse | None:
    """Where a job takes ``qty`` of a part from: the assigned engineer's van when it has that
    many available, else the branch's parts warehouse (None: the branch has none)."""
    if order.engineer_id is not None:
        for van in ctx.session.scalars(select(Warehouse).where(
                Warehouse.kind == WarehouseKind.VAN, Warehouse.engineer_id == order.engineer_id,
                Warehouse.active.is_(True)).order_by(Warehouse.id)):
            stock = ledger.stock_of(ctx, part.id, van.id)
            if stock is not None and stock.qty - stock.reserved >= qty:
                return van
    return branch_warehouse(ctx, order.branch)


def _job(order) -> RecordLink:
    return RecordLink(ORDERS, order.id)


def open_reservations(ctx, order) -> list[Reservation]:
    """The order's reservations still holding or wanting units, oldest first."""
    return list(ctx.session.scalars(select(Reservation).where(
        Reservation.job == _job(order), Reservation.status.in_(OPEN))
        .order_by(Reservation.id)))


def reservation_of_line(ctx, line) -> Reservation | None:
    """The reservation a part line made (not let go yet)."""
    return ctx.session.scalars(select(Reservation).where(
        Reservation.source == RecordLink(LINES, line.id),
        Reservation.status != ReservationStatus.RELEASED)).first()


def issue_held(ctx, order, reservations: list[Reservation] | None = None) -> None:
    """Issue the units the order's reservations hold now (one system stock entry per
    warehouse); short units stay wanted."""
    held = [r for r in (open_reservations(ctx, order) if reservations is None
                        else reservations) if r.reserved > 0]
    for warehouse_id in dict.fromkeys(r.warehouse_id for r in held):
        arrivals.issue_reservations(
            ctx, ctx.session.get(Warehouse, warehouse_id), _job(order),
            _("Parts for work order {number}").format(number=order.number),
            [(r, r.reserved) for r in held if r.warehouse_id == warehouse_id])


def _shortfalls(ctx, reservations: list[Reservation]) -> list[str]:
    return [_("{part}: {short} short in {warehouse}").format(
        part=r.part.label, short=r.short, warehouse=r.warehouse.name)
        for r in reservations if r.short > 0]


def _wait_for_parts(ctx, order, short: list[str]) -> None:
    """A running repair lacks parts: the order waits for them (repair's own action) and
    the branch's service supervisors are told."""
    if str(order.status) == "in_repair":
        ctx.run_action(ORDERS, order.id, "wait_for_parts", reason="; ".join(short)[:300])
    tell_supervisors(ctx, order, "inventory_parts_short", {"parts": short})


# ---------------------------------------------------------------------------
# telling the supervisors
# ---------------------------------------------------------------------------


def tell_supervisors(ctx, order, template: str, context: dict) -> int:
    """Queue an e-mail from ``template`` about ``order`` to each service supervisor of its
    branch; returns how many."""
    about = {"number": order.number, "customer": order.customer.name if order.customer
             else "", "model": " ".join(x for x in (order.model, order.serial_no) if x),
             "engineer": order.engineer.name if order.engineer is not None else "",
             "branch": order.branch.name}
    return tell_branch(ctx, order.branch_id, SUPERVISOR_ROLES, template, {**about, **context})


# ---------------------------------------------------------------------------
# repair's hooks
# ---------------------------------------------------------------------------


@hookimpl
def repair_resolve_part(ctx, order, code):
    """A part code inventory knows: its name, model and specification, and its cost (the
    moving average in the job's warehouse, else the purchase price); None for others."""
    part = part_by_code(ctx, code)
    if part is None:
        return None
    warehouse = job_warehouse(ctx, order, part, 1)
    cost = ledger.average_cost(ledger.stock_of(ctx, part.id, warehouse.id)) \
        if warehouse is not None else None
    return {"description": " ".join(x for x in (part.name, part.model, part.specification)
                                    if x),
            "unit_cost": cost if cost is not None else part.standard_cost}


@hookimpl
@titled(N_("Reserve and issue the stock of work orders' parts lines"))
def repair_parts_needed(ctx, order, line):
    """Reserve a known part's quantity in the job's warehouse; issue it at once when the
    repair is running or done. Short while repairing: the order waits for parts. A done
    job's line must be in stock (else refused with the shortage)."""
    part = part_by_code(ctx, line.part_code)
    if part is None or reservation_of_line(ctx, line) is not None:
        return
    warehouse = job_warehouse(ctx, order, part, line.quantity)
    if warehouse is None:
        return  # no parts warehouse in the branch: the line stays free text
    held = ledger.reserve(ctx, part.id, warehouse.id, line.quantity, job=_job(order),
                          source=RecordLink(LINES, line.id))
    status = str(order.status)
    if status == "in_repair":
        issue_held(ctx, order, [held])
        if held.short:
            _wait_for_parts(ctx, order, _shortfalls(ctx, [held]))
    elif status in ISSUING:
        arrivals.issue_reservations(ctx, warehouse, _job(order), _(
            "Parts for work order {number}").format(number=order.number),
            [(held, held.qty - held.issued)])


@hookimpl
@titled(N_("Put the stock of returned parts lines back"))
def repair_parts_returned(ctx, order, line):
    """Let go of the line's reservation and put issued units back into their warehouse at
    the cost they went out at; the units are offered to whoever waits for them."""
    held = reservation_of_line(ctx, line)
    if held is None:
        return
    out, had = held.issued - held.returned, held.reserved
    ledger.release(ctx, held)
    if out > 0:
        warehouse = ctx.session.get(Warehouse, held.warehouse_id)
        held.returned += out
        held.status = ReservationStatus.RELEASED
        ctx.session.flush()
        arrivals.return_units(ctx, warehouse, _job(order), _(
            "Parts returned from work order {number}").format(number=order.number),
            [(held.part_id, out, _cost_out(ctx, order, held, out))])
    elif had:
        arrivals.stock_arrived(ctx, held.part_id, held.warehouse_id)


def _cost_out(ctx, order, held: Reservation, qty: int):
    """The value of ``qty`` units of the order's issued (and not returned) stock of that
    part in that warehouse: their share of what went out."""
    count, value = ctx.session.execute(select(
        func.coalesce(func.sum(LedgerEntry.qty_change), 0),
        func.coalesce(func.sum(LedgerEntry.value_change), 0)).where(
        LedgerEntry.job == _job(order), LedgerEntry.part_id == held.part_id,
        LedgerEntry.warehouse_id == held.warehouse_id,
        LedgerEntry.kind.in_((Movement.ISSUE, Movement.RETURN)))).one()
    out_qty, out_value = -int(count), -Money.of_sum(value)
    return ledger.share_of_value(out_value, max(out_qty, qty), qty)


@hookimpl
@titled(N_("Issue parts when a repair starts or completes; wait for short parts"))
def repair_order_status_changed(ctx, order, from_status, to_status, event, reason):
    """Starting the repair issues what is reserved (short parts: the order waits for them
    and the supervisors are told); completing it issues what is still reserved."""
    if event not in ("start", "complete"):
        return
    held = open_reservations(ctx, order)
    issue_held(ctx, order, held)
    short = _shortfalls(ctx, held)
    if event == "start" and short:
        _wait_for_parts(ctx, order, short)


@hookimpl
@titled(N_("Resume work orders whose parts arrived"))
def inventory_stock_arrived(ctx, part, warehouse, reservations):
    """Queue the job that resumes each work order whose reservations this arrival
    completed, when none of its parts is short any more."""
    orders = ctx.app.entity_class(ORDERS)
    for order_id in sorted({r.job.id for r in reservations
                            if r.job is not None and r.job.entity == ORDERS}):
        order = ctx.session.get(orders, order_id)
        if order is None or str(order.status) not in RESUMABLE:
            continue
        if not any(r.short for r in open_reservations(ctx, order)):
            ctx.enqueue(RESUME_JOB, {"order_id": order_id})


def resume_order(ctx, order_id: int) -> str | None:
    """Job ``inventory.resume_repair_job`` (run as the system): a work order waiting for
    parts whose reservations are all held is started again (repair's ``start``, which
    issues them) and the supervisors are e-mailed; a running or finished one gets the
    arrived units issued. Nothing when parts are still short or the order moved on, so a
    second run does nothing. Returns what it did."""
    order = ctx.session.get(ctx.app.entity_class(ORDERS), order_id)
    if order is None:
        return None
    held = open_reservations(ctx, order)
    if not held or any(r.short for r in held):
        return None
    status = str(order.status)
    if status == "waiting_parts":
        parts = [f"{r.part.label} × {r.reserved}" for r in held]
        ctx.run_action(ORDERS, order.id, "start",
                       note=_("Parts arrived: {parts}").format(parts=", ".join(parts))[:300])
        tell_supervisors(ctx, order, "inventory_parts_arrived", {"parts": parts})
        return "started"
    if status in ISSUING:
        issue_held(ctx, order, held)
        return "issued"
    return None


@hookimpl
def fixdesk_document_cancelled(ctx, entity, record):
    """A stock entry that moved a work order's reserved parts is not cancelled by hand: the
    part line is returned on the order instead (which puts the stock back)."""
    if entity != "inventory_stock_entry" or record.job is None or record.job.entity != ORDERS:
        return
    kind, source_id = link_columns(Reservation.source)
    managed = ctx.session.scalar(select(func.count()).select_from(Reservation).where(
        Reservation.job == record.job, kind == LINES))
    if managed:
        raise Conflict(_("{number} moved parts of a work order: return the part line on the "
                         "order instead").format(number=record.number))


@hookimpl
def fixdesk_job_handlers():
    """``inventory.resume_repair_job``: restart a work order whose parts arrived."""
    return [JobHandler(RESUME_JOB, resume_order)]


# ---------------------------------------------------------------------------
# the work order's form and list
# ---------------------------------------------------------------------------


def parts_section(ctx, order) -> SectionContent:
    """Per part line: its warehouse and what is reserved, short, issued and returned (free
    text lines show no stock); one query."""
    line = ctx.app.entity_class(LINES)
    kind, source_id = link_columns(Reservation.source)
    rows = ctx.session.execute(
        select(line.description, line.part_code, line.quantity, line.returned_at,
               Warehouse.name, Reservation.reserved, Reservation.short, Reservation.issued,
               Reservation.returned)
        .outerjoin(Reservation, and_(kind == LINES, source_id == line.id))
        .outerjoin(Warehouse, Warehouse.id == Reservation.warehouse_id)
        .where(line.order_id == order.id).order_by(line.id, Reservation.id)).all()
    shown = []
    for description, code, qty, returned_at, house, *counts in rows:
        label = f"{description} ({code})" if code else description
        if returned_at is not None:
            label = _("{part} (given back)").format(part=label)
        if house is None:
            shown.append((label, qty, _("free text"), "", "", "", ""))
        else:
            shown.append((label, qty, house, *counts))
    short = sum(r[6] or 0 for r in rows if r[4] is not None)
    return SectionContent(
        summary=((_("Units short"), str(short)),) if short else (),
        columns=(_("Part"), _("Quantity"), _("Warehouse"), _("Reserved"), _("Short"),
                 _("Qty issued"), _("Qty returned")),
        rows=tuple(shown), empty=_("No parts on this order."))


def awaiting_parts(ctx, orders) -> dict:
    """Units short per work order of a page: one grouped query."""
    kind, job_id = link_columns(Reservation.job)
    rows = ctx.session.execute(
        select(job_id, func.sum(Reservation.short)).where(
            kind == ORDERS, job_id.in_([o.id for o in orders]),
            Reservation.status == ReservationStatus.SHORT).group_by(job_id))
    return {order_id: int(short) for order_id, short in rows if short}


@hookimpl
def fixdesk_form_sections():
    """*Parts and stock* on the work order's form."""
    return [FormSection(ORDERS, "inventory.parts_stock", N_("Parts and stock"),
                        build=parts_section, order=40)]


@hookimpl
def fixdesk_list_columns():
    """*Awaiting parts* (units short) in the work order list."""
    return [ListColumn(ORDERS, "inventory.awaiting_parts", N_("Awaiting parts"),
                       compute=awaiting_parts, kind="integer")]


@hookimpl
def fixdesk_demo_data(ctx):
    """With repair's demo: a Shanghai job waiting for the drum that is on its way."""
    from .demo_history import load_repair_story

    load_repair_story(ctx)

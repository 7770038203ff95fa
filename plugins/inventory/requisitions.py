"""Requisition slips (领用单, R24): an engineer asks for parts for a job, a supervisor
approves, the warehouse issues them, unused parts come back, and the slip is written off
(核销).

A draft ``inventory_requisition`` is written through the generic API or desk: the
engineer, the warehouse to take from (usually the branch's parts warehouse), an optional
``job`` (a link to any record: a work order, a customer, a contract, or nothing) and its
lines (part, quantity). Submitting it (the kernel's ``submit``) checks the lines and makes
it ``pending``. Then, as actions:

- **approve** (``inventory_requisition.approve``) reserves each line's quantity in the
  warehouse for the slip's job (all of it, or what is free and the rest short, filled
  when stock arrives); **reject** (same permission, a reason, kept as a note on the slip)
  lets the reservations go;
- **issue** (``.issue``) takes out everything still to issue, or ``qty`` of one line
  (``line_id``). It needs *available* stock: on hand minus what is reserved for other
  jobs — reservations of the same job (the slip's own, a work order's parts lines) count
  as its own. Otherwise it is refused with every short part named, nothing issued. The
  ledger entries name the slip and the line; units the slip took that a same-job
  reservation held are taken from it (it is short again until stock arrives). The slip
  is then ``partly_issued`` or ``issued``;
- **return_parts** (``.issue``) puts unused units of a line back (at most issued −
  returned), at the cost they went out at;
- **write_off** (``.write_off``) closes a fully issued slip: what was not returned was
  consumed on the job (consumed = issued − returned).

Cancelling a submitted slip (the kernel's ``cancel``) reverses all its ledger entries
(issued stock comes back, returned stock goes out again) and lets its reservations go;
a written-off slip cannot be cancelled. Changing an issued line is cancel + amend: the
amendment is a new draft, pending again once submitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, case, func, select

from kernel import (
    Action,
    Conflict,
    FormSection,
    Money,
    Param,
    RecordLink,
    SectionContent,
    ValidationError,
)
from kernel.i18n import N_, _
from kernel.lifecycle import DocStatus
from kernel.links import link_columns

from . import arrivals, ledger
from .ledger import Move, Voucher
from .models import (
    LedgerEntry,
    Movement,
    Part,
    Requisition,
    RequisitionLine,
    RequisitionStatus,
    Reservation,
    ReservationStatus,
)

ENTITY = "inventory_requisition"
LINE = "inventory_requisition_line"
S = RequisitionStatus


# ---------------------------------------------------------------------------
# what each line asked for, got and gave back (from the ledger)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LineQuantities:
    """One line of a slip: requested, issued and returned units (net of reversals) and the
    value that went out and came back."""

    line_id: int
    part_id: int
    part: str
    requested: int
    issued: int
    returned: int
    issued_value: Decimal
    returned_value: Decimal

    @property
    def consumed(self) -> int:
        """Used on the job: issued and not returned."""
        return self.issued - self.returned

    @property
    def to_issue(self) -> int:
        return max(0, self.requested - self.issued)


def quantities(ctx, requisition: Requisition) -> list[LineQuantities]:
    """Every line of the slip with what the ledger says was issued and returned for it, in
    line order: one grouped query."""
    issue = LedgerEntry.kind == Movement.ISSUE
    back = LedgerEntry.kind == Movement.RETURN
    rows = ctx.session.execute(
        select(RequisitionLine.id, RequisitionLine.part_id, RequisitionLine.qty, Part.code,
               Part.name, Part.model,
               func.coalesce(func.sum(case((issue, -LedgerEntry.qty_change), else_=0)), 0),
               func.coalesce(func.sum(case((back, LedgerEntry.qty_change), else_=0)), 0),
               func.coalesce(func.sum(case((issue, -LedgerEntry.value_change), else_=0)), 0),
               func.coalesce(func.sum(case((back, LedgerEntry.value_change), else_=0)), 0))
        .join(Part, Part.id == RequisitionLine.part_id)
        .outerjoin(LedgerEntry, and_(LedgerEntry.voucher_entity == ENTITY,
                                     LedgerEntry.voucher_id == RequisitionLine.requisition_id,
                                     LedgerEntry.voucher_line_id == RequisitionLine.id))
        .where(RequisitionLine.requisition_id == requisition.id)
        .group_by(RequisitionLine.id, RequisitionLine.part_id, RequisitionLine.qty, Part.code,
                  Part.name, Part.model)
        .order_by(RequisitionLine.id))
    money = Money.of_sum
    return [LineQuantities(line_id, part_id, " ".join(x for x in (code, name, model) if x),
                           qty or 0, int(issued), int(returned), money(out), money(came))
            for line_id, part_id, qty, code, name, model, issued, returned, out, came in rows]


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def job_of(requisition: Requisition) -> RecordLink:
    """The job the slip's stock is held for: its ``job`` link, else the slip itself."""
    return requisition.job or RecordLink(ENTITY, requisition.id)


def _check_state(requisition: Requisition, action: str, *states: RequisitionStatus) -> None:
    if requisition.docstatus != DocStatus.SUBMITTED or requisition.status not in states:
        state = _(requisition.status.value) if requisition.docstatus == DocStatus.SUBMITTED \
            else _(requisition.docstatus.value)
        raise Conflict(_("requisition slip {number} is {state}: cannot {action}").format(
            number=requisition.number, state=state, action=_(action)), field="status")


def _locked(ctx, requisition: Requisition) -> Requisition:
    """The slip re-read and locked (PostgreSQL) so that two issues of it queue."""
    ctx.session.refresh(requisition, with_for_update=True)
    return requisition


def _line_reservations(ctx, requisition: Requisition) -> dict[int, Reservation]:
    """The reservations of the slip's lines still counting (by line id)."""
    line_ids = [line.id for line in requisition.lines]
    if not line_ids:
        return {}
    entity, source_id = link_columns(Reservation.source)
    held = ctx.session.scalars(select(Reservation).where(
        entity == LINE, source_id.in_(line_ids),
        Reservation.status != ReservationStatus.RELEASED))
    return {r.source.id: r for r in held}


def _release_all(ctx, requisition: Requisition) -> list[tuple[int, int]]:
    """Let go of what the slip's lines still hold; the stocks that got free units."""
    freed = []
    for reservation in _line_reservations(ctx, requisition).values():
        if reservation.reserved:
            freed.append((reservation.part_id, reservation.warehouse_id))
        ledger.release(ctx, reservation)
    return freed


def _line(requisition: Requisition, line_id) -> RequisitionLine:
    found = next((x for x in requisition.lines if x.id == line_id), None)
    if found is None:
        raise ValidationError(_("requisition slip {number} has no line {id}").format(
            number=requisition.number, id=line_id), field="line_id")
    return found


# ---------------------------------------------------------------------------
# submit, approve, reject
# ---------------------------------------------------------------------------


def on_submit(ctx, requisition: Requisition) -> None:
    """A submitted slip waits for approval: it needs lines with quantities above zero and an
    active warehouse of its branch.

    :raise ValidationError: no lines, a quantity of zero or less, a wrong warehouse.
    """
    if not requisition.lines:
        raise ValidationError(_("add at least one line"), field="lines")
    for line in requisition.lines:
        if line.qty is None or line.qty <= 0:
            raise ValidationError(_("{part}: the quantity must be more than 0").format(
                part=line.part.label), field="lines")
    warehouse = requisition.warehouse
    if not warehouse.active:
        raise ValidationError(_("{warehouse} is not in use").format(warehouse=warehouse.name),
                              field="warehouse_id")
    if warehouse.branch_id != requisition.branch_id:
        raise ValidationError(_("{warehouse} is another branch's warehouse").format(
            warehouse=warehouse.name), field="warehouse_id")
    _start_afresh(requisition)


def _start_afresh(requisition: Requisition) -> None:
    requisition.status = S.PENDING
    requisition.decided_at = requisition.decided_by_id = requisition.written_off_at = None


def on_amend(ctx, requisition: Requisition) -> None:
    """The amended draft of a cancelled slip is pending again, without the old approval."""
    _start_afresh(requisition)


def approve(ctx, requisition: Requisition) -> Requisition:
    """Approve a pending slip: each line's quantity is reserved in the warehouse for the
    slip's job (what is not free now is short, filled when stock arrives)."""
    requisition = _locked(ctx, requisition)
    _check_state(requisition, N_("approve"), S.PENDING)
    requisition.status, requisition.decided_at = S.APPROVED, ctx.now()
    requisition.decided_by_id = ctx.user.id if ctx.user is not None else None
    for line in requisition.lines:
        ledger.reserve(ctx, line.part_id, requisition.warehouse_id, line.qty,
                       job=job_of(requisition), source=RecordLink(LINE, line.id))
    ctx.session.flush()
    return requisition


def reject(ctx, requisition: Requisition, reason: str | None = None) -> Requisition:
    """Refuse a pending (or approved, nothing issued yet) slip with a reason, kept as a
    note on it; its reservations are let go."""
    from kernel.notes import add_note

    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("give the reason for rejecting"), field="reason")
    requisition = _locked(ctx, requisition)
    _check_state(requisition, N_("reject"), S.PENDING, S.APPROVED)
    requisition.status, requisition.decided_at = S.REJECTED, ctx.now()
    requisition.decided_by_id = ctx.user.id if ctx.user is not None else None
    freed = _release_all(ctx, requisition)
    add_note(ctx, ENTITY, requisition.id, _("Rejected: {reason}").format(reason=reason))
    arrivals.stocks_arrived(ctx, freed)
    return requisition


# ---------------------------------------------------------------------------
# issue, return, write off
# ---------------------------------------------------------------------------


def issue(ctx, requisition: Requisition, line_id: int | None = None,
          qty: int | None = None) -> Requisition:
    """Issue what is still to issue of every line, or ``qty`` (default: the rest) of the
    line ``line_id``, all or nothing.

    :raise Shortage: units are not available (reserved for other jobs or not there), every
        short part named; nothing is issued.
    :raise ValidationError: an unknown line, a quantity of zero or more than is left.
    :raise Conflict: the slip is not approved (or is issued already).
    """
    requisition = _locked(ctx, requisition)
    _check_state(requisition, N_("issue"), S.APPROVED, S.PARTLY_ISSUED)
    wanted = _wanted(requisition, {q.line_id: q for q in quantities(ctx, requisition)},
                     line_id, qty)
    house = requisition.warehouse_id
    job_held = list(ctx.session.scalars(select(Reservation).where(
        Reservation.job == job_of(requisition), Reservation.warehouse_id == house,
        Reservation.part_id.in_({line.part_id for line, _q in wanted}),
        Reservation.reserved > 0).order_by(Reservation.id)))
    moves, counted = [], set()
    for line, count in wanted:
        own = 0 if line.part_id in counted else \
            sum(r.reserved for r in job_held if r.part_id == line.part_id)
        counted.add(line.part_id)
        moves.append(Move(line.part_id, house, -count, Movement.ISSUE, line_id=line.id,
                          own_reserved=own))
    ledger.post(ctx, Voucher.of(requisition), moves)
    _settle(ctx, requisition, wanted, job_held)
    left = [q for q in quantities(ctx, requisition) if q.to_issue]
    requisition.status = S.PARTLY_ISSUED if left else S.ISSUED
    ctx.session.flush()
    return requisition


def _wanted(requisition, done: dict, line_id, qty) -> list[tuple[RequisitionLine, int]]:
    """``(line, units)`` to issue now."""
    if line_id is None:
        if qty is not None:
            raise ValidationError(_("name the line to issue this quantity of"),
                                  field="line_id")
        wanted = [(line, done[line.id].to_issue) for line in requisition.lines
                  if done[line.id].to_issue]
        if not wanted:
            raise Conflict(_("everything on the slip is issued"), field="lines")
        return wanted
    line = _line(requisition, line_id)
    left = done[line.id].to_issue
    count = left if qty is None else qty
    if count <= 0 or count > left:
        raise ValidationError(_("{part}: issue between 1 and {left}").format(
            part=line.part.label, left=left), field="qty")
    return [(line, count)]


def _settle(ctx, requisition, wanted, job_held: list[Reservation]) -> None:
    """Count the issued units against the reservations: each line's own first; units the
    slip took beyond those and beyond the free stock came from other reservations of the
    same job, which are short of them again (newest first)."""
    own = _line_reservations(ctx, requisition)
    stocks = {}
    for line, count in wanted:
        stock = stocks.get(line.part_id) or ledger.locked_stock(
            ctx, line.part_id, requisition.warehouse_id)
        stocks[line.part_id] = stock
        held = own.get(line.id)
        if held is None:
            continue
        taken = min(held.reserved, count)
        held.reserved -= taken
        held.short = max(0, held.short - (count - taken))
        held.issued += count
        stock.reserved -= taken
        if held.issued - held.returned >= held.qty:
            held.status = ReservationStatus.ISSUED
    settled = {own[line.id].id for line, _count in wanted if line.id in own}
    for part_id, stock in stocks.items():
        excess = stock.reserved - stock.qty
        for other in sorted((r for r in job_held if r.part_id == part_id
                             and r.id not in settled and r.reserved), key=lambda r: -r.id):
            if excess <= 0:
                break
            moved = min(other.reserved, excess)
            other.reserved -= moved
            other.short += moved
            other.status = ReservationStatus.SHORT
            stock.reserved -= moved
            excess -= moved
    ctx.session.flush()


def return_parts(ctx, requisition: Requisition, line_id: int | None = None,
                 qty: int | None = None) -> Requisition:
    """Put ``qty`` unused units of a line back into the warehouse, at the cost they went
    out at; they are offered to whoever waits for the part.

    :raise ValidationError: an unknown line, or more than issued − returned.
    """
    requisition = _locked(ctx, requisition)
    _check_state(requisition, N_("return parts"), S.PARTLY_ISSUED, S.ISSUED)
    if line_id is None:
        raise ValidationError(_("name the line"), field="line_id")
    line = _line(requisition, line_id)
    done = next(q for q in quantities(ctx, requisition) if q.line_id == line.id)
    if qty is None or qty <= 0 or qty > done.consumed:
        raise ValidationError(_("{part}: return between 1 and {out}").format(
            part=line.part.label, out=done.consumed), field="qty")
    value = ledger.share_of_value(done.issued_value - done.returned_value, done.consumed, qty)
    ledger.post(ctx, Voucher.of(requisition), [
        Move(line.part_id, requisition.warehouse_id, qty, Movement.RETURN, value=value,
             line_id=line.id)])
    arrivals.stock_arrived(ctx, line.part_id, requisition.warehouse_id)
    return requisition


def write_off(ctx, requisition: Requisition) -> Requisition:
    """Write the slip off (核销): every line is fully issued; what was not returned was
    consumed on the job. Nothing moves; a written-off slip cannot be cancelled."""
    requisition = _locked(ctx, requisition)
    _check_state(requisition, N_("write off"), S.ISSUED)
    open_lines = [q.part for q in quantities(ctx, requisition) if q.to_issue]
    if open_lines:
        raise Conflict(_("not everything is issued: {parts}").format(
            parts=", ".join(open_lines)), field="lines")
    freed = _release_all(ctx, requisition)
    requisition.status, requisition.written_off_at = S.WRITTEN_OFF, ctx.now()
    ctx.session.flush()
    arrivals.stocks_arrived(ctx, freed)
    return requisition


def on_cancel(ctx, requisition: Requisition) -> None:
    """A cancelled slip's ledger entries are reversed (issued units come back, returned
    ones go out again) and its reservations let go; the units are offered to whoever waits.

    :raise Conflict: the slip is written off.
    :raise Shortage: returned units are no longer there to take back out.
    """
    if requisition.status == S.WRITTEN_OFF:
        raise Conflict(_("requisition slip {number} is written off and cannot be "
                         "cancelled").format(number=requisition.number), field="status")
    posted = _reverse(ctx, requisition)
    freed = _release_all(ctx, requisition)
    arrivals.stocks_arrived(ctx, [(e.part_id, e.warehouse_id) for e in posted
                                  if e.qty_change > 0] + freed)


def _reverse(ctx, requisition: Requisition) -> list[LedgerEntry]:
    """Post the reversal of everything the slip posted (once): units coming back first, so
    that the returns taken out again may use them."""
    entries = ledger.entries_of(ctx, ENTITY, requisition.id)
    if any(e.reversal for e in entries):
        return []
    back = [Move(e.part_id, e.warehouse_id, -e.qty_change, e.kind, value=-e.value_change,
                 line_id=e.voucher_line_id) for e in entries]
    posted = []
    voucher = Voucher.of(requisition)
    for moves in ([m for m in back if m.qty > 0], [m for m in back if m.qty < 0]):
        if moves:
            posted += ledger.post(ctx, voucher, moves, reversal=True)
    return posted


# ---------------------------------------------------------------------------
# the form's block and the actions
# ---------------------------------------------------------------------------


def progress_section(ctx, requisition: Requisition) -> SectionContent | None:
    """Per line: requested, issued, returned and consumed (from the ledger); nothing on a
    draft, which nothing was issued on yet."""
    if requisition.docstatus == DocStatus.DRAFT:
        return None
    rows = quantities(ctx, requisition)
    return SectionContent(
        columns=(_("Part"), _("Requested"), _("Qty issued"), _("Qty returned"), _("Consumed")),
        rows=tuple((q.part, q.requested, q.issued, q.returned, q.consumed) for q in rows),
        empty=_("No lines yet."))


def _lines_to_issue(ctx, requisition) -> list[tuple[str, str]]:
    return [(str(q.line_id), f"{q.part} × {q.to_issue}") for q in quantities(ctx, requisition)
            if q.to_issue]


def _lines_out(ctx, requisition) -> list[tuple[str, str]]:
    return [(str(q.line_id), f"{q.part} × {q.consumed}") for q in quantities(ctx, requisition)
            if q.consumed]


def _in(*states):
    return lambda r: r.docstatus == DocStatus.SUBMITTED and r.status in states


PERMISSION = f"{ENTITY}.{{}}".format
ACTIONS = [
    Action(ENTITY, "approve", N_("Approve"), approve, PERMISSION("approve"),
           available=_in(S.PENDING), next_for=("pending",), order=10),
    Action(ENTITY, "reject", N_("Reject"), reject, PERMISSION("approve"),
           available=_in(S.PENDING, S.APPROVED), order=20,
           params=(Param("reason", "text", label=N_("Reason"), required=True),)),
    Action(ENTITY, "issue", N_("Issue parts"), issue, PERMISSION("issue"),
           available=_in(S.APPROVED, S.PARTLY_ISSUED), next_for=("approved", "partly_issued"),
           order=30,
           params=(Param("line_id", "integer", label=N_("Line"), choices_for=_lines_to_issue,
                         help=N_("Leave empty to issue everything still to issue")),
                   Param("qty", "integer", label=N_("Quantity")))),
    Action(ENTITY, "return_parts", N_("Return unused parts"), return_parts,
           PERMISSION("issue"), available=_in(S.PARTLY_ISSUED, S.ISSUED), order=40,
           params=(Param("line_id", "integer", label=N_("Line"), required=True,
                         choices_for=_lines_out),
                   Param("qty", "integer", label=N_("Quantity"), required=True))),
    Action(ENTITY, "write_off", N_("Write off"), write_off, PERMISSION("write_off"),
           available=_in(S.ISSUED), next_for=("issued",), order=50),
]
ON_SUBMIT = {ENTITY: on_submit}
ON_CANCEL = {ENTITY: on_cancel}
ON_AMEND = {ENTITY: on_amend}
FORM_SECTIONS = [FormSection(ENTITY, "inventory.requisition_progress",
                             N_("Issued, returned and consumed"), build=progress_section,
                             order=10)]


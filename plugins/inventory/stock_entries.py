"""Stock entries: receipts, issues, transfers, returns, adjustments and scrapping by hand.

A keeper writes a draft :class:`~plugins.inventory.models.StockEntry` through the generic
API or the desk (the kernel numbers it); submitting it validates the entry for its
purpose and posts its lines through :mod:`plugins.inventory.ledger`, all or nothing:

============  ==========================  =================================================
purpose       warehouses                  what is posted per line
============  ==========================  =================================================
receipt       to                          +qty at the line's cost (default purchase price)
issue         from                        −qty at the moving average
transfer      from and to (different)     −qty out at the average, +qty in at that value
return        to                          +qty at the line's cost, else the average
scrap         from (a reason)             −qty at the average
adjustment    to or from (a reason)       ±qty (signed); found stock at the cost or average
============  ==========================  =================================================

Cancelling the entry reverses what it posted (:func:`plugins.inventory.ledger.reverse`).
Stock that came in is announced to :mod:`plugins.inventory.arrivals` (waiting jobs and
pre-orders), when that module is there.
"""

from __future__ import annotations

import datetime as dt

from kernel import ValidationError
from kernel.i18n import _

from . import ledger
from .ledger import Move, Voucher
from .models import Movement, Part, StockEntry, Warehouse

ENTITY = "inventory_stock_entry"

#: purpose → (needs a from warehouse, needs a to warehouse, needs a reason)
RULES = {
    Movement.RECEIPT: (False, True, False),
    Movement.ISSUE: (True, False, False),
    Movement.TRANSFER: (True, True, False),
    Movement.RETURN: (False, True, False),
    Movement.SCRAP: (True, False, True),
}


# ---------------------------------------------------------------------------
# helpers shared with purchasing
# ---------------------------------------------------------------------------


def posting_time(ctx, at: dt.datetime | None, field: str = "posted_at") -> dt.datetime:
    """When a document posts: its own time, else now; a time in the future is refused."""
    now = ctx.now()
    if at is None:
        return now
    if at > now:
        raise ValidationError(_("the posting time cannot be in the future"), field=field)
    return at


def expiry(ctx, part: Part, posted_at: dt.datetime, given: dt.date | None) -> dt.date | None:
    """The expiry date of received units: the one given, else the posting date (in the
    site's time zone) plus the part's shelf life, else none."""
    if given is not None or not part.shelf_life_days:
        return given
    return posted_at.astimezone(ctx.settings.tz).date() + dt.timedelta(days=part.shelf_life_days)


def announce_arrivals(ctx, stocks) -> None:
    """Tell :mod:`plugins.inventory.arrivals` that units of each ``(part id, warehouse id)``
    arrived (jobs waiting for parts, customers' pre-orders); nothing when that module is
    not there."""
    try:
        from . import arrivals
    except ImportError:
        return
    for part_id, warehouse_id in dict.fromkeys(stocks):
        arrivals.stock_arrived(ctx, part_id, warehouse_id)


# ---------------------------------------------------------------------------
# submitting and cancelling
# ---------------------------------------------------------------------------


def submit_entry(ctx, entry: StockEntry) -> None:
    """Post a submitted stock entry's lines to the ledger, after checking it for its
    purpose; any refusal leaves it a draft with nothing posted.

    :raise ValidationError: a missing or wrong warehouse, reason, line or posting time
        (``field`` names it).
    :raise Shortage: outgoing units are not available (each part named).
    :raise Conflict: a backdated entry would make later history negative.
    """
    if ledger.entries_of(ctx, ENTITY, entry.id):
        return  # posted already: the event may come twice
    purpose = Movement(entry.purpose)
    posted_at = posting_time(ctx, entry.posted_at)
    source, target = _warehouses(ctx, entry, purpose)
    _check_lines(entry, purpose)
    voucher = Voucher.of(entry)
    if purpose is Movement.TRANSFER:
        arrived = _transfer(ctx, entry, voucher, source, target, posted_at)
    else:
        moves = [_move(ctx, entry, purpose, line, source, target, posted_at)
                 for line in entry.lines]
        ledger.post(ctx, voucher, moves, posted_at=posted_at)
        arrived = [(m.part_id, m.warehouse_id) for m in moves if m.qty > 0]
    announce_arrivals(ctx, arrived)


def cancel_entry(ctx, entry: StockEntry) -> None:
    """Reverse what a cancelled stock entry posted; units it took out that come back are
    announced as arrivals.

    :raise Shortage: units it brought in are not there any more to take out again.
    """
    entries = ledger.reverse(ctx, Voucher.of(entry))
    announce_arrivals(ctx, [(e.part_id, e.warehouse_id) for e in entries if e.qty_change > 0])


def _warehouses(ctx, entry: StockEntry, purpose: Movement):
    """The entry's from and to warehouses, checked for its purpose."""
    if purpose is Movement.ADJUSTMENT:
        if entry.from_warehouse_id and entry.to_warehouse_id:
            raise ValidationError(_("an adjustment is of one warehouse: give either the from "
                                    "or the to warehouse"), field="to_warehouse_id")
        if not entry.from_warehouse_id and not entry.to_warehouse_id:
            raise ValidationError(_("give the warehouse to adjust"), field="to_warehouse_id")
        needs_from, needs_to, needs_reason = (bool(entry.from_warehouse_id),
                                              bool(entry.to_warehouse_id), True)
    else:
        needs_from, needs_to, needs_reason = RULES[purpose]
    if needs_reason and not (entry.reason or "").strip():
        raise ValidationError(_("give the reason for the {purpose}").format(
            purpose=_(purpose.value)), field="reason")
    source = _warehouse(ctx, entry, "from_warehouse_id", needs_from, own_branch=True)
    target = _warehouse(ctx, entry, "to_warehouse_id", needs_to,
                        own_branch=purpose is not Movement.TRANSFER)
    if source is not None and target is not None and source.id == target.id:
        raise ValidationError(_("a transfer goes to another warehouse"), field="to_warehouse_id")
    return source, target


def _warehouse(ctx, entry: StockEntry, field: str, needed: bool, *, own_branch: bool):
    warehouse_id = getattr(entry, field)
    if not needed:
        if warehouse_id:
            raise ValidationError(_("a {purpose} does not use this warehouse").format(
                purpose=_(Movement(entry.purpose).value)), field=field)
        return None
    if not warehouse_id:
        raise ValidationError(_("give the warehouse"), field=field)
    warehouse = ctx.session.get(Warehouse, warehouse_id)
    if not warehouse.active:
        raise ValidationError(_("{warehouse} is not in use").format(warehouse=warehouse.name),
                              field=field)
    if own_branch and warehouse.branch_id != entry.branch_id:
        raise ValidationError(_("{warehouse} is another branch's warehouse").format(
            warehouse=warehouse.name), field=field)
    return warehouse


def _check_lines(entry: StockEntry, purpose: Movement) -> None:
    if not entry.lines:
        raise ValidationError(_("add at least one line"), field="lines")
    for line in entry.lines:
        if purpose is Movement.ADJUSTMENT:
            if not line.qty:
                raise ValidationError(_("{part}: give the quantity found (more) or missing "
                                        "(less than 0)").format(part=line.part.label),
                                      field="lines")
        elif line.qty is None or line.qty <= 0:
            raise ValidationError(_("{part}: the quantity must be more than 0").format(
                part=line.part.label), field="lines")
        if line.unit_cost is not None and line.unit_cost < 0:
            raise ValidationError(_("{part}: the cost cannot be negative").format(
                part=line.part.label), field="lines")


def _move(ctx, entry, purpose: Movement, line, source, target, posted_at) -> Move:
    """The ledger move of one line of an entry that is not a transfer."""
    part = line.part
    if purpose is Movement.RECEIPT:
        cost = line.unit_cost if line.unit_cost is not None else part.standard_cost
        return Move(part.id, target.id, line.qty, purpose, unit_cost=cost, line_id=line.id,
                    expires_on=expiry(ctx, part, posted_at, line.expires_on))
    if purpose is Movement.RETURN or (purpose is Movement.ADJUSTMENT and line.qty > 0):
        return Move(part.id, target.id if target else source.id, abs(line.qty), purpose,
                    unit_cost=line.unit_cost, line_id=line.id,
                    expires_on=expiry(ctx, part, posted_at, line.expires_on))
    house = source if source is not None else target
    return Move(part.id, house.id, -abs(line.qty), purpose, line_id=line.id)


def _transfer(ctx, entry, voucher, source, target, posted_at) -> list[tuple[int, int]]:
    """Post a transfer: out of the source at the moving average first, then into the
    target at exactly the value that went out (the total value is kept)."""
    out = ledger.post(ctx, voucher, [Move(line.part_id, source.id, -line.qty, Movement.TRANSFER,
                                          line_id=line.id) for line in entry.lines],
                      posted_at=posted_at)
    moves = [Move(line.part_id, target.id, line.qty, Movement.TRANSFER,
                  value=-taken.value_change, line_id=line.id, expires_on=line.expires_on)
             for line, taken in zip(entry.lines, out, strict=True)]
    ledger.post(ctx, voucher, moves, posted_at=posted_at)
    return [(m.part_id, m.warehouse_id) for m in moves]


ACTIONS: list = []
ON_SUBMIT = {ENTITY: submit_entry}
ON_CANCEL = {ENTITY: cancel_entry}

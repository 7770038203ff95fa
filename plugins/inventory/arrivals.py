"""Stock for those who wait on it: units that arrive fill short reservations and customers'
pre-orders, and units handed out to a job or a customer (or taken back) are posted on a
stock entry the system writes.

:func:`stock_arrived` is called whenever units of a part come into a warehouse or are let
go there: purchase receipts and incoming stock entries, cancelled documents, returned
parts, released reservations. It gives the units to the reservations that were short,
oldest first (:func:`plugins.inventory.ledger.fill_short`), then to customers' waiting
pre-orders, and tells the other plugins with the event ``inventory_stock_arrived`` (the
part ``inventory.repair`` resumes the work orders that waited for parts).

:func:`system_entry` writes the submitted stock entry (purpose issue or return, with the
job linked) whose lines carry the movements of a work order's parts or a collected
pre-order, so that every movement is a line of a submitted document.
"""

from __future__ import annotations

from kernel import RecordLink
from kernel.lifecycle import DocStatus, number_new_draft

from . import ledger
from .ledger import Move, Voucher
from .models import (
    Movement,
    Part,
    Reservation,
    StockEntry,
    StockEntryLine,
    Warehouse,
)


def stock_arrived(ctx, part_id: int, warehouse_id: int) -> list[Reservation]:
    """Give units of a part that came into (or were let go in) a warehouse to whoever
    waits for them there: short reservations first, oldest first, then customers' waiting
    pre-orders (each complete one is marked arrived and its customer told); then call
    ``inventory_stock_arrived``. Safe to call twice: the second call finds nothing short.

    :return: the reservations this arrival completed.
    """
    from . import customer_orders

    complete = ledger.fill_short(ctx, part_id, warehouse_id)
    complete += customer_orders.reserve_waiting(ctx, part_id, warehouse_id)
    for reservation in complete:
        source = reservation.source
        if source is not None and source.entity == customer_orders.ENTITY:
            customer_orders.arrived(ctx, source.id)
    ctx.hook.inventory_stock_arrived(ctx=ctx, part=ctx.session.get(Part, part_id),
                                     warehouse=ctx.session.get(Warehouse, warehouse_id),
                                     reservations=complete)
    return complete


def stocks_arrived(ctx, keys) -> None:
    """:func:`stock_arrived` for each ``(part id, warehouse id)`` of ``keys``, once each."""
    for part_id, warehouse_id in dict.fromkeys(keys):
        stock_arrived(ctx, part_id, warehouse_id)


def system_entry(ctx, purpose: Movement, warehouse: Warehouse, job: RecordLink,
                 reason: str, parts: list[tuple[int, int]]) -> StockEntry:
    """A stock entry the system writes, submitted at once: an issue from (or a return into)
    ``warehouse`` for ``job``, one line per ``(part id, qty)`` of ``parts``. The caller
    posts its movements (their ``line_id`` the entry's lines, in order)."""
    now = ctx.now()
    entry = StockEntry(
        branch_id=warehouse.branch_id, purpose=purpose, posted_at=now, reason=reason[:300],
        from_warehouse_id=warehouse.id if purpose is Movement.ISSUE else None,
        to_warehouse_id=warehouse.id if purpose is not Movement.ISSUE else None,
        job=job, docstatus=DocStatus.SUBMITTED, submitted_at=now,
        lines=[StockEntryLine(part_id=part_id, qty=qty) for part_id, qty in parts])
    number_new_draft(ctx, entry)
    ctx.session.add(entry)  # made submitted with its lines in one flush: never a draft
    ctx.session.flush()
    return entry


def issue_reservations(ctx, warehouse: Warehouse, job: RecordLink, reason: str,
                       wanted: list[tuple[Reservation, int]]) -> StockEntry | None:
    """Issue ``qty`` units of each ``(reservation, qty)`` of ``wanted`` (all in
    ``warehouse``) on one system stock entry; nothing when nothing is wanted.

    :raise Shortage: a reservation is short and no free stock makes up for it.
    """
    wanted = [(r, qty) for r, qty in wanted if qty > 0]
    if not wanted:
        return None
    entry = system_entry(ctx, Movement.ISSUE, warehouse, job, reason,
                         [(r.part_id, qty) for r, qty in wanted])
    voucher = Voucher.of(entry)
    for (reservation, qty), line in zip(wanted, entry.lines, strict=True):
        ledger.issue_reserved(ctx, voucher, reservation, qty, line_id=line.id)
    return entry


def return_units(ctx, warehouse: Warehouse, job: RecordLink, reason: str,
                 returned: list[tuple[int, int, object]]) -> StockEntry | None:
    """Put units back into ``warehouse`` for ``job`` on one system stock entry: each
    ``(part id, qty, value)`` of ``returned`` at the value it went out at; then the units
    are offered to whoever waits for them (:func:`stock_arrived`)."""
    returned = [r for r in returned if r[1] > 0]
    if not returned:
        return None
    entry = system_entry(ctx, Movement.RETURN, warehouse, job, reason,
                         [(part_id, qty) for part_id, qty, _value in returned])
    ledger.post(ctx, Voucher.of(entry), [
        Move(part_id, warehouse.id, qty, Movement.RETURN, value=value, line_id=line.id)
        for (part_id, qty, value), line in zip(returned, entry.lines, strict=True)])
    stocks_arrived(ctx, [(part_id, warehouse.id) for part_id, _qty, _value in returned])
    return entry


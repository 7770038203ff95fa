"""What the forms of warehouses, parts and ledger entries show of the stock (blocks of
their desk forms).

* :data:`FORM_SECTIONS` — on a warehouse's form, *Stock in this warehouse*: each part on
  hand or reserved there with its bin, on hand, reserved, available, average cost and
  value, and the totals (one query); on a part's form, *Stock by warehouse* (the same per
  warehouse, with the units jobs wait for: two queries) and *Latest movements* (its last
  ledger lines, each linked to the document that posted it: one query); on a ledger
  entry's form, *Document*: the document that posted it by title and number, linked. The
  branch scope of the session limits them to the branches the reader may see.

Read-only: stock changes only through submitted documents (:mod:`.ledger`).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, or_, select

from kernel import FormSection, SectionContent
from kernel.i18n import N_, _
from kernel.labels import entity_title

from .models import LedgerEntry, Part, Reservation, ReservationStatus, Stock, Warehouse
from .reports import average

PARTS = "inventory_part"
WAREHOUSES = "inventory_warehouse"
#: the parts a warehouse's form lists at most (the stock list shows them all)
MAX_PARTS = 200
#: the ledger lines a part's form shows
LATEST = 10


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def _yuan(value: Decimal) -> str:
    return f"-¥{-value:,.2f}" if value < 0 else f"¥{value:,.2f}"


def _average(qty: int, value: Decimal) -> str:
    """The moving average cost of ``qty`` units worth ``value`` (empty for none)."""
    return _money(average(value, qty) if qty > 0 else None)


def warehouse_stock(ctx, warehouse: Warehouse) -> SectionContent:
    """The parts on hand or reserved in ``warehouse`` by part code, with the totals of
    all of them (window sums: one query however many parts it holds)."""
    rows = ctx.session.execute(
        select(Part.id, Part.code, Part.name, Part.unit, Stock.location, Stock.qty,
               Stock.reserved, Stock.value, func.count().over(), func.sum(Stock.qty).over(),
               func.sum(Stock.reserved).over(), func.sum(Stock.value).over())
        .join(Part, Part.id == Stock.part_id)
        .where(Stock.warehouse_id == warehouse.id, or_(Stock.qty != 0, Stock.reserved != 0))
        .order_by(Part.code).limit(MAX_PARTS)).all()
    columns = (_("Part"), _("Bin"), _("On hand"), _("Reserved"), _("Available"),
               _("Average cost"), _("Stock value"))
    if not rows:
        return SectionContent(columns=columns, empty=_("Nothing in stock here."))
    count, qty, reserved, value = rows[0][8:]
    shown = tuple(
        ((f"{code} {name}", f"/desk/{PARTS}/{part_id}"), location or "",
         f"{on_hand} {unit}", str(held), str(on_hand - held), _average(on_hand, worth),
         _money(worth))
        for part_id, code, name, unit, location, on_hand, held, worth, *_totals in rows)
    note = None
    if count > len(rows):
        note = _("The first {shown} of {count} parts by code; the stock list shows them "
                 "all.").format(shown=len(rows), count=count)
    return SectionContent(
        summary=((_("Parts in stock"), str(count)), (_("On hand"), str(qty)),
                 (_("Reserved"), str(reserved)), (_("Available"), str(qty - reserved)),
                 (_("Stock value"), _yuan(value))),
        columns=columns, rows=shown, note=note)


def part_stock(ctx, part: Part) -> SectionContent:
    """``part`` in each warehouse holding or reserving some, by warehouse code, with the
    totals, the units jobs wait for (reservations short) and whether what is available
    is at or below its reorder level."""
    rows = ctx.session.execute(
        select(Warehouse.id, Warehouse.code, Warehouse.name, Stock.location, Stock.qty,
               Stock.reserved, Stock.value)
        .join(Warehouse, Warehouse.id == Stock.warehouse_id)
        .where(Stock.part_id == part.id, or_(Stock.qty != 0, Stock.reserved != 0))
        .order_by(Warehouse.code)).all()
    qty = sum(r.qty for r in rows)
    reserved = sum(r.reserved for r in rows)
    value = sum((r.value for r in rows), Decimal("0"))
    short = ctx.session.scalar(select(func.sum(Reservation.short)).where(
        Reservation.part_id == part.id, Reservation.status == ReservationStatus.SHORT)) or 0
    notes = []
    if short:
        notes.append(_("Jobs wait for {short} {unit} of it.").format(short=short,
                                                                   unit=part.unit))
    if part.reorder_level and qty - reserved <= part.reorder_level:
        notes.append(_("Available {available} {unit}: at or below the reorder level "
                       "({level}).").format(available=qty - reserved, unit=part.unit,
                                            level=part.reorder_level))
    summary = ((_("On hand"), f"{qty} {part.unit}"), (_("Reserved"), str(reserved)),
               (_("Available"), str(qty - reserved)), (_("Stock value"), _yuan(value)))
    return SectionContent(
        summary=(*(summary if rows else ()), *(((_("Units short"), str(short)),)
                                               if short else ())),
        columns=(_("Warehouse"), _("Bin"), _("On hand"), _("Reserved"), _("Available"),
                 _("Average cost"), _("Stock value")),
        rows=tuple(((f"{r.code} {r.name}", f"/desk/{WAREHOUSES}/{r.id}"), r.location or "",
                    str(r.qty), str(r.reserved), str(r.qty - r.reserved),
                    _average(r.qty, r.value), _money(r.value)) for r in rows),
        note=" ".join(notes) or None, empty=_("None of this part in stock."))


def part_movements(ctx, part: Part) -> SectionContent:
    """The latest ledger lines of ``part`` (one query), newest first, each with the
    document that posted it (linked where the reader may open it)."""
    rows = ctx.session.execute(
        select(LedgerEntry.posted_at, LedgerEntry.kind, LedgerEntry.reversal,
               LedgerEntry.qty_change, LedgerEntry.unit_cost, LedgerEntry.voucher_entity,
               LedgerEntry.voucher_id, LedgerEntry.voucher_number, Warehouse.id,
               Warehouse.code, Warehouse.name)
        .join(Warehouse, Warehouse.id == LedgerEntry.warehouse_id)
        .where(LedgerEntry.part_id == part.id)
        .order_by(LedgerEntry.posted_at.desc(), LedgerEntry.id.desc()).limit(LATEST)).all()
    tz = ctx.settings.tz
    shown = []
    for (at, kind, reversal, change, cost, entity, voucher_id, number, house_id, code,
         house) in rows:
        movement = _(str(getattr(kind, "value", kind)))
        if reversal:
            movement = f"{movement} · {_('Reversal')}"
        document = f"{entity_title(ctx.app, entity)} {number or f'#{voucher_id}'}"
        info = ctx.app.exposed.get(entity)
        if info is not None and ctx.can(info.perm("read")):
            document = (document, f"/desk/{entity}/{voucher_id}")
        shown.append((at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), movement,
                      (f"{code} {house}", f"/desk/{WAREHOUSES}/{house_id}"),
                      f"+{change}" if change > 0 else str(change), _money(cost), document))
    return SectionContent(
        columns=(_("Posted at"), _("Movement"), _("Warehouse"), _("Quantity"),
                 _("Cost per unit"), _("Document")),
        rows=tuple(shown), empty=_("No movements yet."))


def ledger_document(ctx, entry: LedgerEntry) -> SectionContent:
    """The document that posted ``entry``: its title and number, linked where the reader
    may open it, and whether the entry reverses an earlier one."""
    number = entry.voucher_number or f"#{entry.voucher_id}"
    info = ctx.app.exposed.get(entry.voucher_entity)
    shown = (number, f"/desk/{entry.voucher_entity}/{entry.voucher_id}") \
        if info is not None and ctx.can(info.perm("read")) else number
    return SectionContent(
        columns=(_("Document type"), _("Document number")),
        rows=((entity_title(ctx.app, entry.voucher_entity), shown),),
        note=_("This entry reverses the document's earlier movement (the document was "
               "cancelled or a line was taken back).") if entry.reversal else None)


FORM_SECTIONS = [
    FormSection(WAREHOUSES, "inventory.warehouse_stock", N_("Stock in this warehouse"),
                build=warehouse_stock, order=10, permission="inventory_stock.read"),
    FormSection(PARTS, "inventory.part_stock", N_("Stock by warehouse"), build=part_stock,
                order=10, permission="inventory_stock.read"),
    FormSection(PARTS, "inventory.part_movements", N_("Latest movements"),
                build=part_movements, order=20, permission="inventory_ledger_entry.read"),
    FormSection("inventory_ledger_entry", "inventory.ledger_document", N_("Document"),
                build=ledger_document, order=10),
]

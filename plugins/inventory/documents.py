"""The inventory plugin's printed papers, registered through ``fixdesk_documents``.

Each paper is a :class:`kernel.Document`: a template in ``templates/inventory/`` (all but
the labels extend ``inventory/_paper.html``: the draft and cancelled marks, the date
line, the column styles) and a ``gather(ctx, record)`` function that reads what the
template prints in a few queries — the lines with their parts in one, the ledger's sums
per line in one grouped query — never one query per line.

* 领用单 ``inventory.requisition_slip`` (A5 landscape): requested, issued, returned;
* 采购订单 ``inventory.purchase_order`` (A4): prices, total in figures and capitals;
* 入库验收单 ``inventory.receipt_note`` (A4 landscape): accepted and rejected;
* 调拨单 ``inventory.transfer_note`` (A5 landscape): only for transfers (``available``);
* 盘点表 ``inventory.count_sheet`` (A4): blank counted column to fill in by hand;
* 配件标签 ``inventory.part_labels`` (60 × 40 mm, one label a page): Code 128 barcode.

Every paper prints for a draft (a 草稿 / DRAFT mark across the page) and a cancelled
document (已作废 / CANCELLED, with the reason).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from kernel.contributions import Document
from kernel.i18n import N_
from kernel.lifecycle import DocStatus, state_of
from kernel.linked import link_labels

from .models import (
    LedgerEntry,
    Movement,
    PurchaseOrderLine,
    PurchaseReceiptLine,
    RequisitionLine,
    RequisitionStatus,
    Stock,
    StockCountLine,
    StockEntryLine,
    Warehouse,
)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def _marks(record) -> dict:
    """Whether the document is a draft or cancelled, and why it was cancelled."""
    state = state_of(record)
    return {"draft": state is DocStatus.DRAFT, "cancelled": state is DocStatus.CANCELLED,
            "cancelled_at": record.cancelled_at, "cancel_reason": record.cancel_reason}


def _lines(ctx, line_cls, parent_column: str, parent_id: int, *also) -> list:
    """The lines of a document with their parts (and ``also`` relationships), in one
    query, in the order they were entered."""
    options = [joinedload(line_cls.part), *(joinedload(rel) for rel in also)]
    return list(ctx.session.scalars(
        select(line_cls).options(*options)
        .where(getattr(line_cls, parent_column) == parent_id).order_by(line_cls.id)).unique())


def _ledger_by_line(ctx, record, *conditions) -> dict:
    """What the ledger holds of ``record``'s postings, summed per line and movement kind
    in one grouped query: ``{(line_id, kind): (qty, value)}``."""
    rows = ctx.session.execute(
        select(LedgerEntry.voucher_line_id, LedgerEntry.kind,
               func.sum(LedgerEntry.qty_change), func.sum(LedgerEntry.value_change))
        .where(LedgerEntry.voucher_entity == type(record).__tablename__,
               LedgerEntry.voucher_id == record.id, *conditions)
        .group_by(LedgerEntry.voucher_line_id, LedgerEntry.kind))
    return {(line_id, Movement(kind)): (int(qty or 0), Decimal(value or 0))
            for line_id, kind, qty, value in rows}


def _user_name(ctx, user_id: int | None) -> str | None:
    from kernel.auth import User

    user = ctx.session.get(User, user_id) if user_id else None
    return user.full_name if user else None


def _total(amounts) -> Decimal:
    return sum(amounts, ZERO).quantize(CENT)


# ---------------------------------------------------------------------------
# 领用单
# ---------------------------------------------------------------------------


def gather_requisition(ctx, slip) -> dict:
    """The slip's engineer, job (the linked record's label), warehouse, and per line what
    was requested, issued and returned: issued and returned are the ledger's ``issue`` and
    ``return`` entries of the line, net of their reversals (as
    :func:`plugins.inventory.requisitions.quantities` counts them)."""
    moved = _ledger_by_line(ctx, slip, LedgerEntry.kind.in_((Movement.ISSUE,
                                                             Movement.RETURN)))
    rows = [{"line": line, "part": line.part, "requested": line.qty,
             "issued": -moved.get((line.id, Movement.ISSUE), (0, ZERO))[0],
             "returned": moved.get((line.id, Movement.RETURN), (0, ZERO))[0]}
            for line in _lines(ctx, RequisitionLine, "requisition_id", slip.id)]
    job = link_labels(ctx, [slip.job]).get(slip.job) if slip.job is not None else None
    return {
        **_marks(slip), "slip": slip, "engineer": slip.engineer, "warehouse": slip.warehouse,
        "job_label": job, "rows": rows,
        "approver": None if slip.status == RequisitionStatus.REJECTED
        else _user_name(ctx, slip.decided_by_id),
        "doc_date": slip.submitted_at or slip.created_at,
        "totals": {key: sum(row[key] for row in rows)
                   for key in ("requested", "issued", "returned")},
    }


# ---------------------------------------------------------------------------
# 采购订单
# ---------------------------------------------------------------------------


def gather_purchase_order(ctx, order) -> dict:
    """The supplier (contact, phone, address), where to deliver, the lines priced, and the
    total (printed in figures and in Chinese capitals)."""
    rows = [{"line": line, "part": line.part, "qty": line.qty, "unit_price": line.unit_price,
             "amount": (line.unit_price * line.qty).quantize(CENT)}
            for line in _lines(ctx, PurchaseOrderLine, "order_id", order.id)]
    return {
        **_marks(order), "order": order, "supplier": order.supplier,
        "warehouse": order.warehouse, "rows": rows,
        "doc_date": order.submitted_at or order.created_at,
        "total": _total(row["amount"] for row in rows),
        "total_qty": sum(row["qty"] for row in rows),
    }


# ---------------------------------------------------------------------------
# 入库验收单
# ---------------------------------------------------------------------------


def gather_receipt(ctx, receipt) -> dict:
    """The order, supplier and delivery note, and per line what was ordered, received,
    accepted and rejected (with the reason), and the accepted amount at the order's price."""
    from kernel.models import Employee

    rows = []
    for line in _lines(ctx, PurchaseReceiptLine, "receipt_id", receipt.id,
                       PurchaseReceiptLine.order_line):
        rows.append({"line": line, "part": line.part, "ordered": line.order_line.qty,
                     "received": line.accepted_qty + line.rejected_qty,
                     "accepted": line.accepted_qty, "rejected": line.rejected_qty,
                     "unit_price": line.unit_price,
                     "amount": (line.unit_price * line.accepted_qty).quantize(CENT)})
    inspector = ctx.session.get(Employee, receipt.inspector_id) if receipt.inspector_id \
        else None
    return {
        **_marks(receipt), "receipt": receipt, "order": receipt.order,
        "supplier": receipt.supplier, "warehouse": receipt.warehouse, "inspector": inspector,
        "rows": rows, "doc_date": receipt.received_at or receipt.submitted_at
        or receipt.created_at,
        "total": _total(row["amount"] for row in rows),
        "totals": {key: sum(row[key] for row in rows)
                   for key in ("ordered", "received", "accepted", "rejected")},
    }


# ---------------------------------------------------------------------------
# 调拨单
# ---------------------------------------------------------------------------


def is_transfer(entry) -> bool:
    """Whether a stock entry moves stock between two warehouses (a transfer note's)."""
    return entry.purpose == Movement.TRANSFER


def gather_transfer(ctx, entry) -> dict:
    """The two warehouses and the lines with their cost: what the ledger took out of the
    sending warehouse once submitted, for a draft the sending stock's current average
    cost (``estimated``)."""
    lines = _lines(ctx, StockEntryLine, "entry_id", entry.id)
    estimated = state_of(entry) is DocStatus.DRAFT
    costs: dict[int, Decimal | None] = {}
    if estimated:
        stocks = {s.part_id: s for s in ctx.session.scalars(select(Stock).where(
            Stock.warehouse_id == entry.from_warehouse_id,
            Stock.part_id.in_({line.part_id for line in lines})))} if lines else {}
        for line in lines:
            stock = stocks.get(line.part_id)
            if stock is not None and stock.qty > 0:
                cost = (stock.value / stock.qty).quantize(CENT, ROUND_HALF_UP)
            else:
                cost = line.part.standard_cost
            costs[line.id] = (cost * line.qty).quantize(CENT)
    else:
        moved = _ledger_by_line(ctx, entry, LedgerEntry.qty_change < 0,
                                LedgerEntry.reversal.is_(False))
        for (line_id, _kind), (_qty, value) in moved.items():
            costs[line_id] = costs.get(line_id, ZERO) - value
    rows = [{"line": line, "part": line.part, "qty": line.qty,
             "amount": costs.get(line.id),
             "unit_cost": (costs[line.id] / line.qty).quantize(CENT, ROUND_HALF_UP)
             if costs.get(line.id) is not None and line.qty else None}
            for line in lines]
    return {
        **_marks(entry), "entry": entry, "from_warehouse": entry.from_warehouse,
        "to_warehouse": entry.to_warehouse, "rows": rows, "estimated": estimated,
        "doc_date": entry.posted_at or entry.submitted_at or entry.created_at,
        "total": _total(row["amount"] for row in rows if row["amount"] is not None),
        "total_qty": sum(row["qty"] for row in rows),
    }


# ---------------------------------------------------------------------------
# 盘点表
# ---------------------------------------------------------------------------


def gather_count(ctx, count) -> dict:
    """The warehouse and its frozen book quantities, bin by bin, with what was counted and
    the difference in units and in value: the ledger's adjustment once submitted, else
    the difference at the book's average cost (the part's purchase price where the book
    held none). Lines not counted yet print blank, to be filled in by hand."""
    posted = _ledger_by_line(ctx, count, LedgerEntry.reversal.is_(False)) \
        if state_of(count) is not DocStatus.DRAFT else {}
    posted_value: dict[int, Decimal] = {}
    for (line_id, _kind), (_qty, value) in posted.items():
        posted_value[line_id] = posted_value.get(line_id, ZERO) + value
    rows = []
    for line in _lines(ctx, StockCountLine, "count_id", count.id):
        difference = value = None
        if line.counted_qty is not None:
            difference = line.counted_qty - line.book_qty
            cost = (line.book_value / line.book_qty) if line.book_qty > 0 \
                else line.part.standard_cost
            value = posted_value.get(line.id,
                                     (cost * difference).quantize(CENT, ROUND_HALF_UP))
        rows.append({"line": line, "part": line.part, "bin": line.location,
                     "book": line.book_qty, "book_value": line.book_value,
                     "counted": line.counted_qty, "difference": difference, "value": value})
    rows.sort(key=lambda row: (row["bin"] or "\uffff", row["part"].code))
    counted = [row for row in rows if row["counted"] is not None]
    return {
        **_marks(count), "count": count, "warehouse": count.warehouse, "rows": rows,
        "doc_date": count.frozen_at,
        "book_total": _total(row["book_value"] for row in rows),
        "difference_total": _total(row["value"] for row in counted),
        "uncounted": len(rows) - len(counted),
        "totals": {"book": sum(row["book"] for row in rows),
                   "counted": sum(row["counted"] for row in counted),
                   "difference": sum(row["difference"] for row in counted)},
    }


# ---------------------------------------------------------------------------
# 配件标签
# ---------------------------------------------------------------------------


def gather_part_label(ctx, part) -> dict:
    """The part's code, name, model and unit, what its barcode encodes (its own barcode,
    else its code), and the bins it is kept in (those of the user's branch first)."""
    places = ctx.session.execute(
        select(Warehouse.code, Warehouse.branch_id, Stock.location)
        .join(Warehouse, Warehouse.id == Stock.warehouse_id)
        .where(Stock.part_id == part.id, Stock.location.is_not(None), Stock.location != "")
        .order_by(Warehouse.code)).all()
    home = getattr(ctx.branch, "id", None)
    places.sort(key=lambda row: row.branch_id != home)
    return {"part": part, "code_data": part.barcode or part.code,
            "bins": [f"{row.code} {row.location}" for row in places[:2]]}


REQUISITION_SLIP = Document(
    name="inventory.requisition_slip", title=N_("Requisition slip"),
    entity="inventory_requisition", template="inventory/requisition_slip.html",
    gather=gather_requisition, paper="A5", orientation="landscape")
PURCHASE_ORDER = Document(
    name="inventory.purchase_order", title=N_("Purchase order"),
    entity="inventory_purchase_order", template="inventory/purchase_order.html",
    gather=gather_purchase_order, paper="A4")
RECEIPT_NOTE = Document(
    name="inventory.receipt_note", title=N_("Receipt and inspection note"),
    entity="inventory_purchase_receipt", template="inventory/receipt_note.html",
    gather=gather_receipt, paper="A4", orientation="landscape")
TRANSFER_NOTE = Document(
    name="inventory.transfer_note", title=N_("Transfer note"),
    entity="inventory_stock_entry", template="inventory/transfer_note.html",
    gather=gather_transfer, paper="A5", orientation="landscape",
    available=is_transfer,
    unavailable=N_("a transfer note is only for stock entries that transfer stock"))
COUNT_SHEET = Document(
    name="inventory.count_sheet", title=N_("Count sheet"), entity="inventory_stock_count",
    template="inventory/count_sheet.html", gather=gather_count, paper="A4")
PART_LABELS = Document(
    name="inventory.part_labels", title=N_("Part label"), entity="inventory_part",
    template="inventory/part_label.html", gather=gather_part_label, paper="label60x40")

DOCUMENTS = [REQUISITION_SLIP, PURCHASE_ORDER, RECEIPT_NOTE, TRANSFER_NOTE, COUNT_SHEET,
             PART_LABELS]

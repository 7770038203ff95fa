"""Purchasing with inspection (R21): suppliers, purchase requests, orders, receipts.

- **Suppliers** are made pending (generic create); a branch manager approves or suspends
  them. Only approved suppliers get purchase orders.
- **Purchase requests** (请购单) are written by hand or made from the reorder suggestions
  (:func:`reorder_suggestions`, the action ``request_reorder`` on a parts warehouse);
  submitted they wait for a manager's approval; an approved request is turned into one
  draft purchase order per supplier (``make_orders``).
- **Purchase orders** (采购订单) go to approved suppliers only; submitted they wait for
  the goods. ``receive`` makes a draft receipt of what is still to come; ``close`` says
  the rest will not come.
- **Receipts** (入库验收单): the keeper enters per line the accepted and rejected units
  (with the reason) and submits; accepted units enter the order's warehouse at the
  order's price, rejected ones go back on a supplier return note (退货单) made submitted
  with it. Cancelling the receipt reverses both.

What is still to come of each order line is the ordered quantity less what submitted
receipts accepted or rejected: :func:`received_by_line`, one query for many orders.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select

from kernel import (
    Action,
    Conflict,
    DocStatus,
    FormSection,
    Param,
    SectionContent,
    ValidationError,
)
from kernel.i18n import N_, _
from kernel.lifecycle import _sanctioned, document_name, number_new_draft

from . import ledger
from .ledger import Move, Voucher
from .models import (
    Movement,
    OrderStatus,
    Part,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseReceipt,
    PurchaseReceiptLine,
    PurchaseRequest,
    PurchaseRequestLine,
    RequestStatus,
    Stock,
    Supplier,
    SupplierReturn,
    SupplierReturnLine,
    SupplierStatus,
    Warehouse,
    WarehouseKind,
)
from .stock_entries import announce_arrivals, expiry, posting_time

SUPPLIER = "inventory_supplier"
REQUEST = "inventory_purchase_request"
ORDER = "inventory_purchase_order"
RECEIPT = "inventory_purchase_receipt"
RETURN = "inventory_supplier_return"
WAREHOUSE = "inventory_warehouse"

#: orders whose goods may still come
OPEN = (OrderStatus.TO_RECEIVE, OrderStatus.PARTLY_RECEIVED)


def _submitted(record) -> bool:
    return record.docstatus == DocStatus.SUBMITTED


# ---------------------------------------------------------------------------
# suppliers
# ---------------------------------------------------------------------------


def approve_supplier(ctx, supplier: Supplier) -> Supplier:
    """Approve a supplier: purchase orders may go to it from now on."""
    if supplier.status == SupplierStatus.APPROVED:
        raise Conflict(_("{supplier} is approved already").format(supplier=supplier.name))
    supplier.status = SupplierStatus.APPROVED
    supplier.approved_at = ctx.now()
    return supplier


def suspend_supplier(ctx, supplier: Supplier) -> Supplier:
    """Suspend a supplier: no purchase order can be submitted to it any more (orders
    already out still receive their goods)."""
    if supplier.status == SupplierStatus.SUSPENDED:
        raise Conflict(_("{supplier} is suspended already").format(supplier=supplier.name))
    supplier.status = SupplierStatus.SUSPENDED
    return supplier


def _approved(supplier: Supplier | None) -> bool:
    return supplier is not None and supplier.status == SupplierStatus.APPROVED


# ---------------------------------------------------------------------------
# purchase requests
# ---------------------------------------------------------------------------


def _check_quantities(lines, what: str = "lines") -> None:
    if not lines:
        raise ValidationError(_("add at least one line"), field=what)
    for line in lines:
        if line.qty is None or line.qty <= 0:
            raise ValidationError(_("{part}: the quantity must be more than 0").format(
                part=line.part.label), field=what)


def submit_request(ctx, request: PurchaseRequest) -> None:
    """A submitted purchase request waits for approval (an amended one starts afresh).

    :raise ValidationError: no lines, or a quantity that is not positive.
    """
    _check_quantities(request.lines)
    request.status = RequestStatus.PENDING
    request.decided_at = request.decided_by_id = request.decision_note = None


def _decide(ctx, request: PurchaseRequest, status: RequestStatus, note: str | None) -> None:
    if not _submitted(request) or request.status != RequestStatus.PENDING:
        raise Conflict(_("{document} is not waiting for approval").format(
            document=document_name(request)))
    request.status = status
    request.decided_at = ctx.now()
    request.decided_by_id = ctx.user.id if ctx.user is not None else None
    request.decision_note = (note or "").strip() or None


def approve_request(ctx, request: PurchaseRequest, note: str | None = None) -> PurchaseRequest:
    """Approve a submitted purchase request: it can be ordered."""
    _decide(ctx, request, RequestStatus.APPROVED, note)
    return request


def reject_request(ctx, request: PurchaseRequest, note: str | None = None) -> PurchaseRequest:
    """Refuse a submitted purchase request, saying why."""
    if not (note or "").strip():
        raise ValidationError(_("say why the request is rejected"), field="note")
    _decide(ctx, request, RequestStatus.REJECTED, note)
    return request


def cancel_request(ctx, request: PurchaseRequest) -> None:
    """A purchase request is cancelled only when no order made of it is still standing.

    :raise Conflict: naming the orders to cancel first.
    """
    standing = list(ctx.session.scalars(select(PurchaseOrder.number).where(
        PurchaseOrder.request_id == request.id,
        PurchaseOrder.docstatus != DocStatus.CANCELLED).order_by(PurchaseOrder.id)))
    if standing:
        raise Conflict(_("cancel or delete its purchase orders first: {orders}").format(
            orders=", ".join(n or "?" for n in standing)))


def first_parts_warehouse(ctx, branch_id: int) -> Warehouse | None:
    """The branch's first active parts warehouse (by code): where purchases arrive."""
    return ctx.session.scalars(select(Warehouse).where(
        Warehouse.branch_id == branch_id, Warehouse.kind == WarehouseKind.PARTS,
        Warehouse.active.is_(True)).order_by(Warehouse.code, Warehouse.id).limit(1)).first()


def _receiving_warehouse(ctx, branch_id: int, warehouse: Warehouse | None,
                         field: str = "warehouse") -> Warehouse:
    if warehouse is None:
        warehouse = first_parts_warehouse(ctx, branch_id)
        if warehouse is None:
            raise ValidationError(_("the branch has no parts warehouse in use: name the "
                                    "warehouse to receive into"), field=field)
    _check_receiving(warehouse, branch_id, field)
    return warehouse


def _check_receiving(warehouse: Warehouse, branch_id: int, field: str) -> None:
    if not warehouse.active:
        raise ValidationError(_("{warehouse} is not in use").format(warehouse=warehouse.name),
                              field=field)
    if warehouse.branch_id != branch_id:
        raise ValidationError(_("{warehouse} is another branch's warehouse").format(
            warehouse=warehouse.name), field=field)


def make_orders(ctx, request: PurchaseRequest,
                warehouse: Warehouse | None = None) -> list[PurchaseOrder]:
    """Turn an approved request into draft purchase orders, one per supplier (the line's
    supplier, else the part's default one), priced at the parts' purchase prices and
    received into ``warehouse`` (default: the branch's first parts warehouse); the request
    is then ordered.

    :raise Conflict: the request is not approved.
    :raise ValidationError: a part without an approved supplier (``supplier_id``), no
        warehouse to receive into (``warehouse``).
    """
    if not _submitted(request) or request.status != RequestStatus.APPROVED:
        raise Conflict(_("{document} is not approved").format(document=document_name(request)))
    house = _receiving_warehouse(ctx, request.branch_id, warehouse)
    by_supplier: dict[int, list[PurchaseRequestLine]] = {}
    for line in request.lines:
        supplier = line.supplier or line.part.default_supplier
        if supplier is None:
            raise ValidationError(_("{part} has no supplier: name one on the line or give "
                                    "the part a default supplier").format(
                                        part=line.part.label), field="supplier_id")
        if not _approved(supplier):
            raise ValidationError(_("{part}: supplier {supplier} is not approved").format(
                part=line.part.label, supplier=supplier.name), field="supplier_id")
        by_supplier.setdefault(supplier.id, []).append(line)
    orders = []
    for supplier_id, lines in by_supplier.items():
        order = PurchaseOrder(
            branch_id=request.branch_id, supplier_id=supplier_id, warehouse_id=house.id,
            expected_on=request.needed_by, request_id=request.id,
            lines=[PurchaseOrderLine(part_id=line.part_id, qty=line.qty,
                                     unit_price=line.part.standard_cost,
                                     request_line_id=line.id) for line in lines])
        number_new_draft(ctx, order)
        ctx.session.add(order)
        orders.append(order)
    request.status = RequestStatus.ORDERED
    ctx.session.flush()
    return orders


# ---------------------------------------------------------------------------
# reorder suggestions
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    """A part to buy for a branch: what its parts warehouses hold, what is reserved of it,
    what is still to come on open orders, and the quantity to buy (``qty``)."""

    part_id: int
    code: str
    name: str
    supplier_id: int | None
    on_hand: int
    reserved: int
    on_order: int
    reorder_level: int
    reorder_qty: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def projected(self) -> int:
        """Available now plus still to come."""
        return self.available + self.on_order

    @property
    def qty(self) -> int:
        """The reorder quantity, or more when that would not reach the level again."""
        return max(self.reorder_qty, self.reorder_level - self.projected)


def _done_by_line():
    """Units accepted or rejected per order line by submitted receipts (a subquery)."""
    return (select(PurchaseReceiptLine.order_line_id.label("line_id"),
                   func.sum(PurchaseReceiptLine.accepted_qty
                            + PurchaseReceiptLine.rejected_qty).label("done"))
            .join(PurchaseReceipt, PurchaseReceipt.id == PurchaseReceiptLine.receipt_id)
            .where(PurchaseReceipt.docstatus == DocStatus.SUBMITTED)
            .group_by(PurchaseReceiptLine.order_line_id).subquery())


def reorder_suggestions(ctx, branch_id: int) -> list[Suggestion]:
    """The active parts whose units in the branch's parts warehouses (on hand less
    reserved, plus what is still to come on its submitted open purchase orders into
    them) are below their reorder level, by part code. One query, however many parts."""
    rows = ctx.session.execute(_below_reorder_level(branch_id).order_by(Part.code))
    return [Suggestion(*(int(v) if i >= 4 else v for i, v in enumerate(row))) for row in rows]


def count_below_reorder_level(ctx, branch_id: int) -> int:
    """How many parts :func:`reorder_suggestions` lists for the branch (one COUNT)."""
    query = _below_reorder_level(branch_id).subquery()
    return ctx.session.scalar(select(func.count()).select_from(query)) or 0


def _below_reorder_level(branch_id: int):
    """The SELECT of :func:`reorder_suggestions` (unordered)."""
    houses = select(Warehouse.id).where(Warehouse.branch_id == branch_id,
                                        Warehouse.kind == WarehouseKind.PARTS,
                                        Warehouse.active.is_(True))
    stock = (select(Stock.part_id, func.sum(Stock.qty).label("on_hand"),
                    func.sum(Stock.reserved).label("reserved"))
             .where(Stock.warehouse_id.in_(houses)).group_by(Stock.part_id).subquery())
    done = _done_by_line()
    left = PurchaseOrderLine.qty - func.coalesce(done.c.done, 0)
    coming = (select(PurchaseOrderLine.part_id,
                     func.sum(case((left > 0, left), else_=0)).label("on_order"))
              .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
              .outerjoin(done, done.c.line_id == PurchaseOrderLine.id)
              .where(PurchaseOrder.docstatus == DocStatus.SUBMITTED,
                     PurchaseOrder.status.in_(OPEN), PurchaseOrder.warehouse_id.in_(houses))
              .group_by(PurchaseOrderLine.part_id).subquery())
    on_hand = func.coalesce(stock.c.on_hand, 0)
    reserved = func.coalesce(stock.c.reserved, 0)
    on_order = func.coalesce(coming.c.on_order, 0)
    return (select(Part.id, Part.code, Part.name, Part.default_supplier_id, on_hand, reserved,
                   on_order, Part.reorder_level, Part.reorder_qty)
            .outerjoin(stock, stock.c.part_id == Part.id)
            .outerjoin(coming, coming.c.part_id == Part.id)
            .where(Part.active.is_(True), Part.reorder_level > 0,
                   on_hand - reserved + on_order < Part.reorder_level))


def request_reorder(ctx, warehouse: Warehouse, needed_by: dt.date | None = None
                    ) -> PurchaseRequest:
    """A draft purchase request of the reorder suggestions of the warehouse's branch.

    :raise Conflict: nothing is below its reorder level.
    """
    found = reorder_suggestions(ctx, warehouse.branch_id)
    if not found:
        raise Conflict(_("no part is below its reorder level in this branch"))
    request = PurchaseRequest(
        branch_id=warehouse.branch_id, needed_by=needed_by,
        reason=_("Below the reorder level"),
        lines=[PurchaseRequestLine(part_id=s.part_id, qty=s.qty) for s in found])
    number_new_draft(ctx, request)
    ctx.session.add(request)
    ctx.session.flush()
    return request


# ---------------------------------------------------------------------------
# purchase orders
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """What submitted receipts took of one order line."""

    ordered: int
    accepted: int
    rejected: int

    @property
    def total(self) -> int:
        return self.accepted + self.rejected

    @property
    def still_to_come(self) -> int:
        return max(0, self.ordered - self.total)


def received_by_line(ctx, order_ids) -> dict[int, Received]:
    """Every line of the orders ``order_ids`` → what submitted receipts accepted and
    rejected of it (and so what is still to come). One query."""
    ids = list(order_ids)
    if not ids:
        return {}
    submitted = PurchaseReceipt.docstatus == DocStatus.SUBMITTED

    def summed(column):
        return func.coalesce(func.sum(case((submitted, column), else_=0)), 0)

    rows = ctx.session.execute(
        select(PurchaseOrderLine.id, PurchaseOrderLine.qty,
               summed(PurchaseReceiptLine.accepted_qty), summed(PurchaseReceiptLine.rejected_qty))
        .outerjoin(PurchaseReceiptLine, PurchaseReceiptLine.order_line_id == PurchaseOrderLine.id)
        .outerjoin(PurchaseReceipt, PurchaseReceipt.id == PurchaseReceiptLine.receipt_id)
        .where(PurchaseOrderLine.order_id.in_(ids))
        .group_by(PurchaseOrderLine.id, PurchaseOrderLine.qty))
    return {line_id: Received(int(qty), int(accepted), int(rejected))
            for line_id, qty, accepted, rejected in rows}


def submit_order(ctx, order: PurchaseOrder) -> None:
    """A submitted purchase order waits for its goods.

    :raise ValidationError: the supplier is not approved (``supplier_id``), the warehouse is
        not in use or another branch's (``warehouse_id``), no lines or a quantity or price
        that is wrong (``lines``).
    """
    if not _approved(order.supplier):
        raise ValidationError(_("{supplier} is not an approved supplier").format(
            supplier=order.supplier.name), field="supplier_id")
    _check_receiving(order.warehouse, order.branch_id, "warehouse_id")
    _check_quantities(order.lines)
    for line in order.lines:
        if line.unit_price is None or line.unit_price < 0:
            raise ValidationError(_("{part}: give the unit price").format(
                part=line.part.label), field="lines")
    order.status = OrderStatus.TO_RECEIVE


def cancel_order(ctx, order: PurchaseOrder) -> None:
    """A purchase order is cancelled only while no submitted receipt is against it.

    :raise Conflict: naming the receipts to cancel first.
    """
    receipts = list(ctx.session.scalars(select(PurchaseReceipt.number).where(
        PurchaseReceipt.order_id == order.id,
        PurchaseReceipt.docstatus == DocStatus.SUBMITTED).order_by(PurchaseReceipt.id)))
    if receipts:
        raise Conflict(_("cancel its receipts first: {receipts}").format(
            receipts=", ".join(receipts)))


def _open(order: PurchaseOrder) -> bool:
    return _submitted(order) and order.status in OPEN


def close_order(ctx, order: PurchaseOrder) -> PurchaseOrder:
    """Close an order: what is still to come will not come."""
    if not _open(order):
        raise Conflict(_("{document} is not waiting for goods").format(
            document=document_name(order)))
    order.status = OrderStatus.CLOSED
    return order


def refresh_order_status(ctx, order: PurchaseOrder) -> None:
    """Set an order's status from its receipts: to receive, partly received, received
    (a closed order stays closed)."""
    if order.status == OrderStatus.CLOSED:
        return
    got = received_by_line(ctx, [order.id])
    if all(got[line.id].still_to_come == 0 for line in order.lines):
        order.status = OrderStatus.RECEIVED
    elif any(got[line.id].total for line in order.lines):
        order.status = OrderStatus.PARTLY_RECEIVED
    else:
        order.status = OrderStatus.TO_RECEIVE


def receive(ctx, order: PurchaseOrder) -> PurchaseReceipt:
    """A draft receipt of what is still to come on the order: all of it accepted, at the
    order's prices. The keeper enters what was accepted and rejected, then submits it.

    A draft receipt of the order that is still waiting is returned instead of a second
    one (pressing the button twice makes one receipt).

    :raise Conflict: the order is not waiting for goods, or nothing is still to come.
    """
    if not _open(order):
        raise Conflict(_("{document} is not waiting for goods").format(
            document=document_name(order)))
    waiting = ctx.session.scalar(select(PurchaseReceipt).where(
        PurchaseReceipt.order_id == order.id, PurchaseReceipt.docstatus == DocStatus.DRAFT)
        .order_by(PurchaseReceipt.id).limit(1))
    if waiting is not None:
        return waiting
    got = received_by_line(ctx, [order.id])
    lines = [PurchaseReceiptLine(order_line_id=line.id, part_id=line.part_id,
                                 accepted_qty=got[line.id].still_to_come, rejected_qty=0,
                                 unit_price=line.unit_price)
             for line in order.lines if got[line.id].still_to_come > 0]
    if not lines:
        raise Conflict(_("nothing is still to come on {document}").format(
            document=document_name(order)))
    receipt = PurchaseReceipt(
        branch_id=order.branch_id, order_id=order.id, supplier_id=order.supplier_id,
        warehouse_id=order.warehouse_id, received_at=ctx.now(),
        inspector_id=getattr(ctx.user, "employee_id", None), lines=lines)
    number_new_draft(ctx, receipt)
    ctx.session.add(receipt)
    ctx.session.flush()
    return receipt


# ---------------------------------------------------------------------------
# receipts
# ---------------------------------------------------------------------------


def _locked_order(ctx, order_id: int) -> PurchaseOrder:
    """The order, its row locked: receipts against one order are checked one at a time."""
    return ctx.session.scalars(select(PurchaseOrder).where(PurchaseOrder.id == order_id)
                               .with_for_update()
                               .execution_options(populate_existing=True)).one()


def _returns_of(ctx, receipt: PurchaseReceipt) -> list[SupplierReturn]:
    return list(ctx.session.scalars(select(SupplierReturn).where(
        SupplierReturn.receipt_id == receipt.id).order_by(SupplierReturn.id)))


def submit_receipt(ctx, receipt: PurchaseReceipt) -> None:
    """Post a submitted receipt: accepted units into the order's warehouse at the order's
    price, rejected units on a submitted supplier return note; the order's status follows.

    :raise ValidationError: no units, a line not of the order (``lines``), rejected units
        without a reason (``reject_reason``), a receipt time in the future
        (``received_at``).
    :raise Conflict: the order is not open, or more arrived than is still to come (each
        part named with what remains).
    """
    if ledger.entries_of(ctx, RECEIPT, receipt.id) or _returns_of(ctx, receipt):
        return  # posted already: the event may come twice
    order = _locked_order(ctx, receipt.order_id)
    if not _open(order):
        raise Conflict(_("{document} is not waiting for goods").format(
            document=document_name(order)))
    posted_at = posting_time(ctx, receipt.received_at, "received_at")
    _check_receipt_lines(receipt, order)
    _check_still_to_come(ctx, receipt, order)
    accepted = [line for line in receipt.lines if line.accepted_qty > 0]
    if accepted:
        ledger.post(ctx, Voucher.of(receipt), [
            Move(line.part_id, order.warehouse_id, line.accepted_qty, Movement.RECEIPT,
                 unit_cost=line.unit_price, line_id=line.id,
                 expires_on=expiry(ctx, line.part, posted_at, line.expires_on))
            for line in accepted], posted_at=posted_at)
    rejected = [line for line in receipt.lines if line.rejected_qty > 0]
    if rejected:
        _return_note(ctx, receipt, rejected)
    refresh_order_status(ctx, order)
    announce_arrivals(ctx, [(line.part_id, order.warehouse_id) for line in accepted])


def _check_receipt_lines(receipt: PurchaseReceipt, order: PurchaseOrder) -> None:
    if not receipt.lines:
        raise ValidationError(_("add at least one line"), field="lines")
    for line in receipt.lines:
        if line.order_line is None or line.order_line.order_id != order.id \
                or line.order_line.part_id != line.part_id:
            raise ValidationError(_("{part} is not on {document}").format(
                part=line.part.label, document=document_name(order)), field="lines")
        if line.rejected_qty > 0 and not (line.reject_reason or "").strip():
            raise ValidationError(_("{part}: say why {qty} were rejected").format(
                part=line.part.label, qty=line.rejected_qty), field="reject_reason")
    if not sum(line.accepted_qty + line.rejected_qty for line in receipt.lines):
        raise ValidationError(_("nothing was accepted or rejected"), field="lines")


def _check_still_to_come(ctx, receipt: PurchaseReceipt, order: PurchaseOrder) -> None:
    """Refuse units beyond what is still to come (the receipt counts already: it is
    submitted)."""
    got = received_by_line(ctx, [order.id])
    here: dict[int, int] = {}
    for line in receipt.lines:
        here[line.order_line_id] = here.get(line.order_line_id, 0) \
            + line.accepted_qty + line.rejected_qty
    too_many = []
    for line in order.lines:
        if line.id in here and got[line.id].total > line.qty:
            remaining = max(0, line.qty - (got[line.id].total - here[line.id]))
            too_many.append(_("{part}: {qty} received, only {remaining} still to come").format(
                part=line.part.label, qty=here[line.id], remaining=remaining))
    if too_many:
        raise Conflict(_("more than ordered: {lines}").format(lines="; ".join(too_many)),
                       field="lines")


def _return_note(ctx, receipt: PurchaseReceipt, rejected) -> SupplierReturn:
    """The supplier return note of a receipt's rejected units, made submitted."""
    note = SupplierReturn(
        branch_id=receipt.branch_id, supplier_id=receipt.supplier_id, receipt_id=receipt.id,
        docstatus=DocStatus.SUBMITTED, submitted_at=ctx.now(),
        lines=[SupplierReturnLine(part_id=line.part_id, qty=line.rejected_qty,
                                  reason=line.reject_reason.strip()) for line in rejected])
    number_new_draft(ctx, note)
    ctx.session.add(note)
    ctx.session.flush()
    ctx.hook.fixdesk_document_submitted(ctx=ctx, entity=RETURN, record=note)
    return note


def cancel_receipt(ctx, receipt: PurchaseReceipt) -> None:
    """Take a cancelled receipt's accepted units out again, cancel its return note and
    put the order's status back.

    :raise Shortage: received units were used already (the shortfall named).
    """
    ledger.reverse(ctx, Voucher.of(receipt))
    for note in _returns_of(ctx, receipt):
        if note.docstatus != DocStatus.SUBMITTED:
            continue
        with _sanctioned(ctx.session, note):
            note.docstatus = DocStatus.CANCELLED
            note.cancelled_at = ctx.now()
            note.cancel_reason = receipt.cancel_reason
        ctx.hook.fixdesk_document_cancelled(ctx=ctx, entity=RETURN, record=note)
    refresh_order_status(ctx, _locked_order(ctx, receipt.order_id))


# ---------------------------------------------------------------------------
# the order's form: what is still to come
# ---------------------------------------------------------------------------


def _order_lines_section(ctx, order: PurchaseOrder) -> SectionContent | None:
    """Per order line: part, ordered, accepted, rejected, still to come (nothing on a
    draft: its lines table says what is ordered)."""
    if order.docstatus == DocStatus.DRAFT:
        return None
    got = received_by_line(ctx, [order.id])
    rows = tuple((line.part.label, str(r.ordered), str(r.accepted), str(r.rejected),
                  str(r.still_to_come))
                 for line in order.lines if (r := got.get(line.id)) is not None)
    left = sum(got[line.id].still_to_come for line in order.lines if line.id in got)
    closed = order.status == OrderStatus.CLOSED
    return SectionContent(
        summary=((_("Still to come"), str(0 if closed else left)),),
        columns=(_("Part"), _("Ordered"), _("Accepted"), _("Rejected"), _("Still to come")),
        rows=rows,
        note=_("The order is closed: what was not received will not come.") if closed
        else None,
        empty=_("No lines yet."))


def _order_receipts_section(ctx, order: PurchaseOrder) -> SectionContent | None:
    """The order's receipts (drafts too) and their return notes, linked (nothing on a
    draft order: none can be received yet)."""
    if order.docstatus == DocStatus.DRAFT:
        return None
    receipts = list(ctx.session.scalars(select(PurchaseReceipt).where(
        PurchaseReceipt.order_id == order.id).order_by(PurchaseReceipt.id)))
    notes = {}
    if receipts:
        for note in ctx.session.scalars(select(SupplierReturn).where(
                SupplierReturn.receipt_id.in_([r.id for r in receipts]))
                .order_by(SupplierReturn.id)):
            notes.setdefault(note.receipt_id, note)
    rows = []
    for receipt in receipts:
        note = notes.get(receipt.id)
        rows.append(((receipt.number or f"#{receipt.id}", f"/desk/{RECEIPT}/{receipt.id}"),
                     _(DocStatus(receipt.docstatus).value),
                     sum(line.accepted_qty for line in receipt.lines),
                     sum(line.rejected_qty for line in receipt.lines),
                     (note.number, f"/desk/{RETURN}/{note.id}") if note else ""))
    return SectionContent(
        columns=(_("Purchase receipt"), _("State"), _("Accepted"), _("Rejected"),
                 _("Return note")),
        rows=tuple(tuple(str(c) if isinstance(c, int) else c for c in row) for row in rows),
        empty=_("Nothing received yet."))


FORM_SECTIONS = [
    FormSection(ORDER, "inventory.order_progress", N_("Receipt progress"),
                build=_order_lines_section, order=40),
    FormSection(ORDER, "inventory.order_receipts", N_("Receipts"),
                build=_order_receipts_section, order=41),
]


# ---------------------------------------------------------------------------
# actions and lifecycle handlers
# ---------------------------------------------------------------------------


def _pending(request) -> bool:
    return _submitted(request) and request.status == RequestStatus.PENDING


def _approved_request(request) -> bool:
    return _submitted(request) and request.status == RequestStatus.APPROVED


def _parts_warehouse(warehouse) -> bool:
    return warehouse.kind == WarehouseKind.PARTS and bool(warehouse.active)


DECISION_NOTE = N_("Decision note")

ACTIONS = [
    Action(SUPPLIER, "approve", N_("Approve supplier"), approve_supplier,
           f"{SUPPLIER}.approve", available=lambda s: s.status != SupplierStatus.APPROVED,
           next_for=("pending",)),
    Action(SUPPLIER, "suspend", N_("Suspend supplier"), suspend_supplier,
           f"{SUPPLIER}.approve", available=lambda s: s.status != SupplierStatus.SUSPENDED),
    Action(REQUEST, "approve", N_("Approve"), approve_request, f"{REQUEST}.approve",
           available=_pending, next_for=_pending,
           params=(Param("note", label=DECISION_NOTE),)),
    Action(REQUEST, "reject", N_("Reject"), reject_request, f"{REQUEST}.approve",
           available=_pending, params=(Param("note", label=DECISION_NOTE, required=True),)),
    Action(REQUEST, "make_orders", N_("Make purchase orders"), make_orders,
           f"{REQUEST}.order", available=_approved_request, next_for=_approved_request,
           params=(Param("warehouse", "reference", reference=WAREHOUSE,
                         label=N_("Receive into"),
                         help=N_("Default: the branch's first parts warehouse.")),)),
    Action(WAREHOUSE, "request_reorder", N_("Request parts below reorder level"),
           request_reorder, f"{REQUEST}.create", available=_parts_warehouse,
           params=(Param("needed_by", "date", label=N_("Needed by")),)),
    Action(ORDER, "receive", N_("Receive goods"), receive, f"{RECEIPT}.create",
           available=_open, next_for=_open),
    Action(ORDER, "close", N_("Close order"), close_order, f"{ORDER}.close",
           available=_open),
]
ON_SUBMIT = {REQUEST: submit_request, ORDER: submit_order, RECEIPT: submit_receipt}
ON_CANCEL = {REQUEST: cancel_request, ORDER: cancel_order, RECEIPT: cancel_receipt}

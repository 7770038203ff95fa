"""The inventory plugin's entities; tables are prefixed ``inventory_``.

Master data (categories, suppliers, parts with the equipment models they fit,
warehouses, reserve levels) is written through the generic API and desk. Stock moves
only through submitted documents (:mod:`kernel.lifecycle`): stock entries, purchase
receipts, requisitions and stock counts post lines to the ledger
(``inventory_ledger_entry``) through :mod:`plugins.inventory.ledger`, which also keeps
``inventory_stock`` (one row per part × warehouse: on hand, reserved, value) equal to the
ledger's sums. Submitted documents are never edited; cancelling one posts the reversing
lines.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kernel import (
    Base,
    BranchMixin,
    CompanyMixin,
    IdMixin,
    Money,
    RecordLink,
    SubmittableMixin,
    TimestampMixin,
    UTCDateTime,
    link_column,
)
from kernel.db import all_columns_readonly, choice_type
from kernel.i18n import N_
from kernel.models import Customer, Employee

# ---------------------------------------------------------------------------
# choices
# ---------------------------------------------------------------------------


class SupplierStatus(enum.StrEnum):
    """Whether purchase orders may go to a supplier (R21: only approved ones)."""

    PENDING = "pending"
    APPROVED = "approved"
    SUSPENDED = "suspended"


class WarehouseKind(enum.StrEnum):
    """What a warehouse keeps (R22); ``van`` is an engineer's van stock."""

    PARTS = "parts"
    AWAITING_REPAIR = "awaiting_repair"
    SAMPLES = "samples"
    SCRAP = "scrap"
    RETURNS = "returns"
    EMERGENCY_RESERVE = "emergency_reserve"
    VAN = "van"


class Movement(enum.StrEnum):
    """The kind of a ledger line (and the purpose of a stock entry)."""

    RECEIPT = "receipt"
    ISSUE = "issue"
    TRANSFER = "transfer"
    RETURN = "return"
    ADJUSTMENT = "adjustment"
    SCRAP = "scrap"


class RequestStatus(enum.StrEnum):
    """A submitted purchase request: waiting for approval, approved, refused, ordered."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    ORDERED = "ordered"


class OrderStatus(enum.StrEnum):
    """A submitted purchase order: what is still to come."""

    TO_RECEIVE = "to_receive"
    PARTLY_RECEIVED = "partly_received"
    RECEIVED = "received"
    CLOSED = "closed"


class RequisitionStatus(enum.StrEnum):
    """A submitted requisition slip (领用单, R24)."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    PARTLY_ISSUED = "partly_issued"
    ISSUED = "issued"
    WRITTEN_OFF = "written_off"


class ReservationStatus(enum.StrEnum):
    """Stock held for a job: all of it held, part of it short, issued, or let go."""

    RESERVED = "reserved"
    SHORT = "short"
    ISSUED = "issued"
    RELEASED = "released"


class CustomerOrderStatus(enum.StrEnum):
    """A customer's pre-order of a part (R25)."""

    WAITING = "waiting"
    ARRIVED = "arrived"
    COLLECTED = "collected"
    CANCELLED = "cancelled"


# ---------------------------------------------------------------------------
# master data
# ---------------------------------------------------------------------------


class PartCategory(IdMixin, TimestampMixin, CompanyMixin, Base):
    """A category of parts (drums, toner, boards, ...): billing's markup goes by it."""

    __tablename__ = "inventory_category"
    __title__ = N_("Part category")
    __default_sort__ = "code"
    __list_columns__ = ("code", "name")
    __search__ = ("code", "name")
    __labels__ = {"code": N_("Code"), "name": N_("Name")}
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(100))


class Supplier(IdMixin, TimestampMixin, CompanyMixin, Base):
    """Who parts are bought from; only approved suppliers get purchase orders (R21)."""

    __tablename__ = "inventory_supplier"
    __title__ = N_("Supplier")
    __default_sort__ = "code"
    __deletable__ = False
    __list_columns__ = ("code", "name", "status", "contact_name", "phone")
    __search__ = ("code", "name", "contact_name", "phone")
    __readonly__ = ("status", "approved_at")  # the approve / suspend actions write them
    __workflow__ = "status"
    __header__ = ("code", "name", ("contact_name", "phone"))
    __labels__ = {"code": N_("Code"), "name": N_("Name"), "status": N_("Approval"),
                  "contact_name": N_("Contact"), "phone": N_("Phone"),
                  "email": N_("E-mail"), "address": N_("Address"),
                  "approved_at": N_("Approved at"), "note": N_("Note")}
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[SupplierStatus] = mapped_column(
        choice_type(SupplierStatus, "supplier_status"), default=SupplierStatus.PENDING)
    contact_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(500))


class Part(IdMixin, TimestampMixin, CompanyMixin, Base):
    """A spare part or consumable (R22): name, model, specification, unit, shelf life."""

    __tablename__ = "inventory_part"
    __title__ = N_("Part")
    __default_sort__ = "code"
    __deletable__ = False
    __list_columns__ = ("code", "name", "model", "category_id", "unit", "standard_cost",
                        "reorder_level")
    __search__ = ("code", "name", "model", "specification", "barcode")
    __header__ = ("code", "name", ("model", "specification"), "category_id")
    __groups__ = (
        (N_("Part"), ("unit", "barcode", "shelf_life_days", "active", "note")),
        (N_("Purchasing"), ("default_supplier_id", "standard_cost", "reorder_level",
                            "reorder_qty")),
    )
    __labels__ = {"code": N_("Part code"), "name": N_("Name"), "model": N_("Model"),
                  "specification": N_("Specification"), "unit": N_("Unit"),
                  "category_id": N_("Category"), "barcode": N_("Barcode"),
                  "shelf_life_days": N_("Shelf life (days)"),
                  "default_supplier_id": N_("Default supplier"),
                  "standard_cost": N_("Purchase price"),
                  "reorder_level": N_("Reorder level"), "reorder_qty": N_("Reorder quantity"),
                  "active": N_("Active"), "note": N_("Note")}
    __table_args__ = (UniqueConstraint("company_id", "code"),
                      UniqueConstraint("company_id", "barcode"),
                      CheckConstraint("reorder_level >= 0 AND reorder_qty >= 0",
                                      name="reorder_not_negative"))

    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    model: Mapped[str | None] = mapped_column(String(100))
    specification: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20), default="个")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("inventory_category.id"),
                                                    index=True)
    barcode: Mapped[str | None] = mapped_column(String(60))
    shelf_life_days: Mapped[int | None] = mapped_column(Integer)
    default_supplier_id: Mapped[int | None] = mapped_column(
        ForeignKey("inventory_supplier.id"), index=True)
    standard_cost: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    reorder_level: Mapped[int] = mapped_column(Integer, default=0)
    reorder_qty: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(String(500))

    category: Mapped[PartCategory | None] = relationship(lambda: PartCategory)
    default_supplier: Mapped[Supplier | None] = relationship(lambda: Supplier)

    @property
    def label(self) -> str:
        """How papers and messages name the part: code, name, model."""
        return " ".join(x for x in (self.code, self.name, self.model) if x)


class PartModel(IdMixin, Base):
    """An equipment model a part fits (compatible models, a table on the part's form)."""

    __tablename__ = "inventory_part_model"
    __title__ = N_("Compatible model")
    __permission__ = "inventory_part"
    __lines_of__ = ("part_id", "inventory_part")
    __line_columns__ = ("model",)
    __search__ = ("model",)
    __labels__ = {"part_id": N_("Part"), "model": N_("Equipment model")}
    __table_args__ = (UniqueConstraint("part_id", "model"),)

    part_id: Mapped[int] = mapped_column(ForeignKey("inventory_part.id"), index=True)
    model: Mapped[str] = mapped_column(String(100), index=True)


class Warehouse(IdMixin, TimestampMixin, CompanyMixin, BranchMixin, Base):
    """A store of a branch (R22); a ``van`` is bound to the engineer who drives it."""

    __tablename__ = "inventory_warehouse"
    __title__ = N_("Warehouse")
    __default_sort__ = "code"
    __deletable__ = False
    __list_columns__ = ("code", "name", "branch_id", "kind", "engineer_id", "active")
    __search__ = ("code", "name")
    __header__ = ("code", "name", "kind", "engineer_id")
    __labels__ = {"code": N_("Code"), "name": N_("Name"), "kind": N_("Warehouse type"),
                  "engineer_id": N_("Engineer"), "active": N_("Active"),
                  "address": N_("Address")}
    __table_args__ = (UniqueConstraint("company_id", "code"),
                      CheckConstraint("kind <> 'van' OR engineer_id IS NOT NULL",
                                      name="van_has_engineer"))

    code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[WarehouseKind] = mapped_column(choice_type(WarehouseKind, "warehouse_kind"),
                                                default=WarehouseKind.PARTS)
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    engineer: Mapped[Employee | None] = relationship(lambda: Employee)


class ReserveLevel(IdMixin, TimestampMixin, Base):
    """The least quantity of a part the emergency reserve warehouse must hold."""

    __tablename__ = "inventory_reserve_level"
    __title__ = N_("Emergency reserve level")
    __branch_parent__ = ("warehouse_id", "inventory_warehouse")
    __list_columns__ = ("warehouse_id", "part_id", "min_qty")
    __lines_of__ = ("warehouse_id", "inventory_warehouse")
    __line_columns__ = ("part_id", "min_qty")
    __labels__ = {"warehouse_id": N_("Warehouse"), "part_id": N_("Part"),
                  "min_qty": N_("Minimum quantity")}
    __table_args__ = (UniqueConstraint("warehouse_id", "part_id"),
                      CheckConstraint("min_qty >= 0", name="min_not_negative"))

    warehouse_id: Mapped[int] = mapped_column(ForeignKey("inventory_warehouse.id"), index=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("inventory_part.id"), index=True)
    min_qty: Mapped[int] = mapped_column(Integer)


# ---------------------------------------------------------------------------
# stock and ledger
# ---------------------------------------------------------------------------


@all_columns_readonly
class Stock(IdMixin, BranchMixin, Base):
    """On hand, reserved and value of one part in one warehouse: the ledger's sums, kept
    by :mod:`plugins.inventory.ledger` (``fixdesk inventory check`` proves it)."""

    __tablename__ = "inventory_stock"
    __title__ = N_("Stock")
    __operations__ = ("update",)
    __deletable__ = False
    __default_sort__ = "part_id"
    __list_columns__ = ("part_id", "warehouse_id", "qty", "reserved", "value", "location")
    __header__ = ("part_id", "warehouse_id", "qty", "reserved", "value")
    __labels__ = {"part_id": N_("Part"), "warehouse_id": N_("Warehouse"),
                  "qty": N_("On hand"), "reserved": N_("Reserved"), "value": N_("Stock value"),
                  "location": N_("Bin"), "last_receipt_at": N_("Last receipt"),
                  "last_issue_at": N_("Last issue")}
    __table_args__ = (UniqueConstraint("part_id", "warehouse_id"),
                      Index(None, "warehouse_id", "part_id"),
                      CheckConstraint("qty >= 0", name="qty_not_negative"),
                      CheckConstraint("reserved >= 0", name="reserved_not_negative"))

    part_id: Mapped[int] = mapped_column(ForeignKey("inventory_part.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("inventory_warehouse.id"))
    qty: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    value: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    location: Mapped[str | None] = mapped_column(String(50))
    last_receipt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_issue_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    part: Mapped[Part] = relationship(lambda: Part)
    warehouse: Mapped[Warehouse] = relationship(lambda: Warehouse)

    @property
    def available(self) -> int:
        return self.qty - self.reserved


Stock.__readonly__ = tuple(f for f in Stock.__readonly__ if f != "location")


@all_columns_readonly
class LedgerEntry(IdMixin, BranchMixin, Base):
    """One movement of the stock ledger (R22): a line of a submitted document, never
    changed; a cancelled document's lines are reversed by new entries (``reversal``)."""

    __tablename__ = "inventory_ledger_entry"
    __title__ = N_("Stock ledger entry")
    __operations__ = ()
    __default_sort__ = "-posted_at"
    __list_columns__ = ("posted_at", "kind", "part_id", "warehouse_id", "qty_change",
                        "unit_cost", "value_change", "voucher_number")
    __search__ = ("voucher_number",)
    __header__ = ("posted_at", "kind", "part_id", "warehouse_id", "qty_change")
    # the document is shown by its title and number, linked (plugins.inventory.warehouse_view)
    __technical__ = ("voucher_entity", "voucher_id", "voucher_number", "voucher_line_id")
    __labels__ = {"posted_at": N_("Posted at"), "kind": N_("Movement"), "part_id": N_("Part"),
                  "warehouse_id": N_("Warehouse"), "qty_change": N_("Quantity"),
                  "unit_cost": N_("Cost per unit"), "value_change": N_("Amount"),
                  "voucher_entity": N_("Document type"), "voucher_id": N_("Document"),
                  "voucher_number": N_("Document number"),
                  "voucher_line_id": N_("Document line"), "reversal": N_("Reversal"),
                  "expires_on": N_("Expires on"), "created_at": N_("Written at"),
                  "job": N_("Job"), "job_entity": N_("Job (record type)")}
    __table_args__ = (Index(None, "part_id", "warehouse_id", "posted_at", "id"),
                      Index(None, "posted_at", "id"),
                      # a branch's ledger, newest first (its list's order; inventory_0003)
                      Index("ix_inventory_ledger_entry_branch_posted", "branch_id",
                            "posted_at", "id"),
                      Index(None, "voucher_entity", "voucher_id"),
                      # for the expiring report: dated receipts, reversals (few lines each)
                      Index("ix_inventory_ledger_entry_dated", "part_id", "warehouse_id",
                            postgresql_where=text("expires_on IS NOT NULL"),
                            sqlite_where=text("expires_on IS NOT NULL")),
                      Index("ix_inventory_ledger_entry_reversal", "voucher_entity",
                            "voucher_id", postgresql_where=text("reversal"),
                            sqlite_where=text("reversal = 1")))

    posted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    kind: Mapped[Movement] = mapped_column(choice_type(Movement, "movement"))
    part_id: Mapped[int] = mapped_column(ForeignKey("inventory_part.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("inventory_warehouse.id"))
    qty_change: Mapped[int] = mapped_column(Integer)
    value_change: Mapped[Decimal] = mapped_column(Money)
    #: the cost per unit the movement was valued at (moving weighted average for issues)
    unit_cost: Mapped[Decimal] = mapped_column(Money)
    voucher_entity: Mapped[str] = mapped_column(String(60))
    voucher_id: Mapped[int] = mapped_column(Integer)
    voucher_number: Mapped[str | None] = mapped_column(String(60))
    voucher_line_id: Mapped[int | None] = mapped_column(Integer)
    reversal: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    job: Mapped[RecordLink | None] = link_column("job")

    part: Mapped[Part] = relationship(lambda: Part)
    warehouse: Mapped[Warehouse] = relationship(lambda: Warehouse)


@all_columns_readonly
class Reservation(IdMixin, TimestampMixin, BranchMixin, Base):
    """Stock held in a warehouse for a job (a work order's part line, a customer's
    pre-order): ``reserved`` units are held now, ``short`` more are wanted, ``issued`` were
    handed out."""

    __tablename__ = "inventory_reservation"
    __title__ = N_("Reservation")
    __operations__ = ()
    __default_sort__ = "-id"
    __list_columns__ = ("part_id", "warehouse_id", "job", "qty", "reserved", "short",
                        "issued", "status")
    __header__ = ("part_id", "warehouse_id", "job", "status")
    __labels__ = {"part_id": N_("Part"), "warehouse_id": N_("Warehouse"), "qty": N_("Wanted"),
                  "reserved": N_("Reserved"), "short": N_("Short"), "issued": N_("Issued quantity"),
                  "returned": N_("Returned"), "status": N_("Status"), "job": N_("Job"),
                  "source": N_("For"), "source_id": N_("For"),
                  # the columns of the links, as the audit trail names them
                  "job_entity": N_("Job (record type)"),
                  "source_entity": N_("For (record type)")}
    __table_args__ = (Index(None, "part_id", "warehouse_id", "status"),
                      CheckConstraint("reserved >= 0 AND short >= 0 AND issued >= 0 "
                                      "AND returned >= 0", name="quantities_not_negative"))

    part_id: Mapped[int] = mapped_column(ForeignKey("inventory_part.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("inventory_warehouse.id"))
    qty: Mapped[int] = mapped_column(Integer)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    short: Mapped[int] = mapped_column(Integer, default=0)
    issued: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[ReservationStatus] = mapped_column(
        choice_type(ReservationStatus, "reservation_status"), default=ReservationStatus.RESERVED)
    #: the job the stock is for (a work order), grouping its reservations
    job: Mapped[RecordLink | None] = link_column("job")
    #: the line that asked for it (a work order's part line, a customer order)
    source: Mapped[RecordLink | None] = link_column("source")

    part: Mapped[Part] = relationship(lambda: Part)
    warehouse: Mapped[Warehouse] = relationship(lambda: Warehouse)


# ---------------------------------------------------------------------------
# documents
# ---------------------------------------------------------------------------

_DOC_LABELS = {"number": N_("Number"), "branch_id": N_("Branch"), "note": N_("Note"),
               "docstatus": N_("State"), "posted_at": N_("Posting time")}


class StockEntry(IdMixin, TimestampMixin, BranchMixin, SubmittableMixin, Base):
    """A receipt, issue, transfer, return, adjustment or scrapping of stock by hand: a
    draft until submitted, then its lines are in the ledger."""

    __tablename__ = "inventory_stock_entry"
    __title__ = N_("Stock entry")
    __naming_series__ = "inventory_stock_entry"
    __readonly__ = ("number",)
    __default_sort__ = "-id"
    __list_columns__ = ("number", "purpose", "posted_at", "from_warehouse_id",
                        "to_warehouse_id", "docstatus")
    __search__ = ("number", "reason")
    __header__ = ("number", "purpose", "posted_at", ("from_warehouse_id", "to_warehouse_id"),
                  "reason")
    __labels__ = {**_DOC_LABELS, "purpose": N_("Purpose"),
                  "from_warehouse_id": N_("From warehouse"),
                  "to_warehouse_id": N_("To warehouse"), "reason": N_("Reason"),
                  "job": N_("Job"), "job_entity": N_("Job (record type)")}

    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    purpose: Mapped[Movement] = mapped_column(choice_type(Movement, "movement"))
    #: when the movement happened (None: when submitted); earlier than now is backdating
    posted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    from_warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("inventory_warehouse.id"),
                                                          index=True)
    to_warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("inventory_warehouse.id"),
                                                        index=True)
    reason: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    job: Mapped[RecordLink | None] = link_column("job")

    from_warehouse: Mapped[Warehouse | None] = relationship(
        lambda: Warehouse, foreign_keys=lambda: [StockEntry.from_warehouse_id])
    to_warehouse: Mapped[Warehouse | None] = relationship(
        lambda: Warehouse, foreign_keys=lambda: [StockEntry.to_warehouse_id])
    lines: Mapped[list[StockEntryLine]] = relationship(
        lambda: StockEntryLine, cascade="all, delete-orphan",
        order_by=lambda: StockEntryLine.id)


class StockEntryLine(IdMixin, Base):
    """One part of a stock entry. ``qty`` is signed only on adjustments; ``unit_cost`` is
    the cost of a receipt (default the part's purchase price) or of stock found."""

    __tablename__ = "inventory_stock_entry_line"
    __title__ = N_("Stock entry line")
    __permission__ = "inventory_stock_entry"
    __submittable_parent__ = ("entry_id", "inventory_stock_entry")
    __branch_parent__ = ("entry_id", "inventory_stock_entry")
    __lines_of__ = ("entry_id", "inventory_stock_entry")
    __line_columns__ = ("part_id", "qty", "unit_cost", "expires_on")
    __labels__ = {"entry_id": N_("Stock entry"), "part_id": N_("Part"), "qty": N_("Quantity"),
                  "unit_cost": N_("Cost per unit"), "expires_on": N_("Expires on")}

    entry_id: Mapped[int] = mapped_column(ForeignKey("inventory_stock_entry.id"), index=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("inventory_part.id"), index=True)
    qty: Mapped[int] = mapped_column(Integer)
    unit_cost: Mapped[Decimal | None] = mapped_column(Money)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)

    part: Mapped[Part] = relationship(lambda: Part)


class PurchaseRequest(IdMixin, TimestampMixin, BranchMixin, SubmittableMixin, Base):
    """A purchase request (请购单, R21): from reorder suggestions or by hand; submitted for
    approval, approved, then ordered."""

    __tablename__ = "inventory_purchase_request"
    __title__ = N_("Purchase request")
    __naming_series__ = "inventory_purchase_request"
    __readonly__ = ("number", "status", "decided_at", "decided_by_id", "decision_note")
    __update_after_submit__ = ("status", "decided_at", "decided_by_id", "decision_note")
    __default_sort__ = "-id"
    __workflow__ = "status"
    __workflow_side__ = ("rejected",)
    __list_columns__ = ("number", "needed_by", "reason", "status", "docstatus")
    __search__ = ("number", "reason")
    __header__ = ("number", "needed_by", "reason")
    __labels__ = {**_DOC_LABELS, "needed_by": N_("Needed by"), "reason": N_("Reason"),
                  "status": N_("Approval"), "decided_at": N_("Decided at"),
                  "decided_by_id": N_("Decided by"), "decision_note": N_("Decision note")}

    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    needed_by: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[RequestStatus] = mapped_column(choice_type(RequestStatus, "request_status"),
                                                  default=RequestStatus.PENDING)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decision_note: Mapped[str | None] = mapped_column(String(300))

    lines: Mapped[list[PurchaseRequestLine]] = relationship(
        lambda: PurchaseRequestLine, cascade="all, delete-orphan",
        order_by=lambda: PurchaseRequestLine.id)


class PurchaseRequestLine(IdMixin, Base):
    """A part and quantity asked for, optionally from a named supplier."""

    __tablename__ = "inventory_purchase_request_line"
    __title__ = N_("Purchase request line")
    __permission__ = "inventory_purchase_request"
    __submittable_parent__ = ("request_id", "inventory_purchase_request")
    __branch_parent__ = ("request_id", "inventory_purchase_request")
    __lines_of__ = ("request_id", "inventory_purchase_request")
    __line_columns__ = ("part_id", "qty", "supplier_id")
    __labels__ = {"request_id": N_("Purchase request"), "part_id": N_("Part"),
                  "qty": N_("Quantity"), "supplier_id": N_("Supplier")}

    request_id: Mapped[int] = mapped_column(ForeignKey("inventory_purchase_request.id"),
                                            index=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("inventory_part.id"), index=True)
    qty: Mapped[int] = mapped_column(Integer)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("inventory_supplier.id"))

    part: Mapped[Part] = relationship(lambda: Part)
    supplier: Mapped[Supplier | None] = relationship(lambda: Supplier)


class PurchaseOrder(IdMixin, TimestampMixin, BranchMixin, SubmittableMixin, Base):
    """A purchase order (采购订单, R21) to an approved supplier, received into one
    warehouse; ``status`` says what is still to come."""

    __tablename__ = "inventory_purchase_order"
    __title__ = N_("Purchase order")
    __naming_series__ = "inventory_purchase_order"
    __readonly__ = ("number", "status", "request_id")
    __update_after_submit__ = ("status",)
    __default_sort__ = "-id"
    __workflow__ = "status"
    __workflow_side__ = ("closed",)
    __list_columns__ = ("number", "supplier_id", "warehouse_id", "expected_on", "status",
                        "docstatus")
    __search__ = ("number", "note")
    __header__ = ("number", "supplier_id", "warehouse_id", "expected_on")
    __labels__ = {**_DOC_LABELS, "supplier_id": N_("Supplier"),
                  "warehouse_id": N_("Receive into"), "expected_on": N_("Expected on"),
                  "status": N_("Receipt"), "request_id": N_("Purchase request")}

    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("inventory_supplier.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("inventory_warehouse.id"), index=True)
    expected_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[OrderStatus] = mapped_column(choice_type(OrderStatus, "order_status"),
                                                default=OrderStatus.TO_RECEIVE)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("inventory_purchase_request.id"),
                                                   index=True)

    supplier: Mapped[Supplier] = relationship(lambda: Supplier)
    warehouse: Mapped[Warehouse] = relationship(lambda: Warehouse)
    lines: Mapped[list[PurchaseOrderLine]] = relationship(
        lambda: PurchaseOrderLine, cascade="all, delete-orphan",
        order_by=lambda: PurchaseOrderLine.id)


class PurchaseOrderLine(IdMixin, Base):
    """A part ordered at an agreed unit price."""

    __tablename__ = "inventory_purchase_order_line"
    __title__ = N_("Purchase order line")
    __permission__ = "inventory_purchase_order"
    __submittable_parent__ = ("order_id", "inventory_purchase_order")
    __branch_parent__ = ("order_id", "inventory_purchase_order")
    __lines_of__ = ("order_id", "inventory_purchase_order")
    __line_columns__ = ("part_id", "qty", "unit_price")
    __readonly__ = ("request_line_id",)
    __label_columns__ = ("label",)  # receipts name their order line by its part
    __labels__ = {"order_id": N_("Purchase order"), "part_id": N_("Part"),
                  "qty": N_("Quantity"), "unit_price": N_("Unit price"),
                  "request_line_id": N_("Purchase request line")}

    order_id: Mapped[int] = mapped_column(ForeignKey("inventory_purchase_order.id"),
                                          index=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("inventory_part.id"), index=True)
    qty: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    request_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("inventory_purchase_request_line.id"), index=True)

    part: Mapped[Part] = relationship(lambda: Part, lazy="joined")

    @property
    def label(self) -> str:
        """The part and the quantity ordered (``DR-2206 硒鼓 iR 2206 × 4``)."""
        return f"{self.part.label} × {self.qty}"


class PurchaseReceipt(IdMixin, TimestampMixin, BranchMixin, SubmittableMixin, Base):
    """A receipt and inspection note (入库验收单, R21): what arrived against an order, how
    much was accepted into stock and how much rejected (returned on a return note)."""

    __tablename__ = "inventory_purchase_receipt"
    __title__ = N_("Purchase receipt")
    __naming_series__ = "inventory_purchase_receipt"
    __readonly__ = ("number", "supplier_id", "warehouse_id")
    # made by the order's *Receive goods* (supplier, warehouse and lines from the order)
    __operations__ = ("update", "delete")
    __default_sort__ = "-id"
    __list_columns__ = ("number", "order_id", "supplier_id", "received_at", "inspector_id",
                        "docstatus")
    __search__ = ("number", "delivery_note")
    __header__ = ("number", "order_id", "supplier_id", "warehouse_id", "received_at")
    __labels__ = {**_DOC_LABELS, "order_id": N_("Purchase order"),
                  "supplier_id": N_("Supplier"), "warehouse_id": N_("Warehouse"),
                  "received_at": N_("Received at"), "inspector_id": N_("Inspector"),
                  "delivery_note": N_("Supplier's delivery note")}

    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("inventory_purchase_order.id"),
                                          index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("inventory_supplier.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("inventory_warehouse.id"), index=True)
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"))
    delivery_note: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)

    order: Mapped[PurchaseOrder] = relationship(lambda: PurchaseOrder)
    supplier: Mapped[Supplier] = relationship(lambda: Supplier)
    warehouse: Mapped[Warehouse] = relationship(lambda: Warehouse)
    lines: Mapped[list[PurchaseReceiptLine]] = relationship(
        lambda: PurchaseReceiptLine, cascade="all, delete-orphan",
        order_by=lambda: PurchaseReceiptLine.id)


class PurchaseReceiptLine(IdMixin, Base):
    """What arrived of one order line: accepted into stock at the order's price, rejected
    with a reason."""

    __tablename__ = "inventory_purchase_receipt_line"
    __title__ = N_("Receipt line")
    __permission__ = "inventory_purchase_receipt"
    __submittable_parent__ = ("receipt_id", "inventory_purchase_receipt")
    __branch_parent__ = ("receipt_id", "inventory_purchase_receipt")
    __lines_of__ = ("receipt_id", "inventory_purchase_receipt")
    __line_columns__ = ("order_line_id", "part_id", "accepted_qty", "rejected_qty",
                        "reject_reason", "expires_on")
    __readonly__ = ("part_id", "unit_price")
    __labels__ = {"receipt_id": N_("Purchase receipt"), "order_line_id": N_("Order line"),
                  "part_id": N_("Part"), "accepted_qty": N_("Accepted"),
                  "rejected_qty": N_("Rejected"), "reject_reason": N_("Reason rejected"),
                  "unit_price": N_("Unit price"), "expires_on": N_("Expires on")}
    __table_args__ = (CheckConstraint("accepted_qty >= 0 AND rejected_qty >= 0",
                                      name="quantities_not_negative"),)

    receipt_id: Mapped[int] = mapped_column(ForeignKey("inventory_purchase_receipt.id"),
                                            index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("inventory_purchase_order_line.id"),
                                               index=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("inventory_part.id"), index=True)
    accepted_qty: Mapped[int] = mapped_column(Integer, default=0)
    rejected_qty: Mapped[int] = mapped_column(Integer, default=0)
    reject_reason: Mapped[str | None] = mapped_column(String(300))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)

    part: Mapped[Part] = relationship(lambda: Part)
    order_line: Mapped[PurchaseOrderLine] = relationship(lambda: PurchaseOrderLine)


@all_columns_readonly
class SupplierReturn(IdMixin, TimestampMixin, BranchMixin, SubmittableMixin, Base):
    """A return note (退货单): rejected goods sent back to the supplier, made and submitted
    with the receipt that rejected them."""

    __tablename__ = "inventory_supplier_return"
    __title__ = N_("Supplier return note")
    __naming_series__ = "inventory_supplier_return"
    __operations__ = ()
    __lifecycle_actions__ = ()
    __default_sort__ = "-id"
    __list_columns__ = ("number", "supplier_id", "receipt_id", "docstatus")
    __labels__ = {**_DOC_LABELS, "supplier_id": N_("Supplier"),
                  "receipt_id": N_("Purchase receipt")}

    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("inventory_supplier.id"), index=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("inventory_purchase_receipt.id"),
                                            index=True)

    supplier: Mapped[Supplier] = relationship(lambda: Supplier)
    lines: Mapped[list[SupplierReturnLine]] = relationship(
        lambda: SupplierReturnLine, cascade="all, delete-orphan",
        order_by=lambda: SupplierReturnLine.id)


@all_columns_readonly
class SupplierReturnLine(IdMixin, Base):
    """A rejected part going back, with the inspector's reason."""

    __tablename__ = "inventory_supplier_return_line"
    __title__ = N_("Return line")
    __permission__ = "inventory_supplier_return"
    __operations__ = ()
    __submittable_parent__ = ("return_id", "inventory_supplier_return")
    __branch_parent__ = ("return_id", "inventory_supplier_return")
    __lines_of__ = ("return_id", "inventory_supplier_return")
    __line_columns__ = ("part_id", "qty", "reason")
    __labels__ = {"return_id": N_("Return note"), "part_id": N_("Part"),
                  "qty": N_("Quantity"), "reason": N_("Reason")}

    return_id: Mapped[int] = mapped_column(ForeignKey("inventory_supplier_return.id"),
                                           index=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("inventory_part.id"))
    qty: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(300))

    part: Mapped[Part] = relationship(lambda: Part)


class Requisition(IdMixin, TimestampMixin, BranchMixin, SubmittableMixin, Base):
    """An engineer's requisition slip (领用单, R24) for a job: submitted, approved by the
    supervisor, issued by the warehouse, unused parts returned, then written off (核销)."""

    __tablename__ = "inventory_requisition"
    __title__ = N_("Requisition slip")
    __naming_series__ = "inventory_requisition"
    __readonly__ = ("number", "status", "decided_at", "decided_by_id", "written_off_at")
    __update_after_submit__ = ("status", "decided_at", "decided_by_id", "written_off_at")
    __default_sort__ = "-id"
    __workflow__ = "status"
    __workflow_side__ = ("rejected",)
    __list_columns__ = ("number", "engineer_id", "warehouse_id", "job", "status", "docstatus")
    __search__ = ("number", "purpose")
    __header__ = ("number", "engineer_id", "warehouse_id", "job", "purpose")
    __labels__ = {**_DOC_LABELS, "engineer_id": N_("Engineer"),
                  "warehouse_id": N_("Warehouse"), "job": N_("Job"),
                  "job_entity": N_("Job (record type)"),
                  "purpose": N_("Purpose"), "status": N_("Progress"),
                  "decided_at": N_("Approved at"), "decided_by_id": N_("Approved by"),
                  "written_off_at": N_("Written off at")}

    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    engineer_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("inventory_warehouse.id"), index=True)
    purpose: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    job: Mapped[RecordLink | None] = link_column("job")
    status: Mapped[RequisitionStatus] = mapped_column(
        choice_type(RequisitionStatus, "requisition_status"), default=RequisitionStatus.PENDING)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    written_off_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    engineer: Mapped[Employee] = relationship(lambda: Employee)
    warehouse: Mapped[Warehouse] = relationship(lambda: Warehouse)
    lines: Mapped[list[RequisitionLine]] = relationship(
        lambda: RequisitionLine, cascade="all, delete-orphan",
        order_by=lambda: RequisitionLine.id)


class RequisitionLine(IdMixin, Base):
    """A part asked for on a requisition slip; what was issued and returned of it is in
    the ledger (its entries name this line)."""

    __tablename__ = "inventory_requisition_line"
    __title__ = N_("Requisition line")
    __permission__ = "inventory_requisition"
    __submittable_parent__ = ("requisition_id", "inventory_requisition")
    __branch_parent__ = ("requisition_id", "inventory_requisition")
    __lines_of__ = ("requisition_id", "inventory_requisition")
    __line_columns__ = ("part_id", "qty")
    __labels__ = {"requisition_id": N_("Requisition slip"), "part_id": N_("Part"),
                  "qty": N_("Quantity")}

    requisition_id: Mapped[int] = mapped_column(ForeignKey("inventory_requisition.id"),
                                                index=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("inventory_part.id"), index=True)
    qty: Mapped[int] = mapped_column(Integer)

    part: Mapped[Part] = relationship(lambda: Part)


class StockCount(IdMixin, TimestampMixin, BranchMixin, SubmittableMixin, Base):
    """A count sheet (盘点表, R23): the warehouse's book quantities frozen when it is made,
    the counted ones entered; submitting it (a supervisor's approval) posts the differences
    as adjustments."""

    __tablename__ = "inventory_stock_count"
    __title__ = N_("Stock count")
    __naming_series__ = "inventory_stock_count"
    __readonly__ = ("number", "warehouse_id", "frozen_at")
    # made by the warehouse's *Start a stock count* (the book frozen, the lines made)
    __operations__ = ("update", "delete")
    __default_sort__ = "-id"
    __list_columns__ = ("number", "warehouse_id", "frozen_at", "docstatus")
    __search__ = ("number",)
    __header__ = ("number", "warehouse_id", "frozen_at")
    __labels__ = {**_DOC_LABELS, "warehouse_id": N_("Warehouse"),
                  "frozen_at": N_("Book quantities as of")}

    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("inventory_warehouse.id"), index=True)
    frozen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)

    warehouse: Mapped[Warehouse] = relationship(lambda: Warehouse)
    lines: Mapped[list[StockCountLine]] = relationship(
        lambda: StockCountLine, cascade="all, delete-orphan",
        order_by=lambda: StockCountLine.id)


class StockCountLine(IdMixin, Base):
    """One part on a count sheet: the book quantity and value when frozen, what was counted,
    and why they differ."""

    __tablename__ = "inventory_stock_count_line"
    __title__ = N_("Count line")
    __permission__ = "inventory_stock_count"
    __submittable_parent__ = ("count_id", "inventory_stock_count")
    __branch_parent__ = ("count_id", "inventory_stock_count")
    __lines_of__ = ("count_id", "inventory_stock_count")
    __line_order__ = "id"  # the walk through the store, as the sheet was made
    # lines come from the sheet's making and the barcode count, never from a blank row
    __operations__ = ("update", "delete")
    __line_columns__ = ("part_id", "location", "book_qty", "counted_qty", "reason")
    __readonly__ = ("part_id", "book_qty", "book_value", "location")
    __labels__ = {"count_id": N_("Stock count"), "part_id": N_("Part"), "location": N_("Bin"),
                  "book_qty": N_("Book quantity"), "book_value": N_("Book value"),
                  "counted_qty": N_("Counted"), "reason": N_("Reason for the difference")}
    __table_args__ = (UniqueConstraint("count_id", "part_id"),
                      CheckConstraint("counted_qty IS NULL OR counted_qty >= 0",
                                      name="counted_not_negative"))

    count_id: Mapped[int] = mapped_column(ForeignKey("inventory_stock_count.id"), index=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("inventory_part.id"), index=True)
    location: Mapped[str | None] = mapped_column(String(50))
    book_qty: Mapped[int] = mapped_column(Integer, default=0)
    book_value: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    counted_qty: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(300))

    part: Mapped[Part] = relationship(lambda: Part)


class CustomerOrder(IdMixin, TimestampMixin, CompanyMixin, BranchMixin, Base):
    """A customer's pre-order of a part (R25): when it arrives the stock is held for them
    and they are told through the kernel's notifications."""

    __tablename__ = "inventory_customer_order"
    __title__ = N_("Customer pre-order")
    __naming_series__ = "inventory_customer_order"
    __readonly__ = ("number", "status", "arrived_at", "notified_at", "collected_at")
    __deletable__ = False
    __default_sort__ = "-id"
    __workflow__ = "status"
    __workflow_side__ = ("cancelled",)
    __list_columns__ = ("number", "customer_id", "part_id", "qty", "warehouse_id", "status")
    __search__ = ("number", "contact_name", "phone")
    __header__ = ("number", "customer_id", "part_id", "qty", "warehouse_id")
    __labels__ = {"number": N_("Number"), "customer_id": N_("Customer"), "part_id": N_("Part"),
                  "qty": N_("Quantity"), "warehouse_id": N_("Collect at"),
                  "contact_name": N_("Contact"), "phone": N_("Phone"), "email": N_("E-mail"),
                  "status": N_("Status"), "arrived_at": N_("Parts arrived at"),
                  "notified_at": N_("Customer told at"), "collected_at": N_("Collected at"),
                  "note": N_("Note")}

    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("inventory_part.id"), index=True)
    qty: Mapped[int] = mapped_column(Integer)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("inventory_warehouse.id"), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[CustomerOrderStatus] = mapped_column(
        choice_type(CustomerOrderStatus, "customer_order_status"),
        default=CustomerOrderStatus.WAITING)
    arrived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    collected_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(500))

    customer: Mapped[Customer] = relationship(lambda: Customer)
    part: Mapped[Part] = relationship(lambda: Part)
    warehouse: Mapped[Warehouse] = relationship(lambda: Warehouse)


ENTITIES = [PartCategory, Supplier, Part, PartModel, Warehouse, ReserveLevel, Stock,
            LedgerEntry, Reservation, StockEntry, StockEntryLine, PurchaseRequest,
            PurchaseRequestLine, PurchaseOrder, PurchaseOrderLine, PurchaseReceipt,
            PurchaseReceiptLine, SupplierReturn, SupplierReturnLine, Requisition,
            RequisitionLine, StockCount, StockCountLine, CustomerOrder]

#: enum values shown to users, marked for the message catalogue
ENUM_LABELS = (
    N_("pending"), N_("approved"), N_("suspended"),
    N_("parts"), N_("awaiting_repair"), N_("samples"), N_("scrap"), N_("returns"),
    N_("emergency_reserve"), N_("van"),
    N_("receipt"), N_("issue"), N_("transfer"), N_("return"), N_("adjustment"),
    N_("rejected"), N_("ordered"),
    N_("to_receive"), N_("partly_received"), N_("received"), N_("closed"),
    N_("partly_issued"), N_("issued"), N_("written_off"),
    N_("reserved"), N_("short"), N_("released"),
    N_("waiting"), N_("arrived"), N_("collected"), N_("cancelled"),
)

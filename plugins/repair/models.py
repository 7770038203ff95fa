"""The repair plugin's entities; tables are prefixed ``repair_``.

Every column of these entities is read-only for the generic API and desk
(``__readonly__``): rows are written by :mod:`plugins.repair.services` only,
which the plugin's actions (``POST /api/v1/repair_work_order/{id}/dispatch``,
...) and routes (``POST /api/repair/work_orders``) call.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    column,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kernel import Base, BranchMixin, CompanyMixin, IdMixin, Money, TimestampMixin, UTCDateTime
from kernel.db import all_columns_readonly, choice_type, written_in
from kernel.i18n import N_
from kernel.models import Branch, Customer, CustomerEquipment, Employee

from . import lists
from .rules import (
    OPEN,
    AuditResult,
    Basis,
    Category,
    Channel,
    Exclusion,
    QuoteStatus,
    ServiceMode,
    Status,
)

#: the open statuses in the workflow's order
OPEN_STATUSES = tuple(s for s in Status if s in OPEN)
#: the open orders (not closed, not cancelled), as the partial indexes over them state it
#: (repair_0010)
OPEN_ORDERS = column("status").in_([s.value for s in OPEN_STATUSES])


def open_status(*statuses: Status) -> list:
    """The conditions "status is one of ``statuses`` (default: every open one), an open
    one", written into the statement (:func:`kernel.db.written_in`) so that the partial
    indexes over the open orders answer them on both databases: a branch's open orders
    are a few thousand of its years of history. SQLite, which plans without statistics,
    would otherwise read the branch's whole history by ``branch_id``."""
    found = [written_in(WorkOrder.status, OPEN_STATUSES)]
    if statuses:
        found.append(written_in(WorkOrder.status, statuses))
    return found


@all_columns_readonly
class WorkOrder(IdMixin, TimestampMixin, CompanyMixin, BranchMixin, Base):
    """A repair order (维修工单): one line of the repair register (报修登记簿), R1–R16."""

    __tablename__ = "repair_work_order"
    __title__ = N_("Work order")
    __deletable__ = False
    __new_permission__ = "register"  # New opens the registration page (plugins/repair/desk.py)
    __default_sort__ = "-reported_at"  # every order: the newest first (never old ones on top)
    # the list opens with the open orders of my branch (an engineer: his own), urgent
    # first (R9), then the newest (plugins/repair/lists.py)
    __default_filter__ = staticmethod(lists.work_orders)
    __workflow_target__ = staticmethod(lists.target_of)  # where a kanban move leads
    __card_fields__ = ("number", "customer_id", "deadline_at", "engineer_id")
    __desk_views__ = ((N_("Dispatch board"), "/desk/repair_work_order/board",
                       "repair_work_order.read"),
                      # the engineer's phone page (phone.py): his jobs today
                      (N_("My jobs on the phone"), "/desk/repair/phone",
                       "repair_work_order.arrive"))
    # the default filter's order (lists.WORK_ORDER_SORT) keeps an index (repair_0004); jobs
    # per branch and period (the complaint rate, complaints_glue.py) another (repair_0006,
    # widened by repair_0011)
    # lists by page (kernel.keyset, repair_0007): the default filter's order within a
    # branch, and the arrival deadline (a sort and a filter) in a branch and overall
    __table_args__ = (Index(None, "urgent", "reported_at"),  # ix_repair_work_order_urgent
                      # a branch's orders of a period, with what their deadline
                      # compliance reads (the dashboard's twelve weeks, the complaint
                      # rate's jobs): read from the index alone (repair_0011)
                      Index("ix_repair_work_order_branch_period", "branch_id",
                            "reported_at", "deadline_at", "arrived_at", "deadline_met",
                            "status"),
                      Index("ix_repair_work_order_branch_urgent", "branch_id", "urgent",
                            "reported_at"),
                      Index("ix_repair_work_order_deadline", "deadline_at"),
                      Index("ix_repair_work_order_branch_deadline", "branch_id",
                            "deadline_at"),
                      # the common filters, each in the default order (repair_0007)
                      Index("ix_repair_work_order_status_reported", "status", "reported_at"),
                      Index("ix_repair_work_order_engineer_reported", "engineer_id",
                            "reported_at"),
                      Index("ix_repair_work_order_customer_reported", "customer_id",
                            "reported_at"),
                      # the reports over years of history (plugins/repair/reports.py,
                      # repair_0008): orders open at a past moment, a month's closings
                      # and arrivals
                      Index("ix_repair_work_order_closed", "closed_at", "reported_at"),
                      Index("ix_repair_work_order_cancelled", "cancelled_at"),
                      Index("ix_repair_work_order_arrived", "arrived_at"),
                      # the default filter (open orders of a branch) in its order, over
                      # the open orders only (repair_0010)
                      Index("ix_repair_work_order_open", "branch_id", "urgent",
                            "reported_at", "id", postgresql_where=OPEN_ORDERS,
                            sqlite_where=OPEN_ORDERS),
                      # what the home page's cards and the dispatch board count of a
                      # branch's open orders, read from this index alone (repair_0010)
                      Index("ix_repair_work_order_open_state", "branch_id", "status",
                            "deadline_at", "arrived_at", "paused_at", "engineer_id",
                            "appointment_at", "partner_outlet",
                            postgresql_where=OPEN_ORDERS, sqlite_where=OPEN_ORDERS))
    __list_columns__ = ("number", "urgent", "status", "category", "customer_id",
                        "serial_no", "reported_at", "deadline_at", "engineer_id")
    __search__ = ("number", "contact_name", "phone", "serial_no", "model",
                  "fault_description")
    # the form as a document (kernel/web/desk/document.py): status bar, header, sections
    __workflow__ = "status"
    __workflow_side__ = ("quoted", "waiting_parts", "hard_to_repair", "ready_for_pickup",
                         "cancelled")
    __header__ = ("number", "customer_id", ("model", "serial_no"), "category",
                  ("deadline_at", "deadline", "arrived_at", "closed_at", "cancelled_at"),
                  "engineer_id")
    __technical__ = ("overdue_flagged_at", "promise_flagged_at")
    __groups__ = (
        (N_("Customer and machine"), ("customer_id", "contact_name", "phone", "address",
                                      "equipment_id", "model", "serial_no", "contract_id")),
        (N_("Fault"), ("reported_at", "channel", "service_mode", "urgent", "fault_description",
                       "fault_code", "category", "category_basis", "category_reason",
                       "exclusion", "earlier_order_id")),
        (N_("Dispatch and deadline"), ("branch_id", "engineer_id", "partner_outlet",
                                       "dispatched_at", "appointment_at", "deadline_at",
                                       "paused_at", "pause_reason", "paused_minutes",
                                       "arrived_at", "deadline_met", "missed_minutes",
                                       "promised_at")),
        (N_("Diagnosis and quote"), ("diagnosis", "diagnosed_at", "quote_labour",
                                     "quote_parts", "quote_travel", "quote_total",
                                     "quote_status", "quoted_at", "quote_decided_at")),
        (N_("Repair report"), ("started_at", "report_fault", "report_cause", "report_method",
                               "completed_at")),
        (N_("Review and close"), ("audit_result", "audited_at", "audited_by_id", "audit_note",
                                  "closed_at", "cancelled_at", "cancel_reason",
                                  "reopen_count")),
    )
    __labels__ = {
        "number": N_("Number"), "customer_id": N_("Customer"),
        "equipment_id": N_("Equipment"), "model": N_("Model"), "serial_no": N_("Serial number"),
        "contact_name": N_("Contact"), "phone": N_("Phone"), "address": N_("Address"),
        "channel": N_("Channel"), "service_mode": N_("Service mode"),
        "fault_description": N_("Fault description"), "fault_code": N_("Fault code"),
        "reported_at": N_("Reported at"), "category": N_("Category"),
        "category_basis": N_("Category basis"), "category_reason": N_("Category reason"),
        "exclusion": N_("Warranty exclusion"), "contract_id": N_("Maintenance contract"),
        "earlier_order_id": N_("Earlier order"), "urgent": N_("Urgent"),
        "status": N_("Status"), "deadline_at": N_("Arrival deadline"),
        "paused_at": N_("Clock paused at"), "pause_reason": N_("Pause reason"),
        "paused_minutes": N_("Paused working minutes"), "arrived_at": N_("Arrived at"),
        "deadline_met": N_("Deadline met"), "missed_minutes": N_("Missed by (working minutes)"),
        "engineer_id": N_("Engineer"), "partner_outlet": N_("Partner outlet"),
        "dispatched_at": N_("Dispatched at"), "appointment_at": N_("Appointment"),
        "diagnosis": N_("Diagnosis"), "diagnosed_at": N_("Diagnosed at"),
        "quote_labour": N_("Quote: labour"), "quote_parts": N_("Quote: parts"),
        "quote_travel": N_("Quote: travel"), "quote_total": N_("Quote: total"),
        "quote_status": N_("Quote status"), "quoted_at": N_("Quoted at"),
        "quote_decided_at": N_("Quote decided at"), "started_at": N_("Repair started at"),
        "report_fault": N_("Report: fault"), "report_cause": N_("Report: cause"),
        "report_method": N_("Report: method"), "completed_at": N_("Completed at"),
        "audit_result": N_("Review"), "audited_at": N_("Reviewed at"),
        "audit_note": N_("Review note"), "audited_by_id": N_("Reviewed by"),
        "closed_at": N_("Closed at"),
        "cancelled_at": N_("Cancelled at"), "cancel_reason": N_("Cancel reason"),
        "reopen_count": N_("Reopened"),
        "overdue_flagged_at": N_("Flagged overdue at"), "promised_at": N_("Promised for"),
        "promise_flagged_at": N_("Reported late at"),
    }

    number: Mapped[str] = mapped_column(String(40), unique=True)
    # who and what (R1); the contact, phone and address are copied at registration
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    equipment_id: Mapped[int | None] = mapped_column(ForeignKey("customer_equipment.id"),
                                                     index=True)
    model: Mapped[str | None] = mapped_column(String(150))
    serial_no: Mapped[str | None] = mapped_column(String(100), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(String(300))
    channel: Mapped[Channel] = mapped_column(choice_type(Channel, "channel"))
    service_mode: Mapped[ServiceMode] = mapped_column(choice_type(ServiceMode, "service_mode"))
    fault_description: Mapped[str] = mapped_column(Text)
    fault_code: Mapped[str | None] = mapped_column(String(50))
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    # category (R3–R5)
    category: Mapped[Category] = mapped_column(choice_type(Category, "category"))
    category_basis: Mapped[Basis] = mapped_column(choice_type(Basis, "category_basis"))
    category_reason: Mapped[str | None] = mapped_column(String(300))
    exclusion: Mapped[Exclusion | None] = mapped_column(choice_type(Exclusion, "exclusion"))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("repair_contract.id"),
                                                    index=True)
    earlier_order_id: Mapped[int | None] = mapped_column(ForeignKey("repair_work_order.id"),
                                                         index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[Status] = mapped_column(choice_type(Status, "status"), default=Status.PENDING,
                                           index=True)
    # the arrival deadline (R6, R8)
    deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    pause_reason: Mapped[str | None] = mapped_column(String(300))
    paused_minutes: Mapped[int] = mapped_column(Integer, default=0)
    arrived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    deadline_met: Mapped[bool | None] = mapped_column(Boolean)
    missed_minutes: Mapped[int | None] = mapped_column(Integer)
    # dispatch (R7)
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"), index=True)
    partner_outlet: Mapped[str | None] = mapped_column(String(200))
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    appointment_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # diagnosis and quote (R10, R11)
    diagnosis: Mapped[str | None] = mapped_column(Text)
    diagnosed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    quote_labour: Mapped[Decimal | None] = mapped_column(Money)
    quote_parts: Mapped[Decimal | None] = mapped_column(Money)
    quote_travel: Mapped[Decimal | None] = mapped_column(Money)
    quote_total: Mapped[Decimal | None] = mapped_column(Money)
    quote_status: Mapped[QuoteStatus] = mapped_column(choice_type(QuoteStatus, "quote_status"),
                                                      default=QuoteStatus.NONE)
    quoted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    quote_decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # repair and report (R12–R16)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    report_fault: Mapped[str | None] = mapped_column(Text)
    report_cause: Mapped[str | None] = mapped_column(Text)
    report_method: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    audit_result: Mapped[AuditResult | None] = mapped_column(choice_type(AuditResult,
                                                                   "audit_result"))
    audited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    audited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    audit_note: Mapped[str | None] = mapped_column(String(500))
    # the end
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # overdue (R8) and carry-in promise (R13, R15): flagged once by ``repair.flag_overdue``
    overdue_flagged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    promised_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    promise_flagged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    customer = relationship(lambda: Customer)
    equipment = relationship(lambda: CustomerEquipment)
    engineer = relationship(lambda: Employee)
    branch = relationship(lambda: Branch)
    contract: Mapped[MaintenanceContract | None] = relationship(lambda: MaintenanceContract)
    earlier_order: Mapped[WorkOrder | None] = relationship(
        lambda: WorkOrder, remote_side=lambda: WorkOrder.id)
    lines: Mapped[list[WorkOrderLine]] = relationship(lambda: WorkOrderLine,
        back_populates="order", order_by=lambda: WorkOrderLine.id)
    labour: Mapped[list[LabourEntry]] = relationship(lambda: LabourEntry,
        back_populates="order", order_by=lambda: LabourEntry.id)
    history: Mapped[list[StatusChange]] = relationship(lambda: StatusChange,
        back_populates="order", order_by=lambda: StatusChange.id)
    unit_log: Mapped[list[UnitLog]] = relationship(lambda: UnitLog,
        back_populates="order", order_by=lambda: UnitLog.id)

    @property
    def active_lines(self) -> list[WorkOrderLine]:
        """Part lines not given back."""
        return [line for line in self.lines if line.returned_at is None]

    @property
    def parts_cost(self) -> Decimal:
        """Cost of the parts used (quantity × unit cost of the lines not given back)."""
        return sum((line.amount for line in self.active_lines), Decimal("0.00"))

    @property
    def labour_minutes(self) -> int:
        return sum(entry.minutes for entry in self.labour)


@all_columns_readonly
class WorkOrderLine(IdMixin, TimestampMixin, Base):
    """A part used on a work order (free text, or an inventory item when inventory runs)."""

    __tablename__ = "repair_work_order_line"
    __branch_parent__ = ("order_id", "repair_work_order")  # seen with its order
    __title__ = N_("Work order part")
    __permission__ = "repair_work_order"
    __deletable__ = False
    __list_columns__ = ("order_id", "description", "quantity", "unit_cost", "returned_at")
    __search__ = ("description", "part_code")
    __lines_of__ = ("order_id", "repair_work_order")  # a table on the order's form
    __line_columns__ = ("description", "part_code", "quantity", "unit_cost", "returned_at",
                        "return_reason")
    __line_action__ = "add_part"  # the order's action that adds a line
    __row_actions__ = (("return_part", "line_id"),)  # the order's action for one line
    __labels__ = {"order_id": N_("Work order"), "description": N_("Part"),
                  "part_code": N_("Part code"), "quantity": N_("Quantity"),
                  "unit_cost": N_("Unit cost"), "returned_at": N_("Returned at"),
                  "return_reason": N_("Return reason"),
                  "unit_price": N_("Customer unit price")}

    order_id: Mapped[int] = mapped_column(ForeignKey("repair_work_order.id"), index=True)
    description: Mapped[str] = mapped_column(String(200))
    part_code: Mapped[str | None] = mapped_column(String(50))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_cost: Mapped[Decimal] = mapped_column(Money)
    returned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    return_reason: Mapped[str | None] = mapped_column(String(300))
    # the customer's price per unit, when the quote priced the line (R11, R27: billing's
    # answer to ``repair_quote_requested``); None for lines the quote priced as a lump
    unit_price: Mapped[Decimal | None] = mapped_column(Money)

    order: Mapped[WorkOrder] = relationship(lambda: WorkOrder, back_populates="lines")

    @property
    def amount(self) -> Decimal:
        return (self.unit_cost * self.quantity).quantize(Decimal("0.01"))


@all_columns_readonly
class LabourEntry(IdMixin, TimestampMixin, Base):
    """Working time of an engineer on a work order (the hours on the repair card)."""

    __tablename__ = "repair_labour_entry"
    __branch_parent__ = ("order_id", "repair_work_order")  # seen with its order
    __title__ = N_("Labour entry")
    __permission__ = "repair_work_order"
    __deletable__ = False
    __list_columns__ = ("order_id", "employee_id", "work_date", "minutes", "note")
    __search__ = ("note",)
    __lines_of__ = ("order_id", "repair_work_order")
    __line_action__ = "add_labour"
    __labels__ = {"order_id": N_("Work order"), "employee_id": N_("Engineer"),
                  "work_date": N_("Date"), "minutes": N_("Minutes"), "note": N_("Note")}

    order_id: Mapped[int] = mapped_column(ForeignKey("repair_work_order.id"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    work_date: Mapped[dt.date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(300))

    order: Mapped[WorkOrder] = relationship(lambda: WorkOrder, back_populates="labour")
    employee = relationship(lambda: Employee)

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.minutes) / 60).quantize(Decimal("0.01"))


@all_columns_readonly
class StatusChange(IdMixin, BranchMixin, Base):
    """One step in a work order's life: registration, each status change, re-dispatch,
    pauses of the deadline clock, arrival, reviews, reopening; who, when and why."""

    __tablename__ = "repair_status_change"
    # seen with its order, whose branch it carries (kernel.branch_carry, repair_0007):
    # scoped by its own column, never through a subquery on the orders
    __branch_parent__ = ("order_id", "repair_work_order")
    # an order's history by its order and in id order (repair_0009): SQLite, which plans
    # without statistics, took the branch's (branch_id, id) for the list of one order's
    # changes when the order's own index could not give their order too
    __table_args__ = (Index("ix_repair_status_change_branch", "branch_id", "id"),
                      Index("ix_repair_status_change_order", "order_id", "id"))
    __title__ = N_("Work order history")
    __permission__ = "repair_work_order"
    __deletable__ = False
    __list_columns__ = ("order_id", "at", "event", "from_status", "to_status", "actor",
                        "reason")
    __search__ = ("event", "actor", "reason")
    __labels__ = {"order_id": N_("Work order"), "at": N_("When"), "event": N_("Event"),
                  "from_status": N_("From"), "to_status": N_("To"), "actor": N_("Who"),
                  "reason": N_("Reason"), "detail": N_("Detail")}

    order_id: Mapped[int] = mapped_column(ForeignKey("repair_work_order.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)  # a day's events
    event: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[Status | None] = mapped_column(choice_type(Status, "from_status"))
    to_status: Mapped[Status] = mapped_column(choice_type(Status, "to_status"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(500))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    # the order's (filled by the kernel); one index with the id (above), none of its own
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"))

    order: Mapped[WorkOrder] = relationship(lambda: WorkOrder, back_populates="history")


@all_columns_readonly
class MaintenanceContract(IdMixin, TimestampMixin, CompanyMixin, BranchMixin, Base):
    """A maintenance contract (保养合同, R20): equipment covered for a period."""

    __tablename__ = "repair_contract"
    __title__ = N_("Maintenance contract")
    __deletable__ = False
    __list_columns__ = ("number", "customer_id", "start_date", "end_date", "visits_included",
                        "fee")
    __search__ = ("number", "note")
    __labels__ = {"number": N_("Contract number"), "customer_id": N_("Customer"),
                  "start_date": N_("Start"), "end_date": N_("End"),
                  "visits_included": N_("Visits included"), "fee": N_("Contract fee"),
                  "note": N_("Note"), "cancelled_at": N_("Cancelled at"),
                  "expiry_notice_at": N_("Expiry notice issued at")}
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    number: Mapped[str] = mapped_column(String(50))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date, index=True)
    visits_included: Mapped[int | None] = mapped_column(Integer)
    fee: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    note: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: when the expiry notice (保养到期通知书, R20) was issued; set once
    expiry_notice_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    customer = relationship(lambda: Customer)
    items: Mapped[list[ContractEquipment]] = relationship(lambda: ContractEquipment,
        back_populates="contract", order_by=lambda: ContractEquipment.id)


@all_columns_readonly
class ContractEquipment(IdMixin, TimestampMixin, Base):
    """A machine a maintenance contract covers."""

    __tablename__ = "repair_contract_equipment"
    __branch_parent__ = ("contract_id", "repair_contract")
    __title__ = N_("Contract equipment")
    __permission__ = "repair_contract"
    __deletable__ = False
    __list_columns__ = ("contract_id", "equipment_id")
    __lines_of__ = ("contract_id", "repair_contract")
    __labels__ = {"contract_id": N_("Maintenance contract"), "equipment_id": N_("Equipment")}
    __table_args__ = (UniqueConstraint("contract_id", "equipment_id"),)

    contract_id: Mapped[int] = mapped_column(ForeignKey("repair_contract.id"), index=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("customer_equipment.id"), index=True)

    contract: Mapped[MaintenanceContract] = relationship(lambda: MaintenanceContract,
                                                         back_populates="items")
    equipment = relationship(lambda: CustomerEquipment)


class UnitDirection(enum.StrEnum):
    """A line of the product in/out register (R13)."""

    RECEIVED = "received"
    RETURNED = "returned"


UNIT_LABELS = (N_("received"), N_("returned"))


@all_columns_readonly
class UnitLog(IdMixin, TimestampMixin, Base):
    """The product in/out register (客户商品进出登记簿, R13): a customer's unit taken in for
    repair, or handed back; when, who, in what condition."""

    __tablename__ = "repair_unit_log"
    __branch_parent__ = ("order_id", "repair_work_order")  # seen with its order
    __title__ = N_("Product in/out register")
    __permission__ = "repair_work_order"
    __deletable__ = False
    __default_sort__ = "-at"
    __list_columns__ = ("order_id", "direction", "at", "actor", "counterpart", "condition")
    __search__ = ("actor", "counterpart", "condition")
    __lines_of__ = ("order_id", "repair_work_order")
    __line_order__ = "at"
    __labels__ = {"order_id": N_("Work order"), "direction": N_("In/out"), "at": N_("When"),
                  "actor": N_("Recorded by"), "counterpart": N_("Handed over by/to"),
                  "condition": N_("Condition")}

    order_id: Mapped[int] = mapped_column(ForeignKey("repair_work_order.id"), index=True)
    direction: Mapped[UnitDirection] = mapped_column(choice_type(UnitDirection, "direction"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor: Mapped[str] = mapped_column(String(100))
    counterpart: Mapped[str | None] = mapped_column(String(100))
    condition: Mapped[str | None] = mapped_column(String(500))

    order: Mapped[WorkOrder] = relationship(lambda: WorkOrder, back_populates="unit_log")


class AppointmentStatus(enum.StrEnum):
    """Where an appointment with the customer stands (R7)."""

    BOOKED = "booked"
    KEPT = "kept"  # the engineer arrived
    RESCHEDULED = "rescheduled"  # replaced by a new booking (another time or engineer)
    CANCELLED = "cancelled"  # the order was cancelled, or re-dispatched without a time


@all_columns_readonly
class Appointment(IdMixin, TimestampMixin, CompanyMixin, BranchMixin, Base):
    """A visit booked with the customer when an order is dispatched (R7): who comes, when.
    Re-dispatching keeps the former booking as ``rescheduled``; the arrival keeps it."""

    __tablename__ = "repair_appointment"
    __table_args__ = (Index("ix_repair_appointment_branch_starts", "branch_id", "starts_at"),)
    __title__ = N_("Customer appointment")
    __deletable__ = False
    __default_sort__ = "starts_at"
    __default_filter__ = lists.APPOINTMENTS  # from today on, never last October first
    __list_columns__ = ("starts_at", "order_id", "engineer_id", "partner_outlet", "status",
                        "arrived_at")
    __search__ = ("partner_outlet", "note")
    __lines_of__ = ("order_id", "repair_work_order")
    __line_columns__ = ("starts_at", "engineer_id", "partner_outlet", "status", "arrived_at",
                        "note")
    __line_order__ = "starts_at"
    __labels__ = {"order_id": N_("Work order"), "engineer_id": N_("Engineer"),
                  "partner_outlet": N_("Partner outlet"), "starts_at": N_("Appointment"),
                  "status": N_("Status"), "actor": N_("Booked by"), "note": N_("Note"),
                  "arrived_at": N_("Arrived at"), "closed_at": N_("Closed at")}

    order_id: Mapped[int] = mapped_column(ForeignKey("repair_work_order.id"), index=True)
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"), index=True)
    partner_outlet: Mapped[str | None] = mapped_column(String(200))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[AppointmentStatus] = mapped_column(
        choice_type(AppointmentStatus, "appointment_status"), default=AppointmentStatus.BOOKED,
        index=True)
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(300))
    arrived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: when it stopped being booked (kept, rescheduled, cancelled)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[WorkOrder] = relationship(lambda: WorkOrder)
    engineer = relationship(lambda: Employee)


class CallbackStatus(enum.StrEnum):
    """The callback task after a closed job (R19)."""

    OPEN = "open"
    DONE = "done"  # the survey is answered
    UNREACHABLE = "unreachable"  # no answer after the set number of attempts
    DECLINED = "declined"  # the customer did not want to answer


class SurveyChannel(enum.StrEnum):
    """How the survey answers came in (R19)."""

    PHONE = "phone"  # staff called back and typed the answers
    CARD = "card"  # the paper survey card came back
    LINK = "link"  # the customer answered through the signed link (QR code)


VOCABULARY_LABELS = (N_("booked"), N_("kept"), N_("rescheduled"), N_("open"), N_("done"),
                     N_("unreachable"), N_("declined"), N_("card"), N_("link"),
                     N_("random"), N_("manual"))
RATINGS = ("rating_attitude", "rating_skill", "rating_arrival", "rating_promise")


def _rating(name: str) -> CheckConstraint:
    return CheckConstraint(f"{name} IS NULL OR {name} BETWEEN 1 AND 4", name=name)


@all_columns_readonly
class Callback(IdMixin, TimestampMixin, CompanyMixin, BranchMixin, Base):
    """The callback task every closed job gets (R19), and the customer's survey: four
    ratings on four levels (4 very satisfied … 1 dissatisfied) and comments. One per
    order; the answers are given once."""

    __tablename__ = "repair_callback"
    __title__ = N_("Callback and survey")
    __deletable__ = False
    __default_sort__ = "due_at"
    __list_columns__ = ("order_id", "engineer_id", "due_at", "status", "attempts",
                        "rating_attitude", "rating_skill", "rating_arrival", "rating_promise")
    __search__ = ("comments", "respondent", "note")
    __workflow__ = "status"
    __workflow_side__ = ("unreachable", "declined")
    __header__ = ("order_id", "order_id.customer_id", "order_id.contact_name", "order_id.phone",
                  "due_at", "engineer_id")
    __lines_of__ = ("order_id", "repair_work_order")
    # the customer to call, from the order: name and phone
    __line_columns__ = ("status", "due_at", "order_id.customer_id", "order_id.contact_name",
                        "order_id.phone", "attempts", "answered_at", "rating_attitude",
                        "rating_skill", "rating_arrival", "rating_promise")
    __labels__ = {"order_id": N_("Work order"), "engineer_id": N_("Engineer"),
                  "due_at": N_("Call back by"), "status": N_("Status"),
                  "attempts": N_("Attempts"), "last_attempt_at": N_("Last attempt"),
                  "note": N_("Note"), "channel": N_("Answered by"),
                  "rating_attitude": N_("Service attitude"),
                  "rating_skill": N_("Technical skill"),
                  "rating_arrival": N_("Arrival time"),
                  "rating_promise": N_("Keeping promises"), "comments": N_("Comments"),
                  "respondent": N_("Respondent"), "answered_at": N_("Answered at"),
                  "recorded_by": N_("Recorded by"), "link_sent_at": N_("Survey link sent at"),
                  "link_sent_to": N_("Survey link sent to")}
    __table_args__ = (UniqueConstraint("order_id"), *(_rating(name) for name in RATINGS),
                      Index("ix_repair_callback_branch_due", "branch_id", "due_at"))

    order_id: Mapped[int] = mapped_column(ForeignKey("repair_work_order.id"))
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"), index=True)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[CallbackStatus] = mapped_column(
        choice_type(CallbackStatus, "callback_status"), default=CallbackStatus.OPEN, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(500))
    # the survey (R19)
    channel: Mapped[SurveyChannel | None] = mapped_column(choice_type(SurveyChannel,
                                                                "survey_channel"))
    rating_attitude: Mapped[int | None] = mapped_column(Integer)
    rating_skill: Mapped[int | None] = mapped_column(Integer)
    rating_arrival: Mapped[int | None] = mapped_column(Integer)
    rating_promise: Mapped[int | None] = mapped_column(Integer)
    comments: Mapped[str | None] = mapped_column(Text)
    respondent: Mapped[str | None] = mapped_column(String(100))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    recorded_by: Mapped[str | None] = mapped_column(String(100))
    link_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    link_sent_to: Mapped[str | None] = mapped_column(String(200))

    order: Mapped[WorkOrder] = relationship(lambda: WorkOrder)
    engineer = relationship(lambda: Employee)

    @property
    def ratings(self) -> tuple[int | None, ...]:
        """(attitude, skill, arrival time, keeping promises)."""
        return tuple(getattr(self, name) for name in RATINGS)

    @property
    def score(self) -> Decimal | None:
        """The mean of the four ratings (1–4), None before the answers."""
        given = [r for r in self.ratings if r is not None]
        return (Decimal(sum(given)) / len(given)).quantize(Decimal("0.01")) if given else None


class CheckStatus(enum.StrEnum):
    """A quality spot check (R17)."""

    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"


class DrawReason(enum.StrEnum):
    """Why a job was spot-checked: drawn by the daily share, or chosen by a supervisor."""

    RANDOM = "random"
    MANUAL = "manual"


@all_columns_readonly
class QualityCheck(IdMixin, TimestampMixin, CompanyMixin, BranchMixin, Base):
    """A supervisor's spot check of a completed job (R17): drawn at random from a share of
    the day's completed jobs, or chosen; a failed check sends the job back for rework."""

    __tablename__ = "repair_quality_check"
    __table_args__ = (Index("ix_repair_quality_check_branch_drawn", "branch_id", "drawn_at"),)
    __title__ = N_("Quality spot check")
    __deletable__ = False
    __default_sort__ = "-drawn_at"
    __list_columns__ = ("order_id", "engineer_id", "drawn_at", "reason", "status",
                        "checked_at", "findings")
    __search__ = ("findings", "checked_by")
    __labels__ = {"order_id": N_("Work order"), "engineer_id": N_("Engineer"),
                  "drawn_at": N_("Drawn at"), "reason": N_("Drawn by"),
                  "status": N_("Result"), "checked_at": N_("Checked at"),
                  "checked_by": N_("Checked by"), "findings": N_("Findings"),
                  "drawn_by": N_("Chosen by")}

    order_id: Mapped[int] = mapped_column(ForeignKey("repair_work_order.id"), index=True)
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"), index=True)
    drawn_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    reason: Mapped[DrawReason] = mapped_column(choice_type(DrawReason, "draw_reason"))
    drawn_by: Mapped[str] = mapped_column(String(100))
    status: Mapped[CheckStatus] = mapped_column(choice_type(CheckStatus, "check_status"),
                                                default=CheckStatus.PENDING, index=True)
    checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    checked_by: Mapped[str | None] = mapped_column(String(100))
    findings: Mapped[str | None] = mapped_column(Text)

    order: Mapped[WorkOrder] = relationship(lambda: WorkOrder)
    engineer = relationship(lambda: Employee)


#: the plugin's entities, in the order their tables are created
ENTITIES = [MaintenanceContract, ContractEquipment, WorkOrder, WorkOrderLine, LabourEntry,
            StatusChange, UnitLog, Appointment, Callback, QualityCheck]

"""The billing plugin's entities; tables are prefixed ``billing_``.

Price rules (labour rates, parts markups, travel zones, commission rates) are company
master data written through the generic API and desk; a rule names the branch it is for
(``for_branch_id``) or none (the site's default). Invoices, credit notes and payments are
documents (:mod:`kernel.lifecycle`): drafts change freely, submitted ones never, and
cancelling posts reversals. What a submitted document changes elsewhere (an invoice's
paid and outstanding amounts, a payment's unallocated credit) is written by the services
in :mod:`plugins.billing.invoices` and :mod:`plugins.billing.payments` only, under row
locks. Amounts are :class:`kernel.Money` (exact, integer fen in the database);
percentages use the same type (two decimals, ``15.00`` = 15 %).

Nothing here refers to another plugin's tables by foreign key: work orders and contracts
are named by table and id (``order_id``, ``contract_id``, record links), so billing
runs alone.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    Boolean,
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
from kernel.models import Branch, Customer, Employee, Grade

ZERO = Decimal("0.00")

# ---------------------------------------------------------------------------
# choices
# ---------------------------------------------------------------------------


class Difficulty(enum.StrEnum):
    """How hard a job is (R27): with the engineer's grade it sets the labour rate."""

    MAJOR = "major"
    MEDIUM = "medium"
    MINOR = "minor"
    INSTALL = "install"
    OTHER_SERVICE = "other_service"


class ServiceType(enum.StrEnum):
    """What business an invoice line or a commission comes from (R28: repair, install and
    outsourced jobs each have their own commission rate)."""

    REPAIR = "repair"
    INSTALL = "install"
    OUTSOURCED = "outsourced"
    CONTRACT = "contract"
    TRAINING = "training"
    OTHER_SERVICE = "other_service"


class Item(enum.StrEnum):
    """What an invoice line charges for."""

    LABOUR = "labour_fee"
    PARTS = "parts_fee"
    TRAVEL = "travel_fee"
    CONTRACT_FEE = "contract_fee"
    TRAINING_FEE = "training_fee"
    OTHER_CHARGE = "other_charge"


class InvoiceKind(enum.StrEnum):
    """An invoice, or a credit note that takes (part of) one back."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class PaymentState(enum.StrEnum):
    """How far a submitted invoice is paid."""

    UNPAID = "unpaid"
    PARTLY_PAID = "partly_paid"
    SETTLED = "settled"
    CREDITED = "credited"


class Method(enum.StrEnum):
    """How a payment was made (R27)."""

    CASH = "cash"
    TRANSFER = "bank_transfer"
    CHEQUE = "cheque"


class Frequency(enum.StrEnum):
    """How often a maintenance contract's fee is billed."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class AllocationKind(enum.StrEnum):
    """Why money went to an invoice: a payment, the customer's credit, or the reversal of
    either when the payment was cancelled."""

    PAYMENT = "payment"
    CREDIT = "credit"
    REVERSAL = "reversal"


class CommissionKind(enum.StrEnum):
    """A line of an engineer's commission (R28)."""

    EARNED = "earned"
    DEDUCTION = "deduction"
    REVERSAL = "reversal"


#: enum values shown to users, marked for the message catalogue
ENUM_LABELS = (
    N_("major"), N_("medium"), N_("minor"), N_("install"), N_("other_service"),
    N_("repair"), N_("outsourced"), N_("contract"), N_("training"),
    N_("labour_fee"), N_("parts_fee"), N_("travel_fee"), N_("contract_fee"), N_("training_fee"),
    N_("other_charge"),
    N_("invoice"), N_("credit_note"),
    N_("unpaid"), N_("partly_paid"), N_("settled"), N_("credited"),
    N_("cash"), N_("bank_transfer"), N_("cheque"),
    N_("monthly"), N_("quarterly"), N_("yearly"),
    N_("payment"), N_("credit"), N_("reversal"),
    N_("earned"), N_("deduction"),
)

_RULE_LABELS = {"for_branch_id": N_("For branch (empty: every branch)")}


def _for_branch() -> Mapped[int | None]:
    return mapped_column(ForeignKey("branch.id"), index=True)


# ---------------------------------------------------------------------------
# price rules (R27, R28): company master data, per branch or the site's default
# ---------------------------------------------------------------------------


class LabourRate(IdMixin, TimestampMixin, Base):
    """The labour price of one job by an engineer of a grade at a difficulty (R27)."""

    __tablename__ = "billing_labour_rate"
    __title__ = N_("Labour rate")
    __list_columns__ = ("for_branch_id", "grade", "difficulty", "amount")
    __labels__ = {**_RULE_LABELS, "grade": N_("Engineer grade"),
                  "difficulty": N_("Difficulty"), "amount": N_("Labour price")}
    __table_args__ = (UniqueConstraint("for_branch_id", "grade", "difficulty"),)

    for_branch_id: Mapped[int | None] = _for_branch()
    grade: Mapped[Grade] = mapped_column(choice_type(Grade, "grade"))
    difficulty: Mapped[Difficulty] = mapped_column(choice_type(Difficulty, "difficulty"))
    amount: Mapped[Decimal] = mapped_column(Money)

    for_branch: Mapped[Branch | None] = relationship(lambda: Branch)


class MarkupRule(IdMixin, TimestampMixin, Base):
    """The management markup on parts (R27): purchase cost × (1 + percent / 100), for one
    part category (inventory's category code) or for every part (empty)."""

    __tablename__ = "billing_markup_rule"
    __title__ = N_("Parts markup")
    __list_columns__ = ("for_branch_id", "part_category", "markup_percent")
    __labels__ = {**_RULE_LABELS, "part_category": N_("Part category (empty: every part)"),
                  "markup_percent": N_("Markup %")}
    __table_args__ = (UniqueConstraint("for_branch_id", "part_category"),)

    for_branch_id: Mapped[int | None] = _for_branch()
    part_category: Mapped[str | None] = mapped_column(String(30))
    markup_percent: Mapped[Decimal] = mapped_column(Money)

    for_branch: Mapped[Branch | None] = relationship(lambda: Branch)


class TravelZone(IdMixin, TimestampMixin, Base):
    """A travel fee zone (R27): jobs in the zone are charged its fee; special trips carry
    an amount agreed with the customer instead."""

    __tablename__ = "billing_travel_zone"
    __title__ = N_("Travel zone")
    __list_columns__ = ("code", "name", "for_branch_id", "fee")
    __search__ = ("code", "name")
    __labels__ = {**_RULE_LABELS, "code": N_("Code"), "name": N_("Name"),
                  "fee": N_("Travel fee")}
    __table_args__ = (UniqueConstraint("code"),)

    code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(100))
    for_branch_id: Mapped[int | None] = _for_branch()
    fee: Mapped[Decimal] = mapped_column(Money)

    for_branch: Mapped[Branch | None] = relationship(lambda: Branch)

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


class CommissionRate(IdMixin, TimestampMixin, Base):
    """An engineer's commission for a passed job of a service type (R28): a percentage
    of the job's labour value plus a fixed amount per job."""

    __tablename__ = "billing_commission_rate"
    __title__ = N_("Commission rate")
    __list_columns__ = ("for_branch_id", "service_type", "percent", "per_job")
    __labels__ = {**_RULE_LABELS, "service_type": N_("Service type"),
                  "percent": N_("% of labour value"), "per_job": N_("Amount per job")}
    __table_args__ = (UniqueConstraint("for_branch_id", "service_type"),)

    for_branch_id: Mapped[int | None] = _for_branch()
    service_type: Mapped[ServiceType] = mapped_column(choice_type(ServiceType, "service_type"))
    percent: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    per_job: Mapped[Decimal] = mapped_column(Money, default=ZERO)

    for_branch: Mapped[Branch | None] = relationship(lambda: Branch)


# ---------------------------------------------------------------------------
# what billing keeps about a work order (repair named by table, never imported)
# ---------------------------------------------------------------------------


class OrderTerms(Base):
    """Billing's fields on a work order (``billing.difficulty``, ``billing.travel_zone_id``,
    ``billing.agreed_travel``): one companion row per ``repair_work_order`` record."""

    __tablename__ = "billing_order_terms"
    __expose__ = False  # seen on the work order, not on its own
    __labels__ = {"difficulty": N_("Difficulty"), "travel_zone_id": N_("Travel zone"),
                  "agreed_travel": N_("Agreed travel fee (special trip)")}

    record_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    difficulty: Mapped[Difficulty | None] = mapped_column(choice_type(Difficulty,
                                                                      "difficulty"))
    travel_zone_id: Mapped[int | None] = mapped_column(ForeignKey("billing_travel_zone.id"))
    agreed_travel: Mapped[Decimal | None] = mapped_column(Money)

    travel_zone: Mapped[TravelZone | None] = relationship(lambda: TravelZone)


@all_columns_readonly
class JobCharge(IdMixin, TimestampMixin, CompanyMixin, BranchMixin, Base):
    """What a completed work order is worth (R27): the customer's price (its quote for a
    paid job; nothing for contract, warranty and internal jobs) and the internal cost at
    the price rules, kept for reports; and the invoice that billed it."""

    __tablename__ = "billing_job_charge"
    __title__ = N_("Job charge")
    __operations__ = ()
    __default_sort__ = "-id"
    __list_columns__ = ("order_number", "customer_id", "category", "service_type",
                        "completed_on", "total", "internal_cost", "invoice_id")
    __search__ = ("order_number",)
    __labels__ = {"order_id": N_("Work order id"), "order_number": N_("Work order"),
                  "customer_id": N_("Customer"), "category": N_("Service category"),
                  "service_type": N_("Service type"), "engineer_id": N_("Engineer"),
                  "completed_on": N_("Completed on"), "labour": N_("Labour"),
                  "parts": N_("Parts"), "travel": N_("Travel"), "total": N_("Customer pays"),
                  "internal_cost": N_("Internal cost"), "billable": N_("Billable"),
                  "invoice_id": N_("Invoice"), "branch_id": N_("Branch")}
    __table_args__ = (Index("ix_billing_job_charge_branch_date", "branch_id", "completed_on"),
                      Index("ix_billing_job_charge_unbilled", "customer_id", "completed_on",
                            sqlite_where=text("billable AND invoice_id IS NULL"),
                            postgresql_where=text("billable AND invoice_id IS NULL")))

    order_id: Mapped[int] = mapped_column(Integer, unique=True)
    order_number: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    category: Mapped[str] = mapped_column(String(1))
    service_type: Mapped[ServiceType] = mapped_column(choice_type(ServiceType, "service_type"))
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"))
    completed_on: Mapped[dt.date] = mapped_column(Date)
    labour: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    parts: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    travel: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    labour_value: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    internal_cost: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    billable: Mapped[bool] = mapped_column(Boolean, default=False)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("billing_invoice.id"),
                                                   index=True)

    customer: Mapped[Customer | None] = relationship(lambda: Customer)
    engineer: Mapped[Employee | None] = relationship(lambda: Employee)
    invoice: Mapped[Invoice | None] = relationship(lambda: Invoice)


# ---------------------------------------------------------------------------
# invoices and credit notes
# ---------------------------------------------------------------------------

_DOC_LABELS = {"number": N_("Number"), "branch_id": N_("Branch"), "note": N_("Note"),
               "docstatus": N_("State"), "customer_id": N_("Customer")}


class Invoice(IdMixin, TimestampMixin, CompanyMixin, BranchMixin, SubmittableMixin, Base):
    """An invoice (sales receipt) or a credit note (``kind``) to a customer. Its lines
    carry their net, tax and gross amounts (:mod:`plugins.billing.amounts`); the totals are
    the sums of the lines. Once submitted, ``paid_total``, ``credited_total`` and
    ``outstanding`` move with payments and credit notes — always ``grand_total =
    paid_total + credited_total + outstanding``."""

    __tablename__ = "billing_invoice"
    __title__ = N_("Invoice")
    __naming_series__ = "billing_invoice"
    __default_sort__ = "-id"
    __readonly__ = ("number", "kind", "credit_of_id", "net_total", "tax_total", "grand_total",
                    "credited_total", "paid_total", "outstanding", "payment_state")
    __update_after_submit__ = ("credited_total", "paid_total", "outstanding",
                               "payment_state")
    __list_columns__ = ("number", "kind", "customer_id", "invoice_date", "grand_total",
                        "outstanding", "payment_state", "docstatus")
    __search__ = ("number", "period", "note")
    __header__ = ("number", "kind", "customer_id", ("invoice_date", "due_date"), "period",
                  "source", "credit_of_id", ("tax_rate", "tax_inclusive"), "note")
    __labels__ = {**_DOC_LABELS, "kind": N_("Kind"), "invoice_date": N_("Invoice date"),
                  "due_date": N_("Due date"), "period": N_("Statement month"),
                  "source": N_("For"), "source_entity": N_("For (record type)"),
                  "credit_of_id": N_("Credits invoice"), "tax_rate": N_("VAT rate %"),
                  "tax_inclusive": N_("Prices include VAT"), "net_total": N_("Net total"),
                  "tax_total": N_("VAT"), "grand_total": N_("Total"),
                  "credited_total": N_("Credited"), "paid_total": N_("Paid"),
                  "outstanding": N_("Outstanding"), "payment_state": N_("Payment")}
    __table_args__ = (
        Index(None, "customer_id", "invoice_date"),
        Index("ix_billing_invoice_branch_date", "branch_id", "invoice_date"),
        Index("ix_billing_invoice_open", "customer_id", "invoice_date",
              sqlite_where=text("outstanding <> 0"), postgresql_where=text("outstanding <> 0")),
    )

    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    kind: Mapped[InvoiceKind] = mapped_column(choice_type(InvoiceKind, "invoice_kind"),
                                              default=InvoiceKind.INVOICE)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    #: typed, or today (the local day: :func:`plugins.billing.invoices.fill_defaults`)
    invoice_date: Mapped[dt.date] = mapped_column(Date, default=dt.date.today)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    #: the month a statement collects (``2026-11``); None for other invoices
    period: Mapped[str | None] = mapped_column(String(7))
    source: Mapped[RecordLink | None] = link_column("source")
    credit_of_id: Mapped[int | None] = mapped_column(ForeignKey("billing_invoice.id"),
                                                     index=True)
    tax_rate: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    tax_inclusive: Mapped[bool] = mapped_column(Boolean, default=True)
    net_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    tax_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    grand_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    credited_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    paid_total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    outstanding: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    payment_state: Mapped[PaymentState] = mapped_column(
        choice_type(PaymentState, "payment_state"), default=PaymentState.UNPAID)
    note: Mapped[str | None] = mapped_column(Text)

    customer: Mapped[Customer] = relationship(lambda: Customer)
    branch: Mapped[Branch] = relationship(lambda: Branch)
    lines: Mapped[list[InvoiceLine]] = relationship(
        lambda: InvoiceLine, back_populates="invoice", cascade="all, delete-orphan",
        order_by=lambda: InvoiceLine.id)
    credit_of: Mapped[Invoice | None] = relationship(
        lambda: Invoice, remote_side=lambda: [Invoice.id], foreign_keys=lambda: [
            Invoice.credit_of_id])

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE


class InvoiceLine(IdMixin, Base):
    """One line of an invoice: quantity × unit price less the discount, with its VAT.
    ``net``, ``tax`` and ``amount`` (gross) are computed (never typed); ``internal_cost``
    keeps what the line cost the company (parts at cost) for reports."""

    __tablename__ = "billing_invoice_line"
    __title__ = N_("Invoice line")
    __permission__ = "billing_invoice"
    __submittable_parent__ = ("invoice_id", "billing_invoice")
    __branch_parent__ = ("invoice_id", "billing_invoice")
    __lines_of__ = ("invoice_id", "billing_invoice")
    __readonly__ = ("net", "tax", "amount")
    __line_columns__ = ("item", "description", "quantity", "unit_price", "discount_percent",
                        "amount")
    __labels__ = {"invoice_id": N_("Invoice"), "item": N_("Item"),
                  "service_type": N_("Service type"), "description": N_("Description"),
                  "quantity": N_("Quantity"), "unit_price": N_("Unit price"),
                  "discount_percent": N_("Discount %"), "net": N_("Net"), "tax": N_("VAT"),
                  "amount": N_("Amount"), "internal_cost": N_("Internal cost"),
                  "source": N_("For"), "source_entity": N_("For (record type)")}

    invoice_id: Mapped[int] = mapped_column(ForeignKey("billing_invoice.id"), index=True)
    item: Mapped[Item] = mapped_column(choice_type(Item, "item"), default=Item.OTHER_CHARGE)
    service_type: Mapped[ServiceType] = mapped_column(
        choice_type(ServiceType, "service_type"), default=ServiceType.OTHER_SERVICE)
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(Money, default=Decimal("1.00"))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    discount_percent: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    net: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    tax: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    amount: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    internal_cost: Mapped[Decimal | None] = mapped_column(Money)
    source: Mapped[RecordLink | None] = link_column("source")

    invoice: Mapped[Invoice] = relationship(lambda: Invoice, back_populates="lines")


# ---------------------------------------------------------------------------
# payments
# ---------------------------------------------------------------------------


class Payment(IdMixin, TimestampMixin, CompanyMixin, BranchMixin, SubmittableMixin, Base):
    """Money received from a customer (R27): cash, transfer or cheque, at the cashier or
    collected on site by the engineer (``on_site``, handed in later). On submit it pays
    the invoices its references name (or the customer's oldest open invoices); what is
    left is the customer's credit (``unallocated``)."""

    __tablename__ = "billing_payment"
    __title__ = N_("Payment")
    __naming_series__ = "billing_payment"
    __default_sort__ = "-id"
    __readonly__ = ("number", "allocated", "unallocated", "handed_in_at", "handed_in_by")
    __update_after_submit__ = ("allocated", "unallocated", "handed_in_at", "handed_in_by")
    __list_columns__ = ("number", "customer_id", "paid_on", "method", "amount",
                        "unallocated", "on_site", "docstatus")
    __search__ = ("number", "reference", "note")
    __header__ = ("number", "customer_id", ("paid_on", "method"), "amount", "reference",
                  ("on_site", "collected_by_id"), "job", ("handed_in_at", "handed_in_by"),
                  "note")
    __labels__ = {**_DOC_LABELS, "paid_on": N_("Paid on"), "method": N_("Payment method"),
                  "amount": N_("Amount"), "reference": N_("Reference (cheque, transfer)"),
                  "on_site": N_("Collected on site"), "collected_by_id": N_("Collected by"),
                  "job": N_("Job"), "job_entity": N_("Job (record type)"),
                  "handed_in_at": N_("Handed in at"), "handed_in_by": N_("Received by cashier"),
                  "allocated": N_("Allocated"), "unallocated": N_("Customer credit")}
    __table_args__ = (Index(None, "customer_id", "paid_on"),
                      Index("ix_billing_payment_branch_date", "branch_id", "paid_on"))

    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    paid_on: Mapped[dt.date] = mapped_column(Date, default=dt.date.today)
    method: Mapped[Method] = mapped_column(choice_type(Method, "method"))
    amount: Mapped[Decimal] = mapped_column(Money)
    reference: Mapped[str | None] = mapped_column(String(100))
    on_site: Mapped[bool] = mapped_column(Boolean, default=False)
    collected_by_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"), index=True)
    job: Mapped[RecordLink | None] = link_column("job")
    handed_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    handed_in_by: Mapped[str | None] = mapped_column(String(100))
    allocated: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    unallocated: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    note: Mapped[str | None] = mapped_column(Text)

    customer: Mapped[Customer] = relationship(lambda: Customer)
    branch: Mapped[Branch] = relationship(lambda: Branch)
    collected_by: Mapped[Employee | None] = relationship(lambda: Employee)
    references: Mapped[list[PaymentReference]] = relationship(
        lambda: PaymentReference, cascade="all, delete-orphan",
        order_by=lambda: PaymentReference.id)


class PaymentReference(IdMixin, Base):
    """An invoice a draft payment is meant to pay, and how much of it."""

    __tablename__ = "billing_payment_reference"
    __title__ = N_("Invoice paid")
    __permission__ = "billing_payment"
    __submittable_parent__ = ("payment_id", "billing_payment")
    __branch_parent__ = ("payment_id", "billing_payment")
    __lines_of__ = ("payment_id", "billing_payment")
    __line_columns__ = ("invoice_id", "amount")
    __labels__ = {"payment_id": N_("Payment"), "invoice_id": N_("Invoice"),
                  "amount": N_("Amount")}

    payment_id: Mapped[int] = mapped_column(ForeignKey("billing_payment.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("billing_invoice.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)

    invoice: Mapped[Invoice] = relationship(lambda: Invoice)


@all_columns_readonly
class Allocation(IdMixin, Base):
    """Money of a payment put on an invoice (``amount`` > 0), or taken off again when the
    payment is cancelled (< 0). Written by :mod:`plugins.billing.payments` only: an
    invoice's ``paid_total`` is the sum of its allocations."""

    __tablename__ = "billing_allocation"
    __title__ = N_("Allocation")
    __operations__ = ()
    __permission__ = "billing_payment"
    __branch_parent__ = ("payment_id", "billing_payment")
    __default_sort__ = "-id"
    __list_columns__ = ("payment_id", "invoice_id", "kind", "amount", "at")
    __labels__ = {"payment_id": N_("Payment"), "invoice_id": N_("Invoice"), "kind": N_("Kind"),
                  "amount": N_("Amount"), "at": N_("At")}

    payment_id: Mapped[int] = mapped_column(ForeignKey("billing_payment.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("billing_invoice.id"), index=True)
    kind: Mapped[AllocationKind] = mapped_column(choice_type(AllocationKind,
                                                             "allocation_kind"))
    amount: Mapped[Decimal] = mapped_column(Money)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    payment: Mapped[Payment] = relationship(lambda: Payment)
    invoice: Mapped[Invoice] = relationship(lambda: Invoice)


# ---------------------------------------------------------------------------
# contract fees
# ---------------------------------------------------------------------------


class ContractPlan(IdMixin, TimestampMixin, CompanyMixin, BranchMixin, Base):
    """How a maintenance contract (``repair_contract``, named by id) is billed: its fee
    split evenly over the periods from start to end, each period invoiced once."""

    __tablename__ = "billing_contract_plan"
    __title__ = N_("Contract billing plan")
    __operations__ = ("update",)
    __default_sort__ = "-id"
    __readonly__ = ("contract_id", "contract_number", "customer_id", "start_date", "end_date",
                    "fee", "renewal_of_contract_id")
    __list_columns__ = ("contract_number", "customer_id", "frequency", "start_date",
                        "end_date", "fee", "active")
    __search__ = ("contract_number",)
    __labels__ = {"contract_id": N_("Contract id"), "contract_number": N_("Contract"),
                  "customer_id": N_("Customer"), "frequency": N_("Billed"),
                  "start_date": N_("Start"), "end_date": N_("End"), "fee": N_("Contract fee"),
                  "active": N_("Active"), "renewal_of_contract_id": N_("Renews contract id"),
                  "branch_id": N_("Branch")}

    contract_id: Mapped[int] = mapped_column(Integer, unique=True)
    contract_number: Mapped[str] = mapped_column(String(50))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    frequency: Mapped[Frequency] = mapped_column(choice_type(Frequency, "frequency"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    fee: Mapped[Decimal] = mapped_column(Money)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    renewal_of_contract_id: Mapped[int | None] = mapped_column(Integer)

    customer: Mapped[Customer] = relationship(lambda: Customer)
    periods: Mapped[list[ContractPeriod]] = relationship(
        lambda: ContractPeriod, back_populates="plan", order_by=lambda: ContractPeriod.period_start)


@all_columns_readonly
class ContractPeriod(IdMixin, TimestampMixin, Base):
    """One billed period of a contract plan; the unique (plan, start) pair is what makes
    the scheduled job bill a period once however often it runs."""

    __tablename__ = "billing_contract_period"
    __title__ = N_("Contract period billed")
    __operations__ = ()
    __permission__ = "billing_contract_plan"
    __branch_parent__ = ("plan_id", "billing_contract_plan")
    __lines_of__ = ("plan_id", "billing_contract_plan")
    __line_columns__ = ("period_start", "period_end", "amount", "invoice_id")
    __labels__ = {"plan_id": N_("Contract billing plan"), "period_start": N_("First day"),
                  "period_end": N_("Last day"), "amount": N_("Amount"),
                  "invoice_id": N_("Invoice")}
    __table_args__ = (UniqueConstraint("plan_id", "period_start"),)

    plan_id: Mapped[int] = mapped_column(ForeignKey("billing_contract_plan.id"), index=True)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("billing_invoice.id"))

    plan: Mapped[ContractPlan] = relationship(lambda: ContractPlan, back_populates="periods")
    invoice: Mapped[Invoice | None] = relationship(lambda: Invoice)


# ---------------------------------------------------------------------------
# commission (R28)
# ---------------------------------------------------------------------------


@all_columns_readonly
class CommissionEntry(IdMixin, TimestampMixin, CompanyMixin, BranchMixin, Base):
    """A line of an engineer's commission: earned by a job that passed audit, a named
    deduction (missed deadline, poor rating) or the reversal of what a job earned (failed
    spot check, reopened). ``code`` keys it on the job and its completion, so an event
    received twice writes nothing new."""

    __tablename__ = "billing_commission_entry"
    __title__ = N_("Commission line")
    __operations__ = ()
    __default_sort__ = "-id"
    __list_columns__ = ("month", "engineer_id", "order_number", "kind", "service_type",
                        "amount", "reason")
    __search__ = ("order_number", "reason")
    __labels__ = {"engineer_id": N_("Engineer"), "order_id": N_("Work order id"),
                  "order_number": N_("Work order"), "completion": N_("Completion"),
                  "code": N_("Key"), "kind": N_("Kind"), "service_type": N_("Service type"),
                  "month": N_("Month"), "base": N_("Labour value"), "rate": N_("Rate %"),
                  "amount": N_("Amount"), "reason": N_("Reason"), "at": N_("At"),
                  "branch_id": N_("Branch")}
    __table_args__ = (UniqueConstraint("order_id", "completion", "code"),
                      Index(None, "engineer_id", "month"),
                      Index("ix_billing_commission_branch_month", "branch_id", "month"))

    engineer_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))
    order_id: Mapped[int] = mapped_column(Integer)
    order_number: Mapped[str] = mapped_column(String(40))
    completion: Mapped[int] = mapped_column(Integer, default=1)
    code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[CommissionKind] = mapped_column(choice_type(CommissionKind,
                                                             "commission_kind"))
    service_type: Mapped[ServiceType] = mapped_column(choice_type(ServiceType, "service_type"))
    month: Mapped[dt.date] = mapped_column(Date)
    base: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    rate: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    amount: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(String(300))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    engineer: Mapped[Employee] = relationship(lambda: Employee)


ENTITIES = [LabourRate, MarkupRule, TravelZone, CommissionRate, OrderTerms, JobCharge,
            Invoice, InvoiceLine, Payment, PaymentReference, Allocation, ContractPlan,
            ContractPeriod, CommissionEntry]

"""Master data shared by every module: company, branches, employees, customers, equipment.

Plugins reference these tables by name (``ForeignKey("customer.id")``) and
relationships by the class itself (``relationship(lambda: Customer)``), never by a
bare class name that another plugin's class may share; they never copy them.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Boolean, Date, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kernel.db import Base, BranchMixin, CompanyMixin, IdMixin, TimestampMixin, choice_type
from kernel.i18n import N_


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: VARCHAR + CHECK, storing the member's value."""
    return choice_type(cls, name)


class Zone(enum.StrEnum):
    """Where a branch works: deadlines differ (R6: 6 h urban, 7 h suburban)."""

    URBAN = "urban"
    SUBURBAN = "suburban"


class Grade(enum.StrEnum):
    """Engineer grade: drives labour rates (R27) and dispatch suggestions (R7)."""

    TRAINEE = "trainee"
    REGULAR = "regular"
    SENIOR = "senior"
    EXPERT = "expert"


class Tier(enum.StrEnum):
    """Customer tier."""

    DEALER = "dealer"
    RETAIL_CHAIN = "retail_chain"
    CORPORATE = "corporate"
    INDIVIDUAL = "individual"


#: enum values shown to users, marked for the message catalogue
ENUM_LABELS = (
    N_("urban"), N_("suburban"),
    N_("trainee"), N_("regular"), N_("senior"), N_("expert"),
    N_("dealer"), N_("retail_chain"), N_("corporate"), N_("individual"),
)


class Company(IdMixin, TimestampMixin, Base):
    """The company running the site (letterhead of every printed paper)."""

    __tablename__ = "company"
    __title__ = N_("Company")
    __deletable__ = False

    name: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str | None] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(50))
    tax_id: Mapped[str | None] = mapped_column(String(50))

    branches: Mapped[list[Branch]] = relationship(lambda: Branch, back_populates="company")


class Branch(IdMixin, TimestampMixin, CompanyMixin, Base):
    """A service branch (服务中心 / 分公司) with its zone."""

    __tablename__ = "branch"
    __title__ = N_("Branch")
    __deletable__ = False
    __list_columns__ = ("code", "name", "zone", "phone", "address")
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    zone: Mapped[Zone] = mapped_column(_enum(Zone, "zone"), default=Zone.URBAN)
    address: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(50))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    company: Mapped[Company] = relationship(lambda: Company, back_populates="branches")


class Employee(IdMixin, TimestampMixin, CompanyMixin, BranchMixin, Base):
    """A staff member: engineers carry a grade, skills and a service region."""

    __tablename__ = "employee"
    __title__ = N_("Employee")
    __list_columns__ = ("code", "name", "branch_id", "grade", "service_region", "phone")
    __search__ = ("code", "name", "phone", "service_region")
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(100))
    grade: Mapped[Grade] = mapped_column(_enum(Grade, "grade"), default=Grade.REGULAR)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    service_region: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    branch: Mapped[Branch] = relationship(lambda: Branch)


class Customer(IdMixin, TimestampMixin, CompanyMixin, BranchMixin, Base):
    """A customer of the company; ``branch_id`` is the branch that serves it."""

    __tablename__ = "customer"
    __title__ = N_("Customer")
    __list_columns__ = ("code", "name", "tier", "branch_id", "phone")
    __search__ = ("code", "name", "phone", "email")
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200), index=True)
    tier: Mapped[Tier] = mapped_column(_enum(Tier, "tier"))
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)

    branch: Mapped[Branch] = relationship(lambda: Branch)
    contacts: Mapped[list[CustomerContact]] = relationship(lambda: CustomerContact,
        back_populates="customer", cascade="all, delete-orphan", order_by=lambda: CustomerContact.id
    )
    addresses: Mapped[list[CustomerAddress]] = relationship(lambda: CustomerAddress,
        back_populates="customer", cascade="all, delete-orphan", order_by=lambda: CustomerAddress.id
    )
    equipment: Mapped[list[CustomerEquipment]] = relationship(lambda: CustomerEquipment,
        back_populates="customer", order_by=lambda: CustomerEquipment.id
    )


class CustomerContact(IdMixin, TimestampMixin, Base):
    """A person to call at a customer."""

    __tablename__ = "customer_contact"
    __branch_parent__ = ("customer_id", "customer")
    __title__ = N_("Customer contact")
    __permission__ = "customer"
    __list_columns__ = ("customer_id", "name", "title", "phone", "mobile")
    __lines_of__ = ("customer_id", "customer")  # a table on the customer's form
    __line_columns__ = ("name", "title", "phone", "mobile", "email", "is_primary")

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(50))
    mobile: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(200))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)

    customer: Mapped[Customer] = relationship(lambda: Customer, back_populates="contacts")


class CustomerAddress(IdMixin, TimestampMixin, Base):
    """A service address of a customer (site where equipment stands)."""

    __tablename__ = "customer_address"
    __branch_parent__ = ("customer_id", "customer")
    __title__ = N_("Customer address")
    __permission__ = "customer"
    __list_columns__ = ("customer_id", "label", "address", "district")
    __lines_of__ = ("customer_id", "customer")
    __line_columns__ = ("label", "address", "district", "phone", "is_default")

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(300))
    district: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(50))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    customer: Mapped[Customer] = relationship(lambda: Customer, back_populates="addresses")


class CustomerEquipment(IdMixin, TimestampMixin, CompanyMixin, BranchMixin, Base):
    """A machine a customer owns; the serial number is unique within the company."""

    __tablename__ = "customer_equipment"
    __title__ = N_("Customer equipment")
    __list_columns__ = ("serial_no", "brand", "model", "customer_id", "warranty_end")
    __search__ = ("serial_no", "model", "brand")
    __table_args__ = (UniqueConstraint("company_id", "serial_no"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    address_id: Mapped[int | None] = mapped_column(ForeignKey("customer_address.id"))
    brand: Mapped[str | None] = mapped_column(String(50))
    model: Mapped[str] = mapped_column(String(100))
    serial_no: Mapped[str] = mapped_column(String(100))
    purchase_date: Mapped[dt.date | None] = mapped_column(Date)
    warranty_end: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)

    customer: Mapped[Customer] = relationship(lambda: Customer, back_populates="equipment")
    address: Mapped[CustomerAddress | None] = relationship(lambda: CustomerAddress)

    @property
    def brand_model(self) -> str:
        """Brand and model as one name, the brand left out where the model already starts
        with it ("Canon" + "Canon iR 2206" → "Canon iR 2206", never "Canon Canon iR 2206")."""
        return brand_and_model(self.brand, self.model)

    def in_warranty(self, on: dt.date) -> bool:
        """Whether the manufacturer's warranty covers ``on`` (the report date)."""
        return self.warranty_end is not None and on <= self.warranty_end


def brand_and_model(brand: str | None, model: str | None) -> str:
    """One display name of a machine: the model, preceded by the brand unless the model
    already names it (compared case-insensitively, ignoring spaces around)."""
    brand, model = (brand or "").strip(), (model or "").strip()
    if not brand:
        return model
    if model.casefold().startswith(brand.casefold()):
        return model
    return f"{brand} {model}".strip()


#: the kernel's entities, registered through the kernel's own ``fixdesk_entities`` hook
KERNEL_ENTITIES = [
    Company,
    Branch,
    Employee,
    Customer,
    CustomerContact,
    CustomerAddress,
    CustomerEquipment,
]

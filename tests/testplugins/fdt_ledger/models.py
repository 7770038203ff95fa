"""A submittable document with lines, and the ledger its submit and cancel post to."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kernel import Base, BranchMixin, IdMixin, SubmittableMixin, TimestampMixin


class StockEntry(IdMixin, TimestampMixin, BranchMixin, SubmittableMixin, Base):
    """Goods moved in or out of a branch's store: a draft until submitted."""

    __tablename__ = "fdt_ledger_entry"
    __title__ = "Stock entry"
    __naming_series__ = "fdt_ledger_entry"
    __readonly__ = ("number",)
    __list_columns__ = ("id", "number", "purpose", "docstatus")

    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    purpose: Mapped[str] = mapped_column(String(100))

    lines: Mapped[list[EntryLine]] = relationship(cascade="all, delete-orphan",
                                                  order_by="EntryLine.id")


class EntryLine(IdMixin, Base):
    """One item of a stock entry: frozen with its entry, copied by an amendment."""

    __tablename__ = "fdt_ledger_line"
    __title__ = "Stock entry line"
    __submittable_parent__ = ("entry_id", "fdt_ledger_entry")
    __branch_parent__ = ("entry_id", "fdt_ledger_entry")

    entry_id: Mapped[int] = mapped_column(ForeignKey("fdt_ledger_entry.id"), index=True)
    item: Mapped[str] = mapped_column(String(60))
    qty: Mapped[int] = mapped_column(Integer)


class LedgerMove(IdMixin, TimestampMixin, BranchMixin, Base):
    """A posting of the stock ledger: made, never changed or deleted."""

    __tablename__ = "fdt_ledger_move"
    __title__ = "Ledger move"
    __operations__ = ("create",)

    entry_id: Mapped[int | None] = mapped_column(ForeignKey("fdt_ledger_entry.id"), index=True)
    item: Mapped[str] = mapped_column(String(60))
    qty: Mapped[int] = mapped_column(Integer)
    reversal: Mapped[bool] = mapped_column(Boolean, default=False)

from decimal import Decimal

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from kernel import Base, BranchMixin, IdMixin, Money, TimestampMixin


class Note(IdMixin, TimestampMixin, BranchMixin, Base):
    __tablename__ = "fdt_notes_note"
    __permission__ = "fdt_note"

    title: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    number: Mapped[str | None] = mapped_column(String(40), unique=True)

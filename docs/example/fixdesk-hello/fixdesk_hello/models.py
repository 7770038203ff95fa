"""The plugin's one entity. Tables are prefixed with the plugin name."""

from decimal import Decimal

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from kernel import Base, BranchMixin, IdMixin, Money, TimestampMixin


class Greeting(IdMixin, TimestampMixin, BranchMixin, Base):
    """A greeting said at a branch, and the tip it earned."""

    __tablename__ = "hello_greeting"

    text: Mapped[str] = mapped_column(String(200))
    tip: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))

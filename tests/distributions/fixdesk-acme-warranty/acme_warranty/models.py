"""The plugin's own entity: the makers' claim categories (it runs without repair too)."""

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kernel import Base, IdMixin, TimestampMixin
from kernel.i18n import N_


class Category(IdMixin, TimestampMixin, Base):
    """A kind of warranty claim a maker accepts, with the share of the cost it pays back.

    (Another plugin has a ``Category`` too: neither finds the other's by name.)"""

    __tablename__ = "acme_warranty_category"
    __title__ = N_("Claim category")
    __labels__ = {"reimbursed_percent": N_("Reimbursed (%)")}
    __list_columns__ = ("code", "name", "reimbursed_percent", "active")

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    reimbursed_percent: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

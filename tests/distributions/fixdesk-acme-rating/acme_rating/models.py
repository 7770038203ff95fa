"""The plugin's own entity: difficulty classes and how much they weigh an hour."""

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kernel import Base, IdMixin, TimestampMixin
from kernel.i18n import N_


class Category(IdMixin, TimestampMixin, Base):
    """A difficulty class: an hour of such a job counts ``weight_percent`` % of an hour.

    (Another plugin has a ``Category`` too: neither finds the other's by name.)"""

    __tablename__ = "acme_rating_category"
    __title__ = N_("Difficulty class")
    __labels__ = {"weight_percent": N_("Weight (%)")}
    __list_columns__ = ("code", "name", "weight_percent")

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    weight_percent: Mapped[int] = mapped_column(Integer, default=100)

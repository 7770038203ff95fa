"""The difficulty of a repair work order: a companion row of ``repair_work_order`` (glue)."""

from __future__ import annotations

import enum

from sqlalchemy import Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kernel import Base
from kernel.i18n import N_

from .models import Category


class Difficulty(enum.StrEnum):
    EASY = N_("easy")
    NORMAL = N_("normal")
    MAJOR = N_("major")


class Rating(Base):
    """How hard one work order is (one row per order)."""

    __tablename__ = "acme_rating_rating"
    __expose__ = False  # seen on the work order, not on its own
    __labels__ = {"difficulty": N_("Difficulty"), "category_id": N_("Difficulty class"),
                  "note": N_("Rating note")}

    record_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("repair_work_order.id", ondelete="CASCADE"), primary_key=True)
    difficulty: Mapped[Difficulty] = mapped_column(
        Enum(Difficulty, name="acme_rating_difficulty", native_enum=False,
             values_callable=lambda e: [m.value for m in e], length=20),
        default=Difficulty.NORMAL)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("acme_rating_category.id"))
    note: Mapped[str | None] = mapped_column(String(200))

    category: Mapped[Category | None] = relationship(lambda: Category)

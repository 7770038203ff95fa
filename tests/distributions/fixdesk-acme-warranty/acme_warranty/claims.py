"""The claim on a repair work order: a companion row of ``repair_work_order`` (glue).

Imported only when the ``repair`` part is registered, that is when repair is enabled.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kernel import Base, Money, UTCDateTime
from kernel.i18n import N_

from .models import Category


class Claim(Base):
    """What is claimed from the maker for one work order (one row per order)."""

    __tablename__ = "acme_warranty_claim"
    __expose__ = False  # seen on the work order, not on its own
    __readonly__ = ("claim_no", "filed_at")
    __labels__ = {"claim_no": N_("Claim number"), "claimable": N_("Claimable"),
                  "category_id": N_("Claim category"), "amount": N_("Claimed amount"),
                  "filed_at": N_("Filed at")}

    record_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("repair_work_order.id", ondelete="CASCADE"), primary_key=True)
    claimable: Mapped[bool] = mapped_column(Boolean, default=False)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("acme_warranty_category.id"))
    amount: Mapped[Decimal | None] = mapped_column(Money)
    claim_no: Mapped[str | None] = mapped_column(String(40), unique=True)
    filed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    category: Mapped[Category | None] = relationship(lambda: Category)

"""Glue for billing (the part ``inventory.billing``, registered only where billing runs).

Billing marks parts up by their category (R27: purchase cost plus a management markup
per part category) and asks which category a part code is in; inventory knows its
parts. Billing is not imported: its question is a hook of the same name.
"""

from __future__ import annotations

from sqlalchemy import select

from kernel import hookimpl

from .models import Part, PartCategory


@hookimpl
def billing_part_category(ctx, code):
    """The category code of the part with this code (``"DRUM"``), or None when inventory
    does not know the code or the part has no category (then billing's markup for every
    part applies)."""
    code = (code or "").strip()
    if not code:
        return None
    return ctx.session.scalars(select(PartCategory.code).join(
        Part, Part.category_id == PartCategory.id).where(Part.code == code)).first()

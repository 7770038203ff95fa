"""Mapped classes named like the kernel's and the repair plugin's own, in another module.

Another plugin may well call a class ``Customer``, ``Branch`` or ``WorkOrder``: the
kernel and its plugins must not find their classes by name alone. Imported first by a
test in a fresh process, so every name below is ambiguous when the real ones map.
"""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kernel.db import Base, IdMixin

NAMES = ("Company", "Branch", "Employee", "Customer", "CustomerContact", "CustomerAddress",
         "CustomerEquipment", "User", "UserRole", "UserBranch", "RoleGrant", "ApiToken",
         "WorkOrder", "WorkOrderLine", "LabourEntry", "StatusChange", "UnitLog",
         "MaintenanceContract", "ContractEquipment", "Appointment", "Callback",
         "QualityCheck", "Category")


def _shadow(name: str) -> type:
    table = f"shadow_{name.lower()}"
    return type(name, (IdMixin, Base), {
        "__tablename__": table, "__module__": __name__,
        "__annotations__": {"label": Mapped[str]}, "label": mapped_column(String(20))})


SHADOWS = {name: _shadow(name) for name in NAMES}


class ShadowLine(IdMixin, Base):
    """A class of this module relating to its own ``Category`` (resolved in this module)."""

    __tablename__ = "shadow_line"

    category_id: Mapped[int] = mapped_column(ForeignKey("shadow_category.id"))
    category: Mapped["Category"] = relationship(lambda: SHADOWS["Category"])  # noqa: F821

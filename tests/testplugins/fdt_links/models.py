from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from kernel import Base, BranchMixin, IdMixin, RecordLink, TimestampMixin, link_column


class Memo(IdMixin, TimestampMixin, BranchMixin, Base):
    """A memo about a customer or a note (``about``; ``repair_work_order`` too, where the
    repair plugin is enabled), and maybe about anything else (``see_also``)."""

    __tablename__ = "fdt_links_memo"
    __title__ = "Memo"
    __list_columns__ = ("id", "title", "about", "see_also")

    title: Mapped[str] = mapped_column(String(200))
    about: Mapped[RecordLink | None] = link_column(
        "about", targets=("customer", "fdt_notes_note", "repair_work_order"))
    see_also: Mapped[RecordLink | None] = link_column("see_also")

"""Test plugin: depends on fdt_notes, has a table referencing its table, implements its hook."""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from kernel import Base, IdMixin, hookimpl


class Tag(IdMixin, Base):
    __tablename__ = "fdt_tags_tag"

    note_id: Mapped[int] = mapped_column(ForeignKey("fdt_notes_note.id"), index=True)
    label: Mapped[str] = mapped_column(String(50))


@hookimpl
def fixdesk_entities():
    return [Tag]


@hookimpl
def fixdesk_demo_data(ctx):
    ctx.demo_calls = [*getattr(ctx, "demo_calls", []), "fdt_tags"]


@hookimpl
def fdt_notes_added(ctx, note):
    ctx.session.add(Tag(note_id=note.id, label="auto"))
    return "tagged"

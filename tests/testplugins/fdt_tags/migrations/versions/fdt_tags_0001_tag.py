"""fdt_tags: tag table

Revision ID: fdt_tags_0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "fdt_tags_0001"
down_revision = None
branch_labels = ("fdt_tags",)
depends_on = ("kernel_0001", "fdt_notes_0001")


def upgrade() -> None:
    op.create_table(
        "fdt_tags_tag",
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=50), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["note_id"], ["fdt_notes_note.id"],
                                name=op.f("fk_fdt_tags_tag_note_id_fdt_notes_note")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fdt_tags_tag")),
    )
    with op.batch_alter_table("fdt_tags_tag") as batch_op:
        batch_op.create_index(batch_op.f("ix_fdt_tags_tag_note_id"), ["note_id"])


def downgrade() -> None:
    op.drop_table("fdt_tags_tag")

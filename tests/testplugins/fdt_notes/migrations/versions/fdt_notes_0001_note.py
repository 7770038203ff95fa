"""fdt_notes: note table

Revision ID: fdt_notes_0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = "fdt_notes_0001"
down_revision = None
branch_labels = ("fdt_notes",)
depends_on = ("kernel_0001",)


def upgrade() -> None:
    op.create_table(
        "fdt_notes_note",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("amount", kernel.db.Money(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branch.id"],
                                name=op.f("fk_fdt_notes_note_branch_id_branch")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fdt_notes_note")),
        sa.UniqueConstraint("number", name=op.f("uq_fdt_notes_note_number")),
    )
    with op.batch_alter_table("fdt_notes_note") as batch_op:
        batch_op.create_index(batch_op.f("ix_fdt_notes_note_branch_id"), ["branch_id"])


def downgrade() -> None:
    op.drop_table("fdt_notes_note")

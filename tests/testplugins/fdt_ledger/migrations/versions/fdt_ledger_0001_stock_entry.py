"""fdt_ledger: stock entries, their lines, the ledger

Revision ID: fdt_ledger_0001
Revises:
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = "fdt_ledger_0001"
down_revision = None
branch_labels = ("fdt_ledger",)
depends_on = ("kernel_0004",)


def upgrade() -> None:
    op.create_table(
        "fdt_ledger_entry",
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("purpose", sa.String(length=100), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("docstatus", sa.Enum("draft", "submitted", "cancelled", name="docstatus",
                                       native_enum=False, create_constraint=True, length=10),
                  nullable=False),
        sa.Column("submitted_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("amended_from_id", sa.Integer(), nullable=True),
        sa.Column("amendment_no", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branch.id"],
                                name=op.f("fk_fdt_ledger_entry_branch_id_branch")),
        sa.ForeignKeyConstraint(["amended_from_id"], ["fdt_ledger_entry.id"],
                                name=op.f("fk_fdt_ledger_entry_amended_from_id_fdt_ledger_entry")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fdt_ledger_entry")),
        sa.UniqueConstraint("number", name=op.f("uq_fdt_ledger_entry_number")),
    )
    with op.batch_alter_table("fdt_ledger_entry") as batch_op:
        batch_op.create_index(batch_op.f("ix_fdt_ledger_entry_branch_id"), ["branch_id"])
        batch_op.create_index(batch_op.f("ix_fdt_ledger_entry_docstatus"), ["docstatus"])
        batch_op.create_index(batch_op.f("ix_fdt_ledger_entry_amended_from_id"),
                              ["amended_from_id"])
    op.create_table(
        "fdt_ledger_line",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=60), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["fdt_ledger_entry.id"],
                                name=op.f("fk_fdt_ledger_line_entry_id_fdt_ledger_entry")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fdt_ledger_line")),
    )
    with op.batch_alter_table("fdt_ledger_line") as batch_op:
        batch_op.create_index(batch_op.f("ix_fdt_ledger_line_entry_id"), ["entry_id"])
    op.create_table(
        "fdt_ledger_move",
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("item", sa.String(length=60), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("reversal", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branch.id"],
                                name=op.f("fk_fdt_ledger_move_branch_id_branch")),
        sa.ForeignKeyConstraint(["entry_id"], ["fdt_ledger_entry.id"],
                                name=op.f("fk_fdt_ledger_move_entry_id_fdt_ledger_entry")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fdt_ledger_move")),
    )
    with op.batch_alter_table("fdt_ledger_move") as batch_op:
        batch_op.create_index(batch_op.f("ix_fdt_ledger_move_branch_id"), ["branch_id"])
        batch_op.create_index(batch_op.f("ix_fdt_ledger_move_entry_id"), ["entry_id"])


def downgrade() -> None:
    op.drop_table("fdt_ledger_move")
    op.drop_table("fdt_ledger_line")
    op.drop_table("fdt_ledger_entry")

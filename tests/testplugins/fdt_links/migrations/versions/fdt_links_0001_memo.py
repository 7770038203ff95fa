"""fdt_links: memo table (two links to any record)

Revision ID: fdt_links_0001
Revises:
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = "fdt_links_0001"
down_revision = None
branch_labels = ("fdt_links",)
depends_on = ("kernel_0004",)


def upgrade() -> None:
    op.create_table(
        "fdt_links_memo",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("about_entity", sa.String(length=60), nullable=True),
        sa.Column("about_id", sa.Integer(), nullable=True),
        sa.Column("see_also_entity", sa.String(length=60), nullable=True),
        sa.Column("see_also_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branch.id"],
                                name=op.f("fk_fdt_links_memo_branch_id_branch")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fdt_links_memo")),
    )
    with op.batch_alter_table("fdt_links_memo") as batch_op:
        batch_op.create_index(batch_op.f("ix_fdt_links_memo_about_entity"),
                              ["about_entity", "about_id"])
        batch_op.create_index(batch_op.f("ix_fdt_links_memo_branch_id"), ["branch_id"])
        batch_op.create_index(batch_op.f("ix_fdt_links_memo_see_also_entity"),
                              ["see_also_entity", "see_also_id"])


def downgrade() -> None:
    op.drop_table("fdt_links_memo")

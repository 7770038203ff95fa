"""hello: greeting table

Revision ID: hello_0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = "hello_0001"
down_revision = None
branch_labels = ("hello",)
depends_on = ("kernel_0001",)


def upgrade() -> None:
    op.create_table(
        "hello_greeting",
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("tip", kernel.db.Money(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branch.id"],
                                name=op.f("fk_hello_greeting_branch_id_branch")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hello_greeting")),
    )
    with op.batch_alter_table("hello_greeting") as batch_op:
        batch_op.create_index(batch_op.f("ix_hello_greeting_branch_id"), ["branch_id"])


def downgrade() -> None:
    op.drop_table("hello_greeting")

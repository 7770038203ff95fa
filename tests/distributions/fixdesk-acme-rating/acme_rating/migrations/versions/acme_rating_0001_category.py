"""acme_rating: difficulty classes

Revision ID: acme_rating_0001
Revises:
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = "acme_rating_0001"
down_revision = None
branch_labels = ("acme_rating",)
depends_on = ("kernel_0001",)


def upgrade() -> None:
    op.create_table(
        "acme_rating_category",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("weight_percent", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acme_rating_category")),
        sa.UniqueConstraint("code", name=op.f("uq_acme_rating_category_code")),
    )


def downgrade() -> None:
    op.drop_table("acme_rating_category")

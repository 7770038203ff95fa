"""acme_rating.repair: a difficulty per repair work order (glue, only while repair is enabled)

Revision ID: acme_rating_repair_0001
Revises:
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "acme_rating_repair_0001"
down_revision = None
branch_labels = ("acme_rating.repair",)
depends_on = ("acme_rating_0001", "repair_0001")


def upgrade() -> None:
    op.create_table(
        "acme_rating_rating",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("difficulty", sa.Enum("easy", "normal", "major", name="acme_rating_difficulty",
                                         native_enum=False, length=20), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["category_id"], ["acme_rating_category.id"],
                                name=op.f("fk_acme_rating_rating_category_id_acme_rating_category")),
        sa.ForeignKeyConstraint(["record_id"], ["repair_work_order.id"], ondelete="CASCADE",
                                name=op.f("fk_acme_rating_rating_record_id_repair_work_order")),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_acme_rating_rating")),
    )


def downgrade() -> None:
    op.drop_table("acme_rating_rating")

"""acme_warranty.repair: a claim per repair work order (glue, only while repair is enabled)

Revision ID: acme_warranty_repair_0001
Revises:
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = "acme_warranty_repair_0001"
down_revision = None
branch_labels = ("acme_warranty.repair",)
depends_on = ("acme_warranty_0001", "repair_0001")


def upgrade() -> None:
    op.create_table(
        "acme_warranty_claim",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("claimable", sa.Boolean(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("amount", kernel.db.Money(), nullable=True),
        sa.Column("claim_no", sa.String(length=40), nullable=True),
        sa.Column("filed_at", kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["category_id"], ["acme_warranty_category.id"],
                                name=op.f("fk_acme_warranty_claim_category_id_acme_warranty_category")),
        sa.ForeignKeyConstraint(["record_id"], ["repair_work_order.id"], ondelete="CASCADE",
                                name=op.f("fk_acme_warranty_claim_record_id_repair_work_order")),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_acme_warranty_claim")),
        sa.UniqueConstraint("claim_no", name=op.f("uq_acme_warranty_claim_claim_no")),
    )


def downgrade() -> None:
    op.drop_table("acme_warranty_claim")

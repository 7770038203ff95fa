"""repair: an index for the jobs of a branch in a period

The complaint rate divides a branch's complaints by its jobs of the period: complaints asks
repair (``complaints_job_counts``, ``plugins/repair/complaints_glue.py``), which counts the
work orders per branch reported in the period in one grouped query. ``(branch_id,
reported_at)`` keeps that count fast on a million orders.

Revision ID: repair_0006
Revises: repair_0005
Create Date: 2026-12-03
"""

from alembic import op

revision = 'repair_0006'
down_revision = 'repair_0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('repair_work_order', schema=None) as batch_op:
        batch_op.create_index('ix_repair_work_order_branch_reported',
                              ['branch_id', 'reported_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('repair_work_order', schema=None) as batch_op:
        batch_op.drop_index('ix_repair_work_order_branch_reported')

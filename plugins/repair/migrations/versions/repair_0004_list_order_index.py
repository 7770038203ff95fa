"""repair: an index for the work order list's default order

The work order list opens with the open orders, urgent first and then the newest
report (``plugins/repair/lists.py``): ``(urgent, reported_at)`` keeps that order fast
on a million orders.

Revision ID: repair_0004
Revises: repair_0003
Create Date: 2026-12-03
"""

from alembic import op

revision = 'repair_0004'
down_revision = 'repair_0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('repair_work_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repair_work_order_urgent'), ['urgent', 'reported_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('repair_work_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_repair_work_order_urgent'))

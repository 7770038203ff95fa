"""repair: indexes for the reports over years of history

The supervisor's daily report finds the orders that may have been open at the end of a
day — open now, or closed or cancelled since, and reported before it — and the day's
events by their instant; the engineers' monthly scores count the orders closed and the
arrivals of a month (``plugins/repair/reports.py``). ``(closed_at, reported_at)``,
``cancelled_at``, ``arrived_at`` and the history's ``at`` keep them fast on a million
orders and eight million status changes.

Revision ID: repair_0008
Revises: repair_0007
Create Date: 2026-12-04
"""

from alembic import op

revision = 'repair_0008'
down_revision = 'repair_0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('repair_work_order', schema=None) as batch_op:
        batch_op.create_index('ix_repair_work_order_closed', ['closed_at', 'reported_at'],
                              unique=False)
        batch_op.create_index('ix_repair_work_order_cancelled', ['cancelled_at'], unique=False)
        batch_op.create_index('ix_repair_work_order_arrived', ['arrived_at'], unique=False)
    with op.batch_alter_table('repair_status_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repair_status_change_at'), ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('repair_status_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_repair_status_change_at'))
    with op.batch_alter_table('repair_work_order', schema=None) as batch_op:
        batch_op.drop_index('ix_repair_work_order_arrived')
        batch_op.drop_index('ix_repair_work_order_cancelled')
        batch_op.drop_index('ix_repair_work_order_closed')

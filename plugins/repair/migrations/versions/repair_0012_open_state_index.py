"""repair: what the home page and the dispatch board count of a branch's open orders

The home page's cards (open, not dispatched, overdue, due today, waiting for parts) and
charts (open orders by status, engineers' load) count a branch's open orders by their
status, deadline, arrival, pause, engineer and appointment. SQLite, which plans without
statistics, read them through ``branch_id`` from the branch's whole history (0.3 s a
card, 1 s the page at a million orders). An index over the open orders only, holding
those columns after the branch and the status, answers each count from itself.

Revision ID: repair_0012
Revises: repair_0011
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = 'repair_0012'
down_revision = 'repair_0011'
branch_labels = None
depends_on = None

#: the open statuses (plugins.repair.rules.OPEN) as they were on this day
OPEN = ('pending', 'dispatched', 'quoted', 'in_repair', 'waiting_parts', 'hard_to_repair',
        'completed', 'ready_for_pickup')


def upgrade() -> None:
    where = sa.column('status').in_(OPEN)
    op.create_index('ix_repair_work_order_open_state', 'repair_work_order',
                    ['branch_id', 'status', 'deadline_at', 'arrived_at', 'paused_at',
                     'engineer_id', 'appointment_at', 'partner_outlet'],
                    postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    op.drop_index('ix_repair_work_order_open_state', table_name='repair_work_order')

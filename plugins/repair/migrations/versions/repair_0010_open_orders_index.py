"""repair: two indexes over the open orders only (partial, on SQLite and PostgreSQL)

The work order list opens with the open orders of the user's branch, urgent first, then
the newest. ``(branch_id, urgent, reported_at)`` gives that order but walks past every
closed urgent order of the branch's years to reach the first not urgent one, and the
status index reads every open order of every branch to sort them: either grows with the
business. ``ix_repair_work_order_open`` answers the first page with the page's rows.

The home page's cards (open, not dispatched, overdue, due today, waiting for parts) and
charts (open orders by status, engineers' load), the dispatch board and the queue count
a branch's open orders by their status, deadline, arrival, pause, engineer and
appointment. SQLite, which plans without statistics, read them through ``branch_id``
from the branch's whole history (0.3 s a card, 1 s the page at a million orders).
``ix_repair_work_order_open_state`` holds those columns after the branch and the status
and answers each count from itself.

Revision ID: repair_0010
Revises: repair_0009
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = 'repair_0010'
down_revision = 'repair_0009'
branch_labels = None
depends_on = None

#: the open statuses (plugins.repair.rules.OPEN) as they were on this day
OPEN = ('pending', 'dispatched', 'quoted', 'in_repair', 'waiting_parts', 'hard_to_repair',
        'completed', 'ready_for_pickup')


def upgrade() -> None:
    where = sa.column('status').in_(OPEN)
    op.create_index('ix_repair_work_order_open', 'repair_work_order',
                    ['branch_id', 'urgent', 'reported_at', 'id'],
                    postgresql_where=where, sqlite_where=where)
    op.create_index('ix_repair_work_order_open_state', 'repair_work_order',
                    ['branch_id', 'status', 'deadline_at', 'arrived_at', 'paused_at',
                     'engineer_id', 'appointment_at', 'partner_outlet'],
                    postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    op.drop_index('ix_repair_work_order_open_state', table_name='repair_work_order')
    op.drop_index('ix_repair_work_order_open', table_name='repair_work_order')

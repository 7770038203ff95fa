"""repair: the open orders of a branch in the list's order, over the open orders only

The work order list opens with the open orders of the user's branch, urgent first, then
the newest. ``(branch_id, urgent, reported_at)`` gives that order but walks past every
closed urgent order of the branch's years to reach the first not urgent one, and the
status index reads every open order of every branch to sort them: either grows with the
business. An index over the open orders only (a partial index, on SQLite and on
PostgreSQL) answers the first page with the page's rows.

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


def downgrade() -> None:
    op.drop_index('ix_repair_work_order_open', table_name='repair_work_order')

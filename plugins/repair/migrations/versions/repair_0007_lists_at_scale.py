"""repair: lists fast at a million orders; the history carries its order's branch

Lists page by cursor (``kernel.keyset``): each page reads its rows in the order of an index.
The work order list's default filter sorts the open orders of a branch urgent first, then
newest (``branch_id, urgent, reported_at``); the arrival deadline is both a sort and a
filter, in a branch and overall (``deadline_at``, ``branch_id, deadline_at``); the
common filters (status, engineer, customer) each lead an index in the default order; the
appointments, callbacks and spot checks of a branch by their lists' orders.

The history (``repair_status_change``, millions of rows) was scoped through its order, a
subquery on every query; it now carries the order's branch (``kernel.branch_carry``):
the column is filled from the orders here, and by the kernel for new rows, and scoped
directly with ``(branch_id, id)``.

Revision ID: repair_0007
Revises: repair_0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = 'repair_0007'
down_revision = 'repair_0006'
branch_labels = None
depends_on = None

#: the work orders' common filters, each in the default order (newest first)
FILTERS = (('ix_repair_work_order_status_reported', 'status'),
           ('ix_repair_work_order_engineer_reported', 'engineer_id'),
           ('ix_repair_work_order_customer_reported', 'customer_id'))

#: the lists of a branch in their default order: (table, index, columns)
BRANCH_ORDERS = (
    ('repair_appointment', 'ix_repair_appointment_branch_starts', ['branch_id', 'starts_at']),
    ('repair_callback', 'ix_repair_callback_branch_due', ['branch_id', 'due_at']),
    ('repair_quality_check', 'ix_repair_quality_check_branch_drawn',
     ['branch_id', 'drawn_at']),
)


def upgrade() -> None:
    with op.batch_alter_table('repair_work_order', schema=None) as batch_op:
        batch_op.create_index('ix_repair_work_order_branch_urgent',
                              ['branch_id', 'urgent', 'reported_at'], unique=False)
        batch_op.create_index('ix_repair_work_order_deadline', ['deadline_at'], unique=False)
        batch_op.create_index('ix_repair_work_order_branch_deadline',
                              ['branch_id', 'deadline_at'], unique=False)
        for name, column in FILTERS:
            batch_op.create_index(name, [column, 'reported_at'], unique=False)
    for table, name, columns in BRANCH_ORDERS:
        op.create_index(name, table, columns, unique=False)
    with op.batch_alter_table('repair_status_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('branch_id', sa.Integer(), nullable=True))
    op.execute("UPDATE repair_status_change SET branch_id = (SELECT w.branch_id FROM "
               "repair_work_order w WHERE w.id = repair_status_change.order_id)")
    with op.batch_alter_table('repair_status_change', schema=None) as batch_op:
        batch_op.alter_column('branch_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_repair_status_change_branch_id_branch'),
                                    'branch', ['branch_id'], ['id'])
        batch_op.create_index('ix_repair_status_change_branch', ['branch_id', 'id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('repair_status_change', schema=None) as batch_op:
        batch_op.drop_index('ix_repair_status_change_branch')
        batch_op.drop_constraint(batch_op.f('fk_repair_status_change_branch_id_branch'),
                                 type_='foreignkey')
        batch_op.drop_column('branch_id')
    for table, name, _columns in BRANCH_ORDERS:
        op.drop_index(name, table_name=table)
    with op.batch_alter_table('repair_work_order', schema=None) as batch_op:
        for name, _column in FILTERS:
            batch_op.drop_index(name)
        batch_op.drop_index('ix_repair_work_order_branch_deadline')
        batch_op.drop_index('ix_repair_work_order_deadline')
        batch_op.drop_index('ix_repair_work_order_branch_urgent')

"""repair: overdue flags, promised date, unit register, contract notice

Work orders get ``overdue_flagged_at`` (R8), ``promised_at`` and ``promise_flagged_at``
(carry-in, R13/R15); contracts get ``expiry_notice_at`` (R20); the product in/out
register ``repair_unit_log`` (R13) is new.

Revision ID: repair_0002
Revises: repair_0001
Create Date: 2026-11-25 16:23:48.031239
"""

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = 'repair_0002'
down_revision = 'repair_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('repair_unit_log',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.Enum('received', 'returned', name='direction', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('counterpart', sa.String(length=100), nullable=True),
    sa.Column('condition', sa.String(length=500), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['repair_work_order.id'], name=op.f('fk_repair_unit_log_order_id_repair_work_order')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_repair_unit_log_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repair_unit_log'))
    )
    with op.batch_alter_table('repair_unit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repair_unit_log_order_id'), ['order_id'], unique=False)

    with op.batch_alter_table('repair_contract', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expiry_notice_at', kernel.db.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('repair_work_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('overdue_flagged_at', kernel.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('promised_at', kernel.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('promise_flagged_at', kernel.db.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('repair_work_order', schema=None) as batch_op:
        batch_op.drop_column('promise_flagged_at')
        batch_op.drop_column('promised_at')
        batch_op.drop_column('overdue_flagged_at')

    with op.batch_alter_table('repair_contract', schema=None) as batch_op:
        batch_op.drop_column('expiry_notice_at')

    with op.batch_alter_table('repair_unit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_repair_unit_log_order_id'))
    op.drop_table('repair_unit_log')

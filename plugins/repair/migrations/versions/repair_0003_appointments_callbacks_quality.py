"""repair: appointments, callbacks and surveys, quality spot checks

``repair_appointment`` keeps every visit booked with the customer (R7);
``repair_callback`` is the callback task of a closed job with its survey (R19),
one per order, ratings 1-4 checked by the database; ``repair_quality_check`` holds
the supervisors' spot checks (R17).

Revision ID: repair_0003
Revises: repair_0002
Create Date: 2026-12-02 11:26:52.193625
"""

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = 'repair_0003'
down_revision = 'repair_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('repair_appointment',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('engineer_id', sa.Integer(), nullable=True),
    sa.Column('partner_outlet', sa.String(length=200), nullable=True),
    sa.Column('starts_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('booked', 'kept', 'rescheduled', 'cancelled', name='appointment_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('arrived_at', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_repair_appointment_branch_id_branch')),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_repair_appointment_company_id_company')),
    sa.ForeignKeyConstraint(['engineer_id'], ['employee.id'], name=op.f('fk_repair_appointment_engineer_id_employee')),
    sa.ForeignKeyConstraint(['order_id'], ['repair_work_order.id'], name=op.f('fk_repair_appointment_order_id_repair_work_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repair_appointment'))
    )
    with op.batch_alter_table('repair_appointment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repair_appointment_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_repair_appointment_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_repair_appointment_engineer_id'), ['engineer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_repair_appointment_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_repair_appointment_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_repair_appointment_status'), ['status'], unique=False)

    op.create_table('repair_callback',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('engineer_id', sa.Integer(), nullable=True),
    sa.Column('due_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('open', 'done', 'unreachable', 'declined', name='callback_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_attempt_at', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('channel', sa.Enum('phone', 'card', 'link', name='survey_channel', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('rating_attitude', sa.Integer(), nullable=True),
    sa.Column('rating_skill', sa.Integer(), nullable=True),
    sa.Column('rating_arrival', sa.Integer(), nullable=True),
    sa.Column('rating_promise', sa.Integer(), nullable=True),
    sa.Column('comments', sa.Text(), nullable=True),
    sa.Column('respondent', sa.String(length=100), nullable=True),
    sa.Column('answered_at', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('recorded_by', sa.String(length=100), nullable=True),
    sa.Column('link_sent_at', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('link_sent_to', sa.String(length=200), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('rating_arrival IS NULL OR rating_arrival BETWEEN 1 AND 4', name=op.f('ck_repair_callback_rating_arrival')),
    sa.CheckConstraint('rating_attitude IS NULL OR rating_attitude BETWEEN 1 AND 4', name=op.f('ck_repair_callback_rating_attitude')),
    sa.CheckConstraint('rating_promise IS NULL OR rating_promise BETWEEN 1 AND 4', name=op.f('ck_repair_callback_rating_promise')),
    sa.CheckConstraint('rating_skill IS NULL OR rating_skill BETWEEN 1 AND 4', name=op.f('ck_repair_callback_rating_skill')),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_repair_callback_branch_id_branch')),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_repair_callback_company_id_company')),
    sa.ForeignKeyConstraint(['engineer_id'], ['employee.id'], name=op.f('fk_repair_callback_engineer_id_employee')),
    sa.ForeignKeyConstraint(['order_id'], ['repair_work_order.id'], name=op.f('fk_repair_callback_order_id_repair_work_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repair_callback')),
    sa.UniqueConstraint('order_id', name=op.f('uq_repair_callback_order_id'))
    )
    with op.batch_alter_table('repair_callback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repair_callback_answered_at'), ['answered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_repair_callback_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_repair_callback_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_repair_callback_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_repair_callback_engineer_id'), ['engineer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_repair_callback_status'), ['status'], unique=False)

    op.create_table('repair_quality_check',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('engineer_id', sa.Integer(), nullable=True),
    sa.Column('drawn_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Enum('random', 'manual', name='draw_reason', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('drawn_by', sa.String(length=100), nullable=False),
    sa.Column('status', sa.Enum('pending', 'passed', 'failed', name='check_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('checked_at', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('checked_by', sa.String(length=100), nullable=True),
    sa.Column('findings', sa.Text(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_repair_quality_check_branch_id_branch')),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_repair_quality_check_company_id_company')),
    sa.ForeignKeyConstraint(['engineer_id'], ['employee.id'], name=op.f('fk_repair_quality_check_engineer_id_employee')),
    sa.ForeignKeyConstraint(['order_id'], ['repair_work_order.id'], name=op.f('fk_repair_quality_check_order_id_repair_work_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repair_quality_check'))
    )
    with op.batch_alter_table('repair_quality_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repair_quality_check_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_repair_quality_check_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_repair_quality_check_drawn_at'), ['drawn_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_repair_quality_check_engineer_id'), ['engineer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_repair_quality_check_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_repair_quality_check_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('repair_quality_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_repair_quality_check_status'))
        batch_op.drop_index(batch_op.f('ix_repair_quality_check_order_id'))
        batch_op.drop_index(batch_op.f('ix_repair_quality_check_engineer_id'))
        batch_op.drop_index(batch_op.f('ix_repair_quality_check_drawn_at'))
        batch_op.drop_index(batch_op.f('ix_repair_quality_check_company_id'))
        batch_op.drop_index(batch_op.f('ix_repair_quality_check_branch_id'))

    op.drop_table('repair_quality_check')
    with op.batch_alter_table('repair_callback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_repair_callback_status'))
        batch_op.drop_index(batch_op.f('ix_repair_callback_engineer_id'))
        batch_op.drop_index(batch_op.f('ix_repair_callback_due_at'))
        batch_op.drop_index(batch_op.f('ix_repair_callback_company_id'))
        batch_op.drop_index(batch_op.f('ix_repair_callback_branch_id'))
        batch_op.drop_index(batch_op.f('ix_repair_callback_answered_at'))

    op.drop_table('repair_callback')
    with op.batch_alter_table('repair_appointment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_repair_appointment_status'))
        batch_op.drop_index(batch_op.f('ix_repair_appointment_starts_at'))
        batch_op.drop_index(batch_op.f('ix_repair_appointment_order_id'))
        batch_op.drop_index(batch_op.f('ix_repair_appointment_engineer_id'))
        batch_op.drop_index(batch_op.f('ix_repair_appointment_company_id'))
        batch_op.drop_index(batch_op.f('ix_repair_appointment_branch_id'))

    op.drop_table('repair_appointment')

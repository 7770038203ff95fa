"""saved list filters and list columns per user

``saved_filter`` keeps a user's named filters of a list (the list's query string, one
of them his default); ``list_preference`` his chosen columns of a list.

Revision ID: kernel_0006
Revises: kernel_0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = 'kernel_0006'
down_revision = 'kernel_0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('saved_filter',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('query', sa.String(length=2000), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_saved_filter_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_filter')),
    sa.UniqueConstraint('user_id', 'entity', 'name', name=op.f('uq_saved_filter_user_id_entity_name'))
    )
    with op.batch_alter_table('saved_filter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_filter_user_id'), ['user_id'], unique=False)

    op.create_table('list_preference',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=100), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_list_preference_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_list_preference')),
    sa.UniqueConstraint('user_id', 'entity', name=op.f('uq_list_preference_user_id_entity'))
    )
    with op.batch_alter_table('list_preference', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_list_preference_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('list_preference', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_list_preference_user_id'))

    op.drop_table('list_preference')
    with op.batch_alter_table('saved_filter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_filter_user_id'))

    op.drop_table('saved_filter')

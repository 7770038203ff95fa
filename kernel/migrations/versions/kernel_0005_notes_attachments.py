"""notes, mentions and attachments of records; audit rows found by record

``record_note`` keeps the notes staff write on any record (its table and id, its
branch), ``record_note_mention`` the colleagues a note @mentions and when they saw it,
``record_attachment`` the files attached to a record (the bytes are in the site's
folder, ``files/attachments/``). ``audit_log`` gets an index by record for the form's
timeline.

Revision ID: kernel_0005
Revises: kernel_0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = 'kernel_0005'
down_revision = 'kernel_0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('record_note',
    sa.Column('entity', sa.String(length=100), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('created_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_record_note_author_id_user_account')),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_record_note_branch_id_branch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_note'))
    )
    with op.batch_alter_table('record_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_note_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index('ix_record_note_entity_record', ['entity', 'record_id', 'created_at'], unique=False)

    op.create_table('record_note_mention',
    sa.Column('note_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('seen_at', kernel.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['note_id'], ['record_note.id'], name=op.f('fk_record_note_mention_note_id_record_note'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_record_note_mention_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_note_mention')),
    sa.UniqueConstraint('note_id', 'user_id', name=op.f('uq_record_note_mention_note_id_user_id'))
    )
    with op.batch_alter_table('record_note_mention', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_note_mention_note_id'), ['note_id'], unique=False)
        batch_op.create_index('ix_record_note_mention_user_seen', ['user_id', 'seen_at'], unique=False)

    op.create_table('record_attachment',
    sa.Column('entity', sa.String(length=100), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_name', sa.String(length=100), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_by', sa.String(length=100), nullable=False),
    sa.Column('uploaded_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_record_attachment_branch_id_branch')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_record_attachment_uploaded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_attachment'))
    )
    with op.batch_alter_table('record_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_attachment_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index('ix_record_attachment_entity_record', ['entity', 'record_id', 'uploaded_at'], unique=False)

    # not in a batch: on SQLite a batch may copy the table, and audit_log keeps triggers
    op.create_index('ix_audit_log_record', 'audit_log', ['record_id', 'entity'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_log_record', table_name='audit_log')
    with op.batch_alter_table('record_attachment', schema=None) as batch_op:
        batch_op.drop_index('ix_record_attachment_entity_record')
        batch_op.drop_index(batch_op.f('ix_record_attachment_branch_id'))

    op.drop_table('record_attachment')
    with op.batch_alter_table('record_note_mention', schema=None) as batch_op:
        batch_op.drop_index('ix_record_note_mention_user_seen')
        batch_op.drop_index(batch_op.f('ix_record_note_mention_note_id'))

    op.drop_table('record_note_mention')
    with op.batch_alter_table('record_note', schema=None) as batch_op:
        batch_op.drop_index('ix_record_note_entity_record')
        batch_op.drop_index(batch_op.f('ix_record_note_branch_id'))

    op.drop_table('record_note')

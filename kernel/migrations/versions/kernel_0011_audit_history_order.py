"""audit trail: a record's history by its id and table, newest first

The form's timeline reads a record's audit rows newest first. With an index of only
``(record_id, entity)`` SQLite, which plans without statistics, took ``(entity, at)``
for the order and read every audit row of the table until it had found the record's
(2.9 s for a work order's form at a million orders). ``(record_id, entity, at, id)``
finds them and gives their order.

Revision ID: kernel_0011
Revises: kernel_0010
Create Date: 2026-12-04
"""

from alembic import op

revision = 'kernel_0011'
down_revision = 'kernel_0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain statements, no batch: a batch may copy the table, and the audit trail's
    # append-only triggers would not come with it
    op.create_index('ix_audit_log_record_at', 'audit_log', ['record_id', 'entity', 'at', 'id'])
    op.drop_index('ix_audit_log_record', table_name='audit_log')


def downgrade() -> None:
    op.create_index('ix_audit_log_record', 'audit_log', ['record_id', 'entity'])
    op.drop_index('ix_audit_log_record_at', table_name='audit_log')

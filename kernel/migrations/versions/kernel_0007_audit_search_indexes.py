"""audit trail: indexes to search it by table or by user, newest first

The admin console and ``fixdesk audit-search`` page through the audit log newest first
(by ``at``, then ``id``) filtered by table, by user, by record or by dates. The log
grows to millions of rows: ``(entity, at)`` and ``(user_id, at)`` keep a search by
table or by user as fast as one by dates (``at``) or by record (``record_id, entity``).

Revision ID: kernel_0007
Revises: kernel_0006
Create Date: 2026-12-10
"""

from alembic import op

revision = 'kernel_0007'
down_revision = 'kernel_0006'
branch_labels = None
depends_on = None


# plain CREATE INDEX, never a batch copy of the table: its append-only triggers stay
def upgrade() -> None:
    op.create_index('ix_audit_log_entity_at', 'audit_log', ['entity', 'at'], unique=False)
    op.create_index('ix_audit_log_user_at', 'audit_log', ['user_id', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_log_user_at', table_name='audit_log')
    op.drop_index('ix_audit_log_entity_at', table_name='audit_log')

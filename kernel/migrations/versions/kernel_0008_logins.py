"""logins: API token expiry and revocation, throttled failures per account

Desk sessions remember their last request (idle sessions end); failed logins are found
by account and address (throttled per account and address, not per address alone).
API tokens already had their expiry and revocation columns (kernel_0002).

Revision ID: kernel_0008
Revises: kernel_0007
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = 'kernel_0008'
down_revision = 'kernel_0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', kernel.db.UTCDateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index('ix_login_failure_username_address', ['username', 'address'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failure_username_address')
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_column('last_seen_at')

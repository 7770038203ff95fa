"""audit trail: TRUNCATE refused too (PostgreSQL)

Revision ID: kernel_0009
Revises: kernel_0008
Create Date: 2026-12-03
"""

from alembic import op

from kernel.audit import POSTGRES_NO_TRUNCATE

revision = 'kernel_0009'
down_revision = 'kernel_0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # row triggers (kernel_0002) do not fire on TRUNCATE; SQLite has no TRUNCATE
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_NO_TRUNCATE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")

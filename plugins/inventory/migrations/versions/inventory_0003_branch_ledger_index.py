"""inventory: an index for a branch's stock ledger, newest first

The ledger's list (newest first, ``-posted_at``) pages by cursor (``kernel.keyset``); a
user of one branch sees its entries only: ``(branch_id, posted_at, id)`` reads each page
of them in order, however long the ledger grows.

Revision ID: inventory_0003
Revises: inventory_0002
Create Date: 2026-12-04
"""

from alembic import op

revision = 'inventory_0003'
down_revision = 'inventory_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_inventory_ledger_entry_branch_posted', 'inventory_ledger_entry',
                    ['branch_id', 'posted_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_inventory_ledger_entry_branch_posted',
                  table_name='inventory_ledger_entry')

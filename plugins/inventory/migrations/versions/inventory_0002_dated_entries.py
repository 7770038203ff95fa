"""inventory: partial indexes on dated ledger entries and on reversals

The expiring report (``plugins/inventory/reports.py``) looks at the stocks of parts with
a shelf life and at those with a dated receipt, and leaves out reversed receipts:
``(part_id, warehouse_id) WHERE expires_on IS NOT NULL`` finds the dated stocks and
``(voucher_entity, voucher_id) WHERE reversal`` the reversals without reading the whole
ledger. Each holds only those few lines, so the other postings do not pay for them.

Revision ID: inventory_0002
Revises: inventory_0001
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = 'inventory_0002'
down_revision = 'inventory_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inventory_ledger_entry', schema=None) as batch_op:
        batch_op.create_index('ix_inventory_ledger_entry_dated', ['part_id', 'warehouse_id'],
                              unique=False, postgresql_where=sa.text('expires_on IS NOT NULL'),
                              sqlite_where=sa.text('expires_on IS NOT NULL'))
        batch_op.create_index('ix_inventory_ledger_entry_reversal',
                              ['voucher_entity', 'voucher_id'], unique=False,
                              postgresql_where=sa.text('reversal'),
                              sqlite_where=sa.text('reversal = 1'))


def downgrade() -> None:
    with op.batch_alter_table('inventory_ledger_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_inventory_ledger_entry_reversal')
        batch_op.drop_index('ix_inventory_ledger_entry_dated')

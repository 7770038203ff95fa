"""repair: the customer's unit price on a work order's part line

A quote priced by the ``repair_quote_requested`` hook (billing's price rules, R11/R27) may
give each part line its price to the customer; ``repair_work_order_line.unit_price`` keeps
it, so that the voucher prints each line at the customer's price and the lines add up to
the quote's total. Empty for lines quoted as one lump (staff's amounts).

Revision ID: repair_0005
Revises: repair_0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = 'repair_0005'
down_revision = 'repair_0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('repair_work_order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_price', kernel.db.Money(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('repair_work_order_line', schema=None) as batch_op:
        batch_op.drop_column('unit_price')

"""search indexes: which entities have one (kernel.search_index)

``search_index`` names, per entity with search fields, its index table and the fields and
terms version it was built from. The index tables themselves are made, filled and dropped
by ``fixdesk migrate`` (:func:`kernel.search_index.build_indexes`); going down drops them
with the list.

Revision ID: kernel_0010
Revises: kernel_0009
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = 'kernel_0010'
down_revision = 'kernel_0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('search_index',
    sa.Column('entity', sa.String(length=100), nullable=False),
    sa.Column('index_table', sa.String(length=63), nullable=False),
    sa.Column('fields', sa.String(length=1000), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('built_at', kernel.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('entity', name=op.f('pk_search_index'))
    )


def downgrade() -> None:
    bind = op.get_bind()
    quote = bind.dialect.identifier_preparer.quote
    names = list(bind.execute(sa.text("SELECT index_table FROM search_index")).scalars())
    for name in names:
        if bind.dialect.name == "sqlite":  # its FTS5 table of terms
            op.execute(f"DROP TABLE IF EXISTS {quote(name + '_terms')}")
        op.execute(f"DROP TABLE IF EXISTS {quote(name)}")
    op.drop_table('search_index')

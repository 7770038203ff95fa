"""Alembic environment shared by the kernel and every plugin.

Run through :mod:`kernel.migrate`, which passes the connection, the models'
metadata and the table filter in ``config.attributes``; each plugin's versions
live in its own ``migrations/versions`` folder under its own branch label.
"""

from alembic import context

config = context.config
connection = config.attributes["connection"]

context.configure(
    connection=connection,
    target_metadata=config.attributes.get("target_metadata"),
    include_object=config.attributes.get("include_object"),
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

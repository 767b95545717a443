"""Alembic environment: goldsmith always passes an open connection in ``config.attributes``."""

from alembic import context

from goldsmith.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table_schema=context.config.attributes.get("schema"),
)
with context.begin_transaction():
    context.run_migrations()

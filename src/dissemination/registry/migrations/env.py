"""Alembic's environment for the registry: run on the connection `schema.upgrade` gives."""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes["connection"]
prefix: str = config.attributes["prefix"]

context.configure(
    connection=connection,
    version_table=f"{prefix}alembic_version",
    target_metadata=None,
)
with context.begin_transaction():
    context.run_migrations(prefix=prefix)

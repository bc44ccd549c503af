"""The registry's first schema (schema version 1, before migrations).

Revision ID: 0001
Revises: none
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dissemination.registry.database import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade(prefix: str) -> None:
    """Create the tables: meta, claims, links, items, events."""
    op.create_table(
        f"{prefix}meta",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        f"{prefix}claims",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("owner_organisation", sa.String(200), nullable=False),
        sa.Column("owner_unit", sa.String(200), nullable=False),
        sa.Column("owner_contact", sa.String(200), nullable=False),
        sa.Column("item_id", sa.String(128), nullable=False),
        sa.Column("since", UTCDateTime, nullable=False),
        sa.Column("expires", UTCDateTime, nullable=True),
    )
    op.create_table(
        f"{prefix}links",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("item_id", sa.String(128), primary_key=True),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("positions", sa.String(200), nullable=False),
        sa.Column("linked", UTCDateTime, nullable=False),
    )
    op.create_index(f"{prefix}links_item", f"{prefix}links", ["item_id"])
    op.create_table(
        f"{prefix}items",
        sa.Column("item_id", sa.String(128), primary_key=True),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("label_verified", sa.Integer, nullable=False),
        sa.Column("registered", UTCDateTime, nullable=False),
        sa.Column("updated", UTCDateTime, nullable=False),
    )
    op.create_table(
        f"{prefix}events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("item_id", sa.String(128), nullable=True),
        sa.Column("owner_organisation", sa.String(200), nullable=True),
        sa.Column("owner_unit", sa.String(200), nullable=True),
        sa.Column("owner_contact", sa.String(200), nullable=True),
    )
    op.create_index(f"{prefix}events_digest", f"{prefix}events", ["digest", "id"])

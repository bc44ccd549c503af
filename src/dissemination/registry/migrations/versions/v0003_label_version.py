"""Items record the newest label version seen (schema revision 3).

Registering an older version than the one stored changes nothing for that
item, and `Registry.superseded` tells a decision on an older version to give
`none` (`label.superseded`). Items registered before it count as version 1.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade(prefix: str) -> None:
    """Add `items.version` (1 for items already registered)."""
    op.add_column(
        f"{prefix}items",
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    )

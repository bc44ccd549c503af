"""Events record the claim's expiry after a claim, renewal or transfer (schema version 2).

With it, replaying a subject's history rebuilds its claim exactly
(`lifecycle.replay`). Events written before it carry no expiry.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dissemination.registry.database import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade(prefix: str) -> None:
    """Add `events.expires`."""
    op.add_column(f"{prefix}events", sa.Column("expires", UTCDateTime, nullable=True))

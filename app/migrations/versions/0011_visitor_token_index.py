"""Web chat tokens are looked up by their hash on every request: an index, not a scan of every identity.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_channel_identities_secret_hash", "channel_identities", ["secret_hash"])


def downgrade() -> None:
    op.drop_index("ix_channel_identities_secret_hash", table_name="channel_identities")

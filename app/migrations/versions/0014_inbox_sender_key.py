"""Inbox events name their sender, so the intake settles and orders each sender's events on their
own: another customer's traffic no longer lets an event go before its earlier neighbour arrives.

The key is read back from the stored payload of the events still pending, the only ones the
intake orders; the others keep none. An Instagram mention names no author: none either.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INBOX = sa.table(
    "inbox_events",
    sa.column("id", sa.Integer()),
    sa.column("platform", sa.String()),
    sa.column("channel", sa.String()),
    sa.column("status", sa.String()),
    sa.column("raw", sa.JSON()),
    sa.column("sender_key", sa.String()),
)


def _field(value: Any, *path: str) -> str | None:
    for name in path:
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return None if value is None or isinstance(value, dict | list) else str(value)


def sender_key(platform: str, channel: str, raw: Any) -> str | None:
    """As the webhooks write it since: `<identity>:<id>`, the identity as the customer's."""
    sender: str | None = None
    identity = channel
    if platform == "meta" and channel in ("messenger", "instagram"):
        sender = _field(raw, "event", "sender", "id")
    elif platform == "meta" and channel == "facebook_comment":
        sender, identity = _field(raw, "event", "value", "from", "id"), "facebook"
    elif platform == "meta" and channel == "instagram_comment":
        sender, identity = _field(raw, "event", "value", "from", "id"), "instagram"
    elif platform == "x" and channel == "x_dm":
        sender, identity = _field(raw, "event", "message_create", "sender_id"), "x"
    elif platform == "x" and channel == "x_mention":
        sender, identity = _field(raw, "event", "user", "id_str"), "x"
    return f"{identity}:{sender}"[:200] if sender else None


def upgrade() -> None:
    with op.batch_alter_table("inbox_events") as table:
        table.add_column(sa.Column("sender_key", sa.String(length=200), nullable=True))
    op.create_index("ix_inbox_events_sender", "inbox_events", ["status", "sender_key", "occurred_at"])
    connection = op.get_bind()
    pending = connection.execute(
        sa.select(INBOX.c.id, INBOX.c.platform, INBOX.c.channel, INBOX.c.raw).where(INBOX.c.status == "pending")
    ).all()
    for row in pending:
        key = sender_key(row.platform, row.channel, row.raw)
        if key is not None:
            connection.execute(sa.update(INBOX).where(INBOX.c.id == row.id).values(sender_key=key))


def downgrade() -> None:
    op.drop_index("ix_inbox_events_sender", table_name="inbox_events")
    with op.batch_alter_table("inbox_events") as table:
        table.drop_column("sender_key")

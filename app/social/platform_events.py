"""Platform events in two shapes: as cut out of a webhook delivery (to store), and as a customer's
message (to answer), the same whatever the platform.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.core.channel_names import PUBLIC_CHANNELS
from app.social.models import InboxStatus

# The longest sender id and display name a customer's identity holds.
ID_LENGTH = 200
NAME_LENGTH = 200


class Unprocessable(ValueError):
    """An event we cannot make a message of; it is kept with this reason."""


@dataclass(frozen=True)
class RawEvent:
    """One event of a webhook delivery, keyed by the platform's own id, as the inbox stores it."""

    platform: str
    key: str
    channel: str
    occurred_at: datetime
    raw: dict[str, Any]
    status: InboxStatus = InboxStatus.pending
    reason: str | None = None
    # Who sent it, as `<identity>:<id>` (`messenger:<psid>`, `x:<user id>`): the intake puts each
    # sender's events in order. None when the event does not say (an Instagram mention).
    sender: str | None = None


def sender_key(identity: str, sender_id: str) -> str:
    return f"{identity}:{sender_id}"


@dataclass(frozen=True)
class Inbound:
    """A customer's message or public post."""

    platform: str
    channel: str
    # The identity namespace of the sender id (a Messenger PSID is not a Facebook comment author id).
    identity: str
    sender_id: str
    sender_name: str | None
    text: str
    # The ids a reply to this message needs: recipient_id for a DM, comment_id or tweet_id in public.
    reply_to: dict[str, str] = field(default_factory=dict)
    link: str | None = None

    def __post_init__(self) -> None:
        if not 0 < len(self.sender_id) <= ID_LENGTH:
            raise Unprocessable(f"a sender id of {len(self.sender_id)} characters (1 to {ID_LENGTH} expected)")

    @property
    def public(self) -> bool:
        return self.channel in PUBLIC_CHANNELS


def from_millis(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise Unprocessable(f"timestamp {value!r} is not milliseconds since the epoch") from exc


def from_seconds(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise Unprocessable(f"timestamp {value!r} is not seconds since the epoch") from exc


def in_utc(value: datetime) -> datetime:
    """A platform's time in UTC; one written without an offset is taken as UTC already."""
    try:
        return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    except OverflowError as exc:
        raise Unprocessable(f"time {value.isoformat()} is out of range in UTC") from exc


def name_of(value: Any) -> str | None:
    """A display name, when the platform wrote one as text, cut to what an identity holds."""
    return value[:NAME_LENGTH] if isinstance(value, str) else None


def fingerprint(value: Any) -> str:
    """A stable key for an event that carries no id of its own."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:32]


def text_of(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise Unprocessable(f"{name} is missing or not text")
    return value


def mapping(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Unprocessable(f"{name} is missing or not an object")
    return value

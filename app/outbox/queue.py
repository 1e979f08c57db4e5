"""What the brand says on a platform, queued in the transaction that stores it.

A reply goes where the customer's last message came from: a DM to their DM, a reply under their
comment or tweet, or, for a conversation moved out of public, a private reply to the comment. Each
queued item has an idempotency key (the message id and part), so storing or sending it twice posts
it once. Platform rules are applied here, where they can still be explained: X's 280 characters in
public, and Meta's 24-hour messaging window.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select

from app.conversations.models import Author, Conversation, Kind, Message
from app.conversations.timeline import DeliveryNotice
from app.core.channel_names import (
    FACEBOOK_COMMENT,
    INSTAGRAM,
    INSTAGRAM_COMMENT,
    MESSENGER,
    META,
    PLATFORM_CHANNELS,
    X_DM,
    X_MENTION,
    X,
)
from app.core.timestamps import utcnow
from app.outbox.models import OutboxItem, OutboxStatus

X_PUBLIC_LIMIT = 280
# Meta lets a page answer a message freely for 24 hours; a person may answer for 7 days, tagged.
META_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)


class SendFailed(Exception):
    """A platform did not take an item: `retry` says whether trying again can help."""

    def __init__(self, reason: str, *, retry: bool, after_seconds: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry
        self.after_seconds = after_seconds


@dataclass(frozen=True)
class Delivered:
    """What a platform answered for an item it took: its id for what it posted and, for a private
    reply to a comment, the commenter's id in Messenger, which only this answer tells."""

    external_id: str
    recipient_id: str | None = None


@dataclass(frozen=True)
class Route:
    platform: str
    kind: str


ROUTES = {
    MESSENGER: Route(META, "dm"),
    INSTAGRAM: Route(META, "dm"),
    FACEBOOK_COMMENT: Route(META, "comment_reply"),
    INSTAGRAM_COMMENT: Route(META, "instagram_comment_reply"),
    X_DM: Route(X, "dm"),
    X_MENTION: Route(X, "tweet_reply"),
}


def goes_to_platform(conversation: Conversation, message: Message) -> bool:
    """Whether a stored message is for the customer on a platform (not web chat, not internal)."""
    if conversation.channel not in PLATFORM_CHANNELS or message.internal:
        return False
    if message.author in (Author.bot, Author.agent) and message.kind == Kind.text:
        return True
    return bool(message.payload and message.payload.get("deliver"))


def last_inbound(session: Session, conversation_id: object) -> Message | None:
    """The customer's latest message that came from a platform: what a reply answers."""
    statement = (
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.author == Author.customer)
        .order_by(col(Message.seq).desc())
    )
    for message in session.exec(statement.limit(20)):
        if message.payload and isinstance(message.payload.get("platform"), dict):
            return message
    return None


def enqueue(session: Session, conversation: Conversation, message: Message) -> list[DeliveryNotice]:
    """Queue `message` for its platform if it is for the customer there; returns what the agents
    should be told about it."""
    if not goes_to_platform(conversation, message):
        return []
    assert message.id is not None
    inbound = last_inbound(session, conversation.id)
    route = ROUTES[conversation.channel]
    refusal: str | None = None
    target: dict[str, str] = {}
    if inbound is None or inbound.payload is None:
        refusal = "the customer has not written on this channel, so there is nothing to reply to"
    else:
        target = dict(inbound.payload["platform"]["reply_to"])
        refusal = _window(conversation.channel, message, inbound, target)
    kind = "private_reply" if target.get("private") else route.kind
    parts = _parts(conversation.channel, message) if refusal is None else [message.text]
    now = utcnow()
    for number, text in enumerate(parts):
        item = OutboxItem(
            idempotency_key=f"message:{message.id}:{number}",
            platform=route.platform,
            kind=kind,
            conversation_id=conversation.id,
            message_id=message.id,
            target=target,
            text=text,
            status=OutboxStatus.dead if refusal else OutboxStatus.pending,
            last_error=refusal,
            next_attempt_at=now,
        )
        session.add(item)
    session.flush()
    if refusal:
        return [DeliveryNotice(f"Not delivered: {refusal}", refused=True)]
    if len(parts) > 1:
        split = f"Sent in {len(parts)} replies: X allows {X_PUBLIC_LIMIT} characters in public"
        return [DeliveryNotice(split, refused=False)]
    if parts[0] != message.text:
        return [DeliveryNotice("Sent as the article's short form: X allows 280 characters in public", refused=False)]
    return []


def _window(channel: str, message: Message, inbound: Message, target: dict[str, str]) -> str | None:
    if channel not in (MESSENGER, INSTAGRAM):
        return None
    age = utcnow() - inbound.created_at
    if age <= META_WINDOW:
        target["messaging_type"] = "RESPONSE"
        return None
    hours = int(age.total_seconds() // 3600)
    if message.author == Author.agent and age <= HUMAN_AGENT_WINDOW:
        target["messaging_type"] = "MESSAGE_TAG"
        target["tag"] = "HUMAN_AGENT"
        return None
    if message.author == Author.agent:
        return f"Meta allows no reply {hours} hours after the customer's last message (a person may answer for 7 days)"
    return f"outside Meta's 24-hour messaging window ({hours} hours since the customer's last message)"


def _parts(channel: str, message: Message) -> list[str]:
    """X takes 280 characters in public: the article's short form if it has one, else numbered parts."""
    if channel != X_MENTION or len(message.text) <= X_PUBLIC_LIMIT:
        return [message.text]
    short = ((message.payload or {}).get("answer") or {}).get("short_answer")
    if isinstance(short, str) and 0 < len(short) <= X_PUBLIC_LIMIT:
        return [short]
    words = re.split(r"(\s+)", message.text)
    room = X_PUBLIC_LIMIT - len(" (99/99)")
    parts: list[str] = []
    current = ""
    for word in words:
        while len(word) > room:
            parts.append(current + word[: room - len(current)])
            word = word[room - len(current) :]
            current = ""
        if len(current) + len(word) > room:
            parts.append(current.rstrip())
            current = word.lstrip()
        else:
            current += word
    if current.strip():
        parts.append(current.rstrip())
    return [f"{part} ({n}/{len(parts)})" for n, part in enumerate(parts, start=1)]

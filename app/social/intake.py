"""From a stored platform event to a customer message in a conversation, in the background.

A public post with personal data, or about the customer's own account, is not answered in public: the
public thread gets a short invitation with no personal data, and the same case goes on in private
(a DM on X, a private reply to the comment on Meta) with the public post linked. What is stored of
such a post is masked, in both places.
"""

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from anyio import CapacityLimiter
from sqlalchemy.exc import DataError
from sqlmodel import Session

from app.conversations import messages
from app.conversations import service as conversations
from app.conversations.models import Conversation, Message
from app.core.channel_names import META, PRIVATE_OF, X
from app.core.db import SessionFactory, run_in_session
from app.core.drain import DrainLoop
from app.core.timestamps import utcnow
from app.customers import service as customers
from app.outbox.queue import SendFailed
from app.privacy.public import assess_public_post
from app.social import inbox
from app.social import meta as meta_webhook
from app.social import x as x_webhook
from app.social.models import InboxEvent, InboxStatus
from app.social.platform_events import Inbound, Unprocessable

log = logging.getLogger(__name__)

Stored = list[tuple[Conversation, Message]]
# Reads an Instagram mention's comment from the Graph API: {"text", "from": {"id", "username"}}.
CommentReader = Callable[[str], Awaitable[dict[str, Any]]]
T = TypeVar("T")


class CustomerMessage(Protocol):
    """Where the intake hands what a customer said: `ConversationFlows.customer_message`, which runs
    `store` in one transaction, then delivers and hands on every message it added."""

    async def __call__(
        self, store: Callable[[Session], tuple[T, Stored]], limiter: CapacityLimiter | None = None
    ) -> tuple[T, bool]: ...


MOVED_TO_PRIVATE = {
    META: "Thanks for reaching out! To keep your details safe we've sent you a private message. Let's continue there.",
    X: "Thanks for reaching out! To keep your details safe, let's continue in a DM: we've sent you one.",
}
BATCH = 200


def message_key(platform: str, event_key: str) -> str:
    """The stored message's client id: a second guard, after the inbox's, against a double message."""
    return f"{platform}:{hashlib.sha256(event_key.encode()).hexdigest()[:40]}"


def _conversation(session: Session, customer_id: Any, channel: str) -> Conversation:
    found = conversations.latest(session=session, customer_id=customer_id, channel=channel)
    return found or conversations.create(session=session, customer_id=customer_id, channel=channel)


def accept(*, session: Session, inbound: Inbound, event_key: str) -> Stored:
    """Store a customer's message where it belongs; returns what was stored, to deliver and handle."""
    identity = customers.identify(
        session=session, channel=inbound.identity, external_id=inbound.sender_id, display_name=inbound.sender_name
    )
    key = message_key(inbound.platform, event_key)
    platform = {"name": inbound.platform, "reply_to": inbound.reply_to, "link": inbound.link}
    post = assess_public_post(inbound.text)
    here = _conversation(session, identity.customer_id, inbound.channel)
    if not inbound.public or post.private_reason is None:
        message, created = messages.add_customer_message(
            session=session,
            conversation_id=here.id,
            text=inbound.text,
            client_message_id=key,
            payload={"platform": platform},
        )
        return [(here, message)] if created else []
    masked = {"kinds": sorted(set(post.found)), "reason": post.private_reason}
    public, created = messages.add_customer_message(
        session=session,
        conversation_id=here.id,
        text=post.masked,
        client_message_id=key,
        payload={"platform": platform, "masked": masked},
        handled=True,
    )
    if not created:
        return []
    private = _conversation(session, identity.customer_id, PRIVATE_OF[inbound.channel])
    if inbound.platform == X:
        private_target = {"recipient_id": inbound.sender_id}
    else:
        private_target = {"comment_id": inbound.reply_to["comment_id"], "private": "true"}
    moved, _ = messages.add_customer_message(
        session=session,
        conversation_id=private.id,
        text=post.masked,
        client_message_id=key,
        payload={
            "platform": {"name": inbound.platform, "reply_to": private_target, "link": inbound.link},
            "masked": masked,
            "from_public": {"conversation_id": str(here.id), "message_id": public.id, "link": inbound.link},
        },
    )
    notice = messages.tell_customer(
        session=session,
        conversation_id=here.id,
        text=MOVED_TO_PRIVATE[inbound.platform],
        payload={"event": "moved_to_private", "deliver": True, "private_conversation_id": str(private.id)},
    )
    return [(here, public), (here, notice), (private, moved)]


def normalize(event: InboxEvent, fetched: dict[str, Any] | None) -> Inbound:
    if event.platform == META:
        return meta_webhook.inbound(event.channel, event.raw, fetched)
    if event.platform == X:
        return x_webhook.inbound(event.channel, event.raw)
    raise Unprocessable(f"no platform {event.platform!r}")


class Intake:
    """Processes the inbox: on a wake-up after the settle time, and every few seconds regardless, so
    events stored by a process that died, or by another instance, are never left behind."""

    def __init__(
        self,
        *,
        open_session: SessionFactory,
        customer_message: CustomerMessage,
        read_comment: CommentReader,
        settle_seconds: float,
        idle_seconds: float = 5.0,
        limiter: CapacityLimiter | None = None,
        clock: Callable[[], datetime] = utcnow,
        batch: int = BATCH,
    ) -> None:
        self._limiter = limiter
        self._batch = batch
        self._clock = clock
        self._open_session = open_session
        self._customer_message = customer_message
        self._read_comment = read_comment
        self._settle = settle_seconds
        self._loop = DrainLoop(
            self.drain,
            idle_seconds=idle_seconds,
            settle_seconds=settle_seconds,
            log=log,
            failed_event="inbox_drain_failed",
        )

    def wake(self) -> None:
        self._loop.wake()

    async def run_forever(self) -> None:
        await self._loop.run_forever()

    async def drain(self) -> int:
        """Process every settled pending event; returns how many were processed. An event left
        pending (its comment could not be read yet) is not asked for again in this round, so a
        batch of them can neither hold back the events behind it nor keep the round going."""
        done = 0
        left: set[int] = set()
        while True:
            settled_before = self._clock() - timedelta(seconds=self._settle)

            def settled(session: Session, before: datetime = settled_before) -> list[int]:
                return inbox.due(session=session, settled_before=before, limit=self._batch, skip=left)

            due = await run_in_session(self._open_session, settled, self._limiter)
            for event_id in due:
                if await self._process(event_id):
                    done += 1
                else:
                    left.add(event_id)
            if len(due) < self._batch:
                return done

    async def _process(self, event_id: int) -> bool:
        """Handle one event; False when it stays pending for a later round."""
        fetched: dict[str, Any] | None = None
        event = await run_in_session(self._open_session, lambda s: s.get(InboxEvent, event_id), self._limiter)
        if event is not None and event.platform == META and meta_webhook.is_mention(event.raw):
            comment = str(event.raw["event"]["value"].get("comment_id"))
            try:
                fetched = await self._read_comment(comment)
            except SendFailed as exc:
                if exc.retry:
                    # Left pending: the next round reads it again.
                    log.warning("event=mention_unreadable inbox=%d reason=%s", event_id, exc.reason)
                    return False

        def work(session: Session) -> tuple[None, Stored]:
            """Claim the event, store what the customer said and finish the event, in one transaction;
            nothing to answer: the platform had its 200 when the event was stored."""
            claimed = inbox.claim(session=session, event_id=event_id)
            if claimed is None:
                return None, []
            try:
                inbound = normalize(claimed, fetched)
            except Unprocessable as exc:
                inbox.finish(session=session, event=claimed, status=InboxStatus.unprocessable, reason=str(exc))
                return None, []
            stored = accept(session=session, inbound=inbound, event_key=claimed.event_key)
            inbox.finish(session=session, event=claimed, status=InboxStatus.processed)
            return None, stored

        try:
            await self._customer_message(work, self._limiter)
        except DataError as exc:
            # A value of this event the database refuses: kept with the reason, it holds back no
            # other. The error's text is not logged nor kept: it may quote the customer's words.
            code = getattr(exc.orig, "sqlstate", None) or type(exc.orig).__name__
            await run_in_session(self._open_session, lambda s: _refused(s, event_id, code), self._limiter)
            log.warning("event=inbox_event_refused inbox=%d code=%s", event_id, code)
        return True


def _refused(session: Session, event_id: int, code: str) -> None:
    claimed = inbox.claim(session=session, event_id=event_id)
    if claimed is not None:
        reason = f"the database refused one of its values ({code})"
        inbox.finish(session=session, event=claimed, status=InboxStatus.unprocessable, reason=reason)

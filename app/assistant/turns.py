"""What the bot said for one customer message, and storing it in one transaction.

The bot's actions speak in custom payloads (see `bot/actions/`): `{"type": "answer", ...}` for an
answer from the knowledge base with its provenance, `{"type": "handoff", ...}` for the structured
handoff packet. Plain text entries are the bot's fixed responses (greetings and the like).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from app.assistant.rasa_client import BotOutput
from app.conversations import service as conversations
from app.conversations.models import Conversation, Message
from app.kb import insights


@dataclass(frozen=True)
class Reply:
    text: str
    payload: dict[str, Any] | None = None


@dataclass(frozen=True)
class BotTurn:
    replies: tuple[Reply, ...] = ()
    handoff: dict[str, Any] | None = None


@dataclass
class RecordedTurn:
    conversation: Conversation
    stored: list[Message] = field(default_factory=list)
    handed_off: bool = False


def interpret(outputs: Sequence[BotOutput]) -> BotTurn:
    replies: list[Reply] = []
    handoff: dict[str, Any] | None = None
    for output in outputs:
        custom = output.custom or {}
        kind = custom.get("type")
        if kind == "handoff":
            handoff = {key: value for key, value in custom.items() if key != "type"}
        elif kind == "answer" and isinstance(custom.get("text"), str):
            provenance = {key: value for key, value in custom.items() if key not in ("type", "text")}
            replies.append(Reply(text=custom["text"], payload={"answer": provenance}))
        elif output.text:
            replies.append(Reply(text=output.text))
    return BotTurn(replies=tuple(replies), handoff=handoff)


def unavailable_turn(reason: str) -> BotTurn:
    """The bot could not be asked: a person takes over rather than leave the customer unanswered."""
    return BotTurn(
        replies=(Reply(text="I'm having trouble right now, so I'm bringing in a colleague to help you."),),
        handoff={"reason": "assistant_unavailable", "detail": reason},
    )


def _keep_provenance(session: Session, message: Message, reply: Reply) -> None:
    """An answer from the knowledge base: remember which article and version gave it, and how sure."""
    provenance = (reply.payload or {}).get("answer") or {}
    article = provenance.get("article") or {}
    slug, version, score = article.get("slug"), article.get("version"), provenance.get("score")
    if isinstance(slug, str) and isinstance(version, int) and isinstance(score, int | float):
        insights.record_answer(session=session, message=message, slug=slug, version=version, score=float(score))


def _keep_unanswered(session: Session, conversation_id: uuid.UUID, message_id: int, packet: dict[str, Any]) -> None:
    reason = str(packet.get("reason", ""))
    question = session.get(Message, message_id)
    if reason not in insights.NO_ANSWER_REASONS or question is None:
        return
    tried = [a for a in packet.get("articles") or [] if isinstance(a, dict)]
    best = tried[0] if tried else {}
    score = best.get("score")
    insights.record_unanswered(
        session=session,
        conversation_id=conversation_id,
        question=question.text,
        reason=reason,
        best_slug=best.get("slug") if isinstance(best.get("slug"), str) else None,
        best_score=float(score) if isinstance(score, int | float) else None,
    )


def record(*, session: Session, conversation_id: uuid.UUID, message_id: int, turn: BotTurn) -> RecordedTurn:
    """Store the bot's replies and handoff, and mark the customer message handled, all or nothing.

    A crash before this commits leaves the message unhandled, so it is asked again after a restart;
    the customer never sees a reply twice.
    """
    stored: list[Message] = []
    for reply in turn.replies:
        message = conversations.add_bot_reply(
            session=session, conversation_id=conversation_id, text=reply.text, payload=reply.payload
        )
        if message is not None:
            stored.append(message)
            _keep_provenance(session, message, reply)
    handed_off = False
    if turn.handoff is not None:
        event = conversations.hand_off(session=session, conversation_id=conversation_id, packet=turn.handoff)
        if event is not None:
            stored.append(event)
            handed_off = True
            insights.note_handoff(session=session, conversation_id=conversation_id)
            _keep_unanswered(session, conversation_id, message_id, turn.handoff)
    conversations.mark_handled(session=session, message_id=message_id)
    conversation = conversations.get(session=session, conversation_id=conversation_id)
    return RecordedTurn(conversation=conversation, stored=stored, handed_off=handed_off)

"""What the bot said for one customer message, and storing it in one transaction.

The bot's actions speak in custom payloads (see `bot/actions/`): `{"type": "answer", ...}` for an
answer from the knowledge base with its provenance, `{"type": "handoff", ...}` for the structured
handoff packet, `{"type": "feedback", "helpful": false, "article": {...}}` when the customer said the
bot's last answer did not help, `{"type": "csat", "score": n}` for a satisfaction rating. Plain
text entries are the bot's fixed responses (greetings and the like), with their quick replies.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from app.assistant.rasa_client import BotOutput
from app.conversations import messages, ownership, resolution
from app.conversations import service as conversations
from app.conversations.models import Conversation, Message
from app.kb import insights
from app.privacy.masking import contact_details
from knowledge import Match, top_answer


@dataclass(frozen=True)
class Reply:
    text: str
    payload: dict[str, Any] | None = None


@dataclass(frozen=True)
class BotTurn:
    replies: tuple[Reply, ...] = ()
    handoff: dict[str, Any] | None = None
    csat: int | None = None
    # The article of the bot's last answer, which the customer then said did not help.
    unhelpful_article: str | None = None


@dataclass
class RecordedTurn:
    conversation: Conversation
    stored: list[Message] = field(default_factory=list)
    handed_off: bool = False
    # On a handoff, the customer's latest messages, read once for the packet and the routing.
    said: list[str] = field(default_factory=list)


def interpret(outputs: Sequence[BotOutput]) -> BotTurn:
    replies: list[Reply] = []
    handoff: dict[str, Any] | None = None
    csat: int | None = None
    unhelpful: str | None = None
    for output in outputs:
        custom = output.custom or {}
        kind = custom.get("type")
        if kind == "handoff":
            handoff = {key: value for key, value in custom.items() if key != "type"}
        elif kind == "answer" and isinstance(custom.get("text"), str):
            provenance = {key: value for key, value in custom.items() if key not in ("type", "text")}
            replies.append(Reply(text=custom["text"], payload={"answer": provenance}))
        elif kind == "csat" and custom.get("score") in range(1, 6):
            csat = int(custom["score"])
        elif kind == "feedback" and custom.get("helpful") is False and isinstance(custom.get("article"), dict):
            slug = custom["article"].get("slug")
            unhelpful = slug if isinstance(slug, str) else None
        elif output.text:
            replies.append(
                Reply(text=output.text, payload={"quick_replies": list(output.buttons)} if output.buttons else None)
            )
    return BotTurn(replies=tuple(replies), handoff=handoff, csat=csat, unhelpful_article=unhelpful)


# An article this close to the question names the topic even when it cannot answer it: its skill is
# the one a person needs (the bot's actions use the same rule).
TOPIC_HINT_MIN_SCORE = 0.45


def without_bot(matches: Sequence[Match], threshold: float, detail: str) -> BotTurn:
    """The bot could not be asked: answer from the knowledge base when the best article is sure
    enough, else a person takes over, rather than leave the customer unanswered."""
    best = top_answer(matches, threshold)
    if best is not None:
        article = best.article
        provenance = {
            "article": {"slug": article.slug, "title": article.title, "version": article.version},
            "score": round(best.confidence, 4),
            "source": "knowledge_base",
            "short_answer": article.short_answer,
        }
        return BotTurn(replies=(Reply(text=article.answer, payload={"answer": provenance}),))
    tried = [
        {"slug": m.article.slug, "title": m.article.title, "score": round(m.score, 4), "skill": m.article.skill}
        for m in matches
    ]
    skills = [m.article.skill for m in matches[:1] if m.article.skill and m.score >= TOPIC_HINT_MIN_SCORE]
    return BotTurn(
        replies=(Reply(text="I'm having trouble right now, so I'm bringing in a colleague to help you."),),
        handoff={"reason": "assistant_unavailable", "detail": detail, "articles": tried, "skills": skills},
    )


def _record_provenance(session: Session, message: Message, reply: Reply) -> None:
    """An answer from the knowledge base: remember which article and version gave it, and how sure."""
    provenance = (reply.payload or {}).get("answer") or {}
    article = provenance.get("article") or {}
    slug, version, score = article.get("slug"), article.get("version"), provenance.get("score")
    if isinstance(slug, str) and isinstance(version, int) and isinstance(score, int | float):
        insights.record_answer(session=session, message=message, slug=slug, version=version, score=float(score))


def _record_unanswered(session: Session, conversation_id: uuid.UUID, message_id: int, packet: dict[str, Any]) -> None:
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


def record(*, session: Session, conversation_id: uuid.UUID, message_id: int | None, turn: BotTurn) -> RecordedTurn:
    """Store the bot's replies and handoff, and mark the customer message handled, all or nothing.

    A crash before this commits leaves the message unhandled, so it is asked again after a restart;
    the customer never sees a reply twice. `message_id` is None for what the bot says unprompted
    (the satisfaction question after a person resolved the conversation).
    """
    stored: list[Message] = []
    if turn.unhelpful_article is not None:
        insights.last_answer_did_not_help(session=session, conversation_id=conversation_id, slug=turn.unhelpful_article)
    if turn.csat is not None:
        stored.append(resolution.rate(session=session, conversation_id=conversation_id, score=turn.csat))
        if message_id is not None and turn.handoff is None:
            resolution.settle_rating(session=session, conversation_id=conversation_id, message_id=message_id)
    for reply in turn.replies:
        message = messages.add_bot_reply(
            session=session, conversation_id=conversation_id, text=reply.text, payload=reply.payload
        )
        if message is not None:
            stored.append(message)
            _record_provenance(session, message, reply)
    handed_off = False
    said: list[str] = []
    if turn.handoff is not None:
        said = conversations.customer_texts(session=session, conversation_id=conversation_id)
        packet = {**turn.handoff, "slots": {**(turn.handoff.get("slots") or {}), **contact_details(said)}}
        event = ownership.hand_off(session=session, conversation_id=conversation_id, packet=packet)
        if event is not None:
            stored.append(event)
            handed_off = True
            insights.note_handoff(session=session, conversation_id=conversation_id)
            if message_id is not None:
                _record_unanswered(session, conversation_id, message_id, turn.handoff)
    if message_id is not None:
        messages.mark_handled(session=session, message_id=message_id)
    conversation = conversations.get(session=session, conversation_id=conversation_id)
    return RecordedTurn(conversation=conversation, stored=stored, handed_off=handed_off, said=said)

"""Where a reply goes and what the platforms' rules make of it, decided when it is queued."""

from datetime import timedelta

from sqlmodel import Session, col, select

from app.conversations import messages, ownership
from app.conversations import service as conversations
from app.conversations.models import Conversation, Message
from app.outbox.models import OutboxItem, OutboxStatus
from app.outbox.queue import X_PUBLIC_LIMIT
from app.people.models import Role
from app.social.intake import accept
from app.social.platform_events import Inbound
from tests.support import factories


def customer_writes(session: Session, channel: str, text: str = "hello", hours_ago: float = 0) -> Conversation:
    platform = "x" if channel.startswith("x_") else "meta"
    reply_to = {"tweet_id": "t1"} if channel == "x_mention" else {"recipient_id": "u1"}
    inbound = Inbound(platform, channel, platform if platform == "x" else channel, "u1", "Ada", text, reply_to)
    ((conversation, message),) = accept(session=session, inbound=inbound, event_key=f"{channel}-{text}")
    message.created_at -= timedelta(hours=hours_ago)
    session.add(message)
    session.commit()
    return conversation


def items(session: Session) -> list[OutboxItem]:
    return list(session.exec(select(OutboxItem).order_by(col(OutboxItem.id))))


def notes(session: Session, conversation: Conversation) -> list[str]:
    """What the agents were told about the replies, in the conversation."""
    history = conversations.history(session=session, conversation_id=conversation.id, include_internal=True)
    return [m.text for m in history if m.internal and (m.payload or {}).get("event") in ("delivery", "undelivered")]


def agent_takes(session: Session, conversation: Conversation) -> int:
    agent, _ = factories.agent(session, role=Role.agent, capacity={conversation.channel: 1})
    assert agent.id is not None
    conversation.owner = conversation.owner.__class__("queue")
    session.add(conversation)
    ownership.assign(session=session, conversation_id=conversation.id, agent=agent)
    return agent.id


def test_a_bot_reply_within_a_day_is_a_response(session: Session) -> None:
    conversation = customer_writes(session, "messenger", hours_ago=23)
    messages.add_bot_reply(session=session, conversation_id=conversation.id, text="Hi!")

    (item,) = items(session)
    assert item.status == OutboxStatus.pending and item.kind == "dm"
    assert item.target == {"recipient_id": "u1", "messaging_type": "RESPONSE"}


def test_after_a_day_only_a_person_may_answer_and_tagged_as_a_human_agent(session: Session) -> None:
    conversation = customer_writes(session, "messenger", hours_ago=30)
    agent_id = agent_takes(session, conversation)
    messages.add_agent_message(
        session=session,
        conversation_id=conversation.id,
        agent_id=agent_id,
        text="Sorry for the wait",
        client_message_id=None,
    )

    (item,) = items(session)
    assert item.status == OutboxStatus.pending
    assert item.target["messaging_type"] == "MESSAGE_TAG" and item.target["tag"] == "HUMAN_AGENT"


def test_after_seven_days_nobody_may_answer_and_the_agent_is_told_why(session: Session) -> None:
    conversation = customer_writes(session, "instagram", hours_ago=24 * 8)
    agent_id = agent_takes(session, conversation)
    reply, _ = messages.add_agent_message(
        session=session, conversation_id=conversation.id, agent_id=agent_id, text="Hello again", client_message_id=None
    )

    (item,) = items(session)
    assert item.status == OutboxStatus.dead and "7 days" in (item.last_error or "")
    note = session.exec(
        select(Message).where(Message.seq == reply.seq + 1, Message.conversation_id == conversation.id)
    ).one()
    assert note.internal and note.text.startswith("Not delivered")


def test_a_long_public_reply_on_x_uses_the_articles_short_form(session: Session) -> None:
    conversation = customer_writes(session, "x_mention")
    long_answer = "word " * 100
    payload = {"answer": {"short_answer": "Shipping takes 2-4 days: kestrel.example/shipping"}}
    messages.add_bot_reply(session=session, conversation_id=conversation.id, text=long_answer, payload=payload)

    (item,) = items(session)
    assert item.text == "Shipping takes 2-4 days: kestrel.example/shipping" and item.kind == "tweet_reply"
    assert notes(session, conversation) == ["Sent as the article's short form: X allows 280 characters in public"]


def test_a_long_public_reply_on_x_without_a_short_form_is_split_in_numbered_parts(session: Session) -> None:
    conversation = customer_writes(session, "x_mention")
    long_answer = " ".join(f"word{n}" for n in range(120))
    messages.add_bot_reply(session=session, conversation_id=conversation.id, text=long_answer)

    parts = [item.text for item in items(session)]
    assert len(parts) > 1 and all(len(part) <= X_PUBLIC_LIMIT for part in parts)
    assert [part.rsplit(" ", 1)[1] for part in parts] == [f"({n}/{len(parts)})" for n in range(1, len(parts) + 1)]
    assert " ".join(part.rsplit(" ", 1)[0] for part in parts) == long_answer
    assert len({item.idempotency_key for item in items(session)}) == len(parts)
    assert notes(session, conversation) == [f"Sent in {len(parts)} replies: X allows 280 characters in public"]


def test_web_chat_replies_never_enter_the_outbox(session: Session) -> None:
    conversation = factories.conversation(session)
    messages.add_bot_reply(session=session, conversation_id=conversation.id, text="Hi!")

    assert items(session) == []

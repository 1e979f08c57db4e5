"""The conversation service: one owner at a time, one order, and no duplicates. On SQLite and PostgreSQL."""

import threading
import uuid

import pytest
from sqlmodel import Session, select

from app.conversations import messages, ownership, resolution
from app.conversations import service as conversations
from app.conversations.models import Author, Message, Owner, Status
from app.core.db import make_engine, session_factory, unit_of_work
from app.core.errors import ConversationNotFound, NotConversationOwner
from tests.support import factories


def test_new_conversation_belongs_to_the_bot(session: Session) -> None:
    conversation = factories.conversation(session)

    assert conversation.owner == Owner.bot
    assert conversation.status == Status.open


def test_messages_get_consecutive_sequence_numbers_in_order(session: Session) -> None:
    conversation = factories.conversation(session)

    for n in range(5):
        messages.add_customer_message(
            session=session, conversation_id=conversation.id, text=f"message {n}", client_message_id=f"c{n}"
        )
        messages.add_bot_reply(session=session, conversation_id=conversation.id, text=f"reply {n}")
    session.commit()

    history = conversations.history(session=session, conversation_id=conversation.id)
    assert [m.seq for m in history] == list(range(1, 11))
    assert [m.text for m in history[:4]] == ["message 0", "reply 0", "message 1", "reply 1"]


@pytest.mark.parametrize("after_seq", [2**31 - 1, 2**31, 2**63 - 1, 2**70])
def test_a_seq_past_what_the_column_holds_is_after_every_message(session: Session, after_seq: int) -> None:
    conversation = factories.conversation(session)
    messages.add_customer_message(session=session, conversation_id=conversation.id, text="hi", client_message_id="c")
    session.commit()

    assert conversations.history(session=session, conversation_id=conversation.id, after_seq=after_seq) == []


def test_repeated_client_message_id_returns_the_first_message_and_stores_nothing(session: Session) -> None:
    conversation = factories.conversation(session)

    first, created = messages.add_customer_message(
        session=session, conversation_id=conversation.id, text="where is my order?", client_message_id="abc"
    )
    again, created_again = messages.add_customer_message(
        session=session, conversation_id=conversation.id, text="something else", client_message_id="abc"
    )
    session.commit()

    assert created and not created_again
    assert again.id == first.id and again.text == "where is my order?"
    stored = session.exec(select(Message).where(Message.conversation_id == conversation.id)).all()
    assert len(stored) == 1


def test_customer_message_to_the_bot_waits_to_be_handled_but_not_when_a_person_owns_it(session: Session) -> None:
    conversation = factories.conversation(session)
    agent, _ = factories.agent(session)

    to_bot, _ = messages.add_customer_message(
        session=session, conversation_id=conversation.id, text="hi", client_message_id="1"
    )
    ownership.hand_off(session=session, conversation_id=conversation.id, packet={"reason": "customer_request"})
    ownership.assign(session=session, conversation_id=conversation.id, agent=agent)
    to_agent, _ = messages.add_customer_message(
        session=session, conversation_id=conversation.id, text="hello?", client_message_id="2"
    )
    session.commit()

    assert to_bot.handled_at is None
    assert to_agent.handled_at is not None
    assert messages.next_unhandled(session=session, conversation_id=conversation.id) == to_bot


def test_bot_reply_is_dropped_once_the_bot_no_longer_owns_the_conversation(session: Session) -> None:
    conversation = factories.conversation(session)
    ownership.hand_off(session=session, conversation_id=conversation.id, packet={"reason": "no_answer"})

    reply = messages.add_bot_reply(session=session, conversation_id=conversation.id, text="late answer")
    session.commit()

    assert reply is None
    texts = [m.text for m in conversations.history(session=session, conversation_id=conversation.id)]
    assert "late answer" not in texts


def test_handoff_moves_the_conversation_to_the_queue_with_its_packet(session: Session) -> None:
    conversation = factories.conversation(session)
    packet = {"reason": "no_answer", "intent": {"name": "faq", "confidence": 0.91}, "skills": ["billing"]}

    event = ownership.hand_off(session=session, conversation_id=conversation.id, packet=packet)
    session.commit()

    refreshed = conversations.get(session=session, conversation_id=conversation.id)
    assert refreshed.owner == Owner.queue
    assert event is not None and event.internal and event.payload == {"event": "handoff", "packet": packet}
    public = conversations.history(session=session, conversation_id=conversation.id)
    assert event.id not in [m.id for m in public], "customers never see the handoff packet"


def test_a_second_handoff_changes_nothing(session: Session) -> None:
    conversation = factories.conversation(session)
    ownership.hand_off(session=session, conversation_id=conversation.id, packet={"reason": "no_answer"})

    again = ownership.hand_off(session=session, conversation_id=conversation.id, packet={"reason": "other"})

    assert again is None


def test_only_a_queued_conversation_can_be_assigned(session: Session) -> None:
    conversation = factories.conversation(session)
    agent, _ = factories.agent(session)

    with pytest.raises(NotConversationOwner, match="owned by bot"):
        ownership.assign(session=session, conversation_id=conversation.id, agent=agent)


def test_only_the_owning_agent_may_reply(session: Session) -> None:
    conversation = factories.conversation(session)
    owner, _ = factories.agent(session)
    other, _ = factories.agent(session)
    assert owner.id is not None and other.id is not None
    ownership.hand_off(session=session, conversation_id=conversation.id, packet={"reason": "customer_request"})
    ownership.assign(session=session, conversation_id=conversation.id, agent=owner)
    session.commit()

    with pytest.raises(NotConversationOwner, match=f"agent {other.id} does not own"):
        messages.add_agent_message(
            session=session, conversation_id=conversation.id, agent_id=other.id, text="hi", client_message_id=None
        )
    reply, created = messages.add_agent_message(
        session=session, conversation_id=conversation.id, agent_id=owner.id, text="Hi, I'm here", client_message_id="r1"
    )
    assert created and reply.author == Author.agent


def test_an_agent_cannot_speak_in_a_conversation_the_bot_owns(session: Session) -> None:
    conversation = factories.conversation(session)
    agent, _ = factories.agent(session)
    assert agent.id is not None

    with pytest.raises(NotConversationOwner, match="owner: bot"):
        messages.add_agent_message(
            session=session, conversation_id=conversation.id, agent_id=agent.id, text="hi", client_message_id=None
        )


def test_resolve_returns_the_conversation_to_the_bot_and_a_new_message_reopens_it(session: Session) -> None:
    conversation, agent = factories.owned_conversation(session)
    assert agent.id is not None

    resolution.resolve(session=session, conversation_id=conversation.id, agent_id=agent.id)
    resolved = conversations.get(session=session, conversation_id=conversation.id)
    assert (resolved.status, resolved.owner, resolved.agent_id) == (Status.resolved, Owner.bot, None)

    messages.add_customer_message(
        session=session, conversation_id=conversation.id, text="one more thing", client_message_id="later"
    )
    reopened = conversations.get(session=session, conversation_id=conversation.id)
    assert (reopened.status, reopened.owner) == (Status.open, Owner.bot)


def test_unknown_conversation_is_named_in_the_error(session: Session) -> None:
    missing = uuid.uuid4()

    with pytest.raises(ConversationNotFound, match=str(missing)):
        messages.add_customer_message(session=session, conversation_id=missing, text="hello", client_message_id=None)


def test_concurrent_writers_never_share_a_sequence_number(database_url: str) -> None:
    """Threads with their own sessions, as the server runs them: the row lock keeps seq unique."""
    engine = make_engine(database_url)
    open_session = session_factory(engine)
    with unit_of_work(open_session) as setup:
        conversation_id = factories.conversation(setup).id
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for n in range(10):
                with unit_of_work(open_session) as session:
                    messages.add_customer_message(
                        session=session, conversation_id=conversation_id, text="x", client_message_id=f"{worker}-{n}"
                    )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with open_session() as session:
        seqs = [m.seq for m in conversations.history(session=session, conversation_id=conversation_id)]
    engine.dispose()
    assert seqs == list(range(1, 41))


def test_requeue_and_transfer_return_an_agents_conversation_to_the_queue_with_a_note(session: Session) -> None:
    conversation, agent = factories.owned_conversation(session)
    assert agent.id is not None

    moved = ownership.transfer(
        session=session, conversation_id=conversation.id, agent_id=agent.id, to="team billing", note="refund > 500"
    )
    assert moved.internal and moved.text == "Transferred to team billing: refund > 500"
    assert conversations.get(session=session, conversation_id=conversation.id).owner == Owner.queue
    with pytest.raises(NotConversationOwner, match="owned by queue, not an agent"):
        ownership.requeue(session=session, conversation_id=conversation.id, reason="lost")

    ownership.assign(session=session, conversation_id=conversation.id, agent=agent)
    back = ownership.requeue(session=session, conversation_id=conversation.id, reason="agent lost")
    assert back.payload == {"event": "requeued", "agent_id": agent.id, "reason": "agent lost"}
    assert conversations.get(session=session, conversation_id=conversation.id).agent_id is None

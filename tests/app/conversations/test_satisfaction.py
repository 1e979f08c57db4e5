"""Ratings kept on the conversation and reported to supervisors; "did not help" said to the bot."""

import uuid
from datetime import timedelta

import pytest
from sqlmodel import Session

from app.assistant import turns
from app.conversations import messages, resolution
from app.conversations.models import Status
from app.conversations.reports import satisfaction
from app.core.timestamps import utcnow
from app.kb import insights
from tests.support import factories


def test_ratings_are_kept_and_reported_with_their_distribution(session: Session) -> None:
    first, second, third = (factories.conversation(session) for _ in range(3))
    resolution.rate(session=session, conversation_id=first.id, score=5)
    resolution.rate(session=session, conversation_id=second.id, score=2)
    resolution.rate(session=session, conversation_id=third.id, score=3)
    event = resolution.rate(session=session, conversation_id=third.id, score=4)
    session.commit()

    report = satisfaction(session=session, since=utcnow() - timedelta(days=1))

    assert event.internal and event.payload == {"event": "csat", "score": 4}
    assert (report.rated, report.average) == (3, 3.67)
    assert report.distribution == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    assert satisfaction(session=session, since=utcnow() + timedelta(minutes=1)).rated == 0


def test_a_rating_outside_one_to_five_is_refused(session: Session) -> None:
    conversation = factories.conversation(session)

    with pytest.raises(ValueError, match="1 to 5"):
        resolution.rate(session=session, conversation_id=conversation.id, score=0)


def test_did_not_help_marks_the_latest_answer_from_that_article_not_yet_settled(session: Session) -> None:
    for slug in ("delivery", "returns"):
        factories.article(session, slug)
    conversation = factories.conversation(session)
    replies = [
        messages.add_bot_reply(session=session, conversation_id=conversation.id, text=text)
        for text in ("old answer", "other answer", "new answer")
    ]
    old, other, new = (
        insights.record_answer(session=session, message=reply, slug=slug, version=1, score=1.2)
        for reply, slug in zip(replies, ("delivery", "returns", "delivery"), strict=True)
        if reply is not None
    )
    session.flush()

    insights.last_answer_did_not_help(session=session, conversation_id=conversation.id, slug="delivery")

    assert (old.helpful, other.helpful, new.helpful) == (None, None, False)
    insights.note_handoff(session=session, conversation_id=conversation.id)
    insights.last_answer_did_not_help(session=session, conversation_id=conversation.id, slug="returns")
    assert other.helpful is None


def resolved_conversation(session: Session) -> uuid.UUID:
    conversation, agent = factories.owned_conversation(session)
    assert agent.id is not None
    resolution.resolve(session=session, conversation_id=conversation.id, agent_id=agent.id)
    return conversation.id


def test_answering_the_rating_question_leaves_the_case_resolved(session: Session) -> None:
    conversation_id = resolved_conversation(session)
    rating, _ = messages.add_customer_message(
        session=session, conversation_id=conversation_id, text="5", client_message_id="rating"
    )
    assert rating.id is not None

    recorded = turns.record(
        session=session,
        conversation_id=conversation_id,
        message_id=rating.id,
        turn=turns.BotTurn(csat=5, replies=(turns.Reply(text="Thanks for rating us!"),)),
    )

    assert recorded.conversation.status == Status.resolved
    assert recorded.conversation.csat_score == 5


def test_anything_else_after_a_resolve_reopens_the_case(session: Session) -> None:
    conversation_id = resolved_conversation(session)
    question, _ = messages.add_customer_message(
        session=session, conversation_id=conversation_id, text="one more thing", client_message_id="later"
    )
    assert question.id is not None

    recorded = turns.record(
        session=session,
        conversation_id=conversation_id,
        message_id=question.id,
        turn=turns.BotTurn(replies=(turns.Reply(text="Sure, what is it?"),)),
    )

    assert recorded.conversation.status == Status.open

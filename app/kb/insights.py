"""What the bot answered from which article, whether it helped, and what it could not answer."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import ColumnElement, case
from sqlmodel import Session, col, func, select

from app.conversations.models import Author, Message
from app.core.errors import InvalidInput, NotFound
from app.core.timestamps import utcnow
from app.kb.models import AnswerRecord, UnansweredQuestion
from app.privacy.masking import mask

# Handoff reasons that mean the knowledge base had no answer, as opposed to the customer asking for
# a person or the bot being unreachable.
NO_ANSWER_REASONS = frozenset({"no_answer", "low_confidence"})
# How many of the customers' latest messages a draft article is previewed against.
RECENT_QUESTIONS = 300


@dataclass(frozen=True)
class ArticleStats:
    answered: int
    # Answers after which the conversation went on without a person.
    resolved_by_bot: int
    helpful: int
    not_helpful: int


def record_answer(*, session: Session, message: Message, slug: str, version: int, score: float) -> AnswerRecord:
    assert message.id is not None
    answer = AnswerRecord(
        conversation_id=message.conversation_id, message_id=message.id, slug=slug, version=version, score=score
    )
    session.add(answer)
    return answer


def record_unanswered(
    *,
    session: Session,
    conversation_id: uuid.UUID | None,
    question: str,
    reason: str,
    best_slug: str | None,
    best_score: float | None,
) -> UnansweredQuestion:
    """Keep the question for the knowledge managers, with personal data masked first."""
    masked = mask(question)
    unanswered = UnansweredQuestion(
        conversation_id=conversation_id,
        text=masked.text[:2000],
        masked=list(masked.found),
        reason=reason,
        best_slug=best_slug,
        best_score=best_score,
    )
    session.add(unanswered)
    return unanswered


def give_feedback(*, session: Session, conversation_id: uuid.UUID, message_id: int, helpful: bool) -> AnswerRecord:
    """The customer says whether an answer helped; saying it again replaces the first word."""
    answer = session.exec(
        select(AnswerRecord).where(
            AnswerRecord.message_id == message_id, AnswerRecord.conversation_id == conversation_id
        )
    ).first()
    if answer is None:
        raise NotFound(f"message {message_id} is not an answer from the knowledge base in this conversation")
    answer.helpful = helpful
    answer.feedback_at = utcnow()
    session.add(answer)
    return answer


def last_answer_did_not_help(*, session: Session, conversation_id: uuid.UUID, slug: str) -> None:
    """The customer told the bot its latest answer (from `slug`) did not help: as good as pressing
    "not helpful". Answers from before a person took over are settled already and stay as they are."""
    answer = session.exec(
        select(AnswerRecord)
        .where(
            AnswerRecord.conversation_id == conversation_id,
            AnswerRecord.slug == slug,
            col(AnswerRecord.handed_off).is_(False),
        )
        .order_by(col(AnswerRecord.message_id).desc())
    ).first()
    if answer is not None and answer.helpful is None:
        answer.helpful = False
        answer.feedback_at = utcnow()
        session.add(answer)


def note_handoff(*, session: Session, conversation_id: uuid.UUID) -> None:
    """A person took over: the bot's earlier answers in this conversation did not settle it."""
    answers = session.exec(
        select(AnswerRecord).where(
            AnswerRecord.conversation_id == conversation_id, col(AnswerRecord.handed_off).is_(False)
        )
    )
    for answer in answers:
        answer.handed_off = True
        session.add(answer)


def stats(*, session: Session, slugs: Sequence[str] | None = None) -> dict[str, ArticleStats]:
    """Per article: answers given, how many ended without a person, and what customers said."""

    def counted(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0))

    statement = sa.select(
        col(AnswerRecord.slug),
        func.count(),
        counted(col(AnswerRecord.handed_off).is_(False)),
        counted(col(AnswerRecord.helpful).is_(True)),
        counted(col(AnswerRecord.helpful).is_(False)),
    ).group_by(col(AnswerRecord.slug))
    if slugs is not None:
        statement = statement.where(col(AnswerRecord.slug).in_(slugs))
    return {
        slug: ArticleStats(int(n), int(bot or 0), int(yes or 0), int(no or 0))
        for slug, n, bot, yes, no in session.execute(statement)
    }


def open_unanswered(*, session: Session, limit: int = 5000) -> list[UnansweredQuestion]:
    statement = select(UnansweredQuestion).where(col(UnansweredQuestion.resolved_at).is_(None))
    return list(session.exec(statement.order_by(col(UnansweredQuestion.id).desc()).limit(limit)))


def resolve_unanswered(*, session: Session, question_ids: Sequence[int], slug: str) -> list[UnansweredQuestion]:
    """Mark questions as taken care of by an article; returns them, in the order asked."""
    found = {
        q.id: q for q in session.exec(select(UnansweredQuestion).where(col(UnansweredQuestion.id).in_(question_ids)))
    }
    missing = [i for i in question_ids if i not in found]
    if missing:
        raise InvalidInput(f"unanswered questions {missing} do not exist", field="question_ids")
    now = utcnow()
    for question in found.values():
        question.resolved_at = now
        question.resolved_slug = slug
        session.add(question)
    return [found[i] for i in question_ids]


def recent_questions(*, session: Session, asked: int = RECENT_QUESTIONS, unanswered: int = 100) -> list[str]:
    """The newest unanswered questions and what customers asked lately, masked, each once: what a
    draft article is previewed against."""
    unanswered_texts = session.exec(
        select(UnansweredQuestion.text).order_by(col(UnansweredQuestion.id).desc()).limit(unanswered)
    )
    asked_texts = session.exec(
        select(Message.text).where(Message.author == Author.customer).order_by(col(Message.id).desc()).limit(asked)
    )
    return list(dict.fromkeys([*unanswered_texts, *(mask(text).text for text in asked_texts)]))


def store_embeddings(*, session: Session, vectors: Mapping[int | None, bytes], model: str) -> None:
    """Keep the questions' vectors, by id, with the model that made them, so they are not embedded again."""
    for question in session.exec(select(UnansweredQuestion).where(col(UnansweredQuestion.id).in_(vectors))):
        question.embedding, question.embedding_model = vectors[question.id], model
        session.add(question)

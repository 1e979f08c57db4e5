"""Small builders for test data, through the same services the application uses."""

import itertools
from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.conversations import ownership
from app.conversations.models import Conversation
from app.kb import articles, insights
from app.kb.content import Content
from app.kb.models import ArticleRecord, UnansweredQuestion
from app.people import service as people
from app.people.models import Person, Role
from app.social import inbox
from app.social.meta import split
from app.webchat import service as webchat
from bench import platform_payloads as p

_numbers = itertools.count(1)


def conversation(session: Session) -> Conversation:
    created, _token = webchat.start_session(session=session, display_name=None)
    session.commit()
    return created


def agent(
    session: Session,
    *,
    skills: dict[str, int] | None = None,
    capacity: dict[str, int] | None = None,
    teams: list[str] | None = None,
    token: str | None = None,
    role: Role = Role.agent,
    languages: tuple[str, ...] = ("en",),
) -> tuple[Person, str]:
    number = next(_numbers)
    token = token or f"agent-token-{number}"
    created = people.create(
        session=session,
        name=f"Agent {number}",
        email=f"agent{number}@example.test",
        token=token,
        skills=skills or {},
        capacity=capacity or {"webchat": 3},
        teams=teams or [],
        role=role,
        languages=languages,
    )
    session.commit()
    return created, token


def owned_conversation(session: Session) -> tuple[Conversation, Person]:
    """A new conversation the bot handed off and a new agent was given."""
    created = conversation(session)
    owner, _ = agent(session)
    assert owner.id is not None
    ownership.hand_off(session=session, conversation_id=created.id, packet={"reason": "customer_request"})
    ownership.assign(session=session, conversation_id=created.id, agent=owner)
    return created, owner


def article(session: Session, slug: str) -> ArticleRecord:
    """A new draft article, titled by its slug and asked as `"{slug}?"`."""
    content = Content(title=slug, questions=(f"{slug}?",), answer="...")
    created = articles.create(session=session, slug=slug, content=content, author=None)
    session.commit()
    return created


def unanswered_question(session: Session, question: str, *, reason: str = "no_answer") -> UnansweredQuestion:
    """A question the bot could not answer, kept (masked) for the knowledge managers."""
    kept = insights.record_unanswered(
        session=session, conversation_id=None, question=question, reason=reason, best_slug=None, best_score=None
    )
    session.commit()
    return kept


def inbox_events(
    session: Session,
    *messaging: dict[str, Any],
    obj: str = "page",
    changes: list[dict[str, Any]] | None = None,
    received_at: datetime | None = None,
) -> int:
    """Meta events in `bench.platform_payloads`' shapes (Messenger `messaging` entries, or a page's
    `changes`), stored in the inbox as the webhook stores one delivery of them; returns how many were new."""
    delivery = p.page(*messaging, obj=obj, changes=changes)
    stored = inbox.store(session=session, events=split(delivery), received_at=received_at)
    session.commit()
    return stored

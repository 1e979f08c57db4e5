"""Agents: creating them and recognising their tokens."""

from collections.abc import Mapping, Sequence

from sqlmodel import Session, select

from app.agents.models import Agent, Role
from app.core.errors import NotFound, Unauthorized
from app.core.security import hash_token


def create(
    *,
    session: Session,
    name: str,
    email: str,
    token: str,
    skills: Mapping[str, int],
    capacity: Mapping[str, int],
    languages: Sequence[str] = ("en",),
    teams: Sequence[str] = (),
    role: Role = Role.agent,
) -> Agent:
    agent = Agent(
        name=name,
        email=email,
        token_hash=hash_token(token),
        role=role,
        skills=dict(skills),
        capacity=dict(capacity),
        languages=list(languages),
        teams=list(teams),
    )
    session.add(agent)
    session.flush()
    return agent


def languages_spoken(*, session: Session) -> set[str]:
    """Every language someone who takes chats speaks."""
    spoken: set[str] = set()
    for languages, capacity in session.exec(select(Agent.languages, Agent.capacity)):
        if capacity:
            spoken.update(languages)
    return spoken


def get_by_email(*, session: Session, email: str) -> Agent | None:
    return session.exec(select(Agent).where(Agent.email == email)).first()


def get(*, session: Session, agent_id: int) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFound(f"agent {agent_id} does not exist")
    return agent


def authenticate(*, session: Session, token: str) -> Agent:
    agent = session.exec(select(Agent).where(Agent.token_hash == hash_token(token))).first()
    if agent is None:
        raise Unauthorized("unknown agent token")
    return agent

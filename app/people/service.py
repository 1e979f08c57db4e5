"""People: creating them and recognising their tokens."""

from collections.abc import Mapping, Sequence

from sqlmodel import Session, select

from app.core.errors import NotFound, Unauthorized
from app.core.security import hash_token
from app.people.models import Person, Role


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
) -> Person:
    person = Person(
        name=name,
        email=email,
        token_hash=hash_token(token),
        role=role,
        skills=dict(skills),
        capacity=dict(capacity),
        languages=list(languages),
        teams=list(teams),
    )
    session.add(person)
    session.flush()
    return person


def languages_spoken(*, session: Session) -> set[str]:
    """Every language someone who takes chats speaks."""
    spoken: set[str] = set()
    for languages, capacity in session.exec(select(Person.languages, Person.capacity)):
        if capacity:
            spoken.update(languages)
    return spoken


def get_by_email(*, session: Session, email: str) -> Person | None:
    return session.exec(select(Person).where(Person.email == email)).first()


def get(*, session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"person {person_id} does not exist")
    return person


def authenticate(*, session: Session, token: str) -> Person:
    person = session.exec(select(Person).where(Person.token_hash == hash_token(token))).first()
    if person is None:
        raise Unauthorized("unknown agent token")
    return person

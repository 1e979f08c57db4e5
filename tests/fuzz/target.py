"""What the fuzz cases share: the running service on one database, the people who call it, what it
holds that no fuzzer guesses, and the count of cases each operation got."""

from collections import Counter
from dataclasses import dataclass, field

import requests
from sqlmodel import Session, col, select

from app.core.db import make_engine, session_factory, unit_of_work
from app.core.security import hash_token
from app.kb.models import ArticleRecord
from app.people import service as people
from app.people.models import Person, Role

# Every operation gets at least this many generated cases on each database, or the suite fails.
MIN_CASES = 50
ANONYMOUS = "anonymous"
# Who calls: a person of each role, and nobody; each of them sends an operation up to
# CASES_PER_CALLER cases and at least their share of MIN_CASES.
CALLERS = (*(role.value for role in Role), ANONYMOUS)
CASES_PER_CALLER = 20
CHATS = 3
TOKENS = {role: f"fuzz-{role.value}-token" for role in Role}


@dataclass(frozen=True)
class Chat:
    """A web chat session a fuzz case may use: its conversation, customer and visitor token."""

    conversation_id: str
    customer_id: str
    token: str


@dataclass
class Target:
    """The running service on one database, what it holds that a fuzzer cannot guess (chats and
    article slugs), and a way to put the fuzz people back as they were."""

    database: str
    base_url: str
    database_url: str
    chats: list[Chat] = field(default_factory=list)
    slugs: list[str] = field(default_factory=list)
    http: requests.Session = field(default_factory=requests.Session)

    def restore_people(self) -> None:
        """Each fuzz person's role and token as at the start, whatever the admins' API changed."""
        engine = make_engine(self.database_url)
        with unit_of_work(session_factory(engine)) as session:
            for role, token in TOKENS.items():
                person = _fuzz_person(session, role)
                person.role, person.token_hash = role, hash_token(token)
                session.add(person)
        engine.dispose()


def _fuzz_person(session: Session, role: Role) -> Person:
    return session.exec(select(Person).where(Person.email == f"fuzz-{role.value}@kestrel.example")).one()


def slugs_of(database_url: str) -> list[str]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        slugs = list(session.exec(select(ArticleRecord.slug).order_by(col(ArticleRecord.slug))))
    engine.dispose()
    return slugs


def add_people(database_url: str) -> None:
    engine = make_engine(database_url)
    with unit_of_work(session_factory(engine)) as session:
        for role, token in TOKENS.items():
            people.create(
                session=session,
                name=f"Fuzz {role.value}",
                email=f"fuzz-{role.value}@kestrel.example",
                token=token,
                skills={"billing": 5},
                capacity={"webchat": 3},
                role=role,
            )
    engine.dispose()


@dataclass
class Cases:
    """How many cases one operation got, by caller."""

    label: str = ""
    by_caller: Counter[str] = field(default_factory=Counter)

    def count(self, label: str, caller: str) -> None:
        self.label = label
        self.by_caller[caller] += 1


# (database, operation) -> the cases it got, by caller: the report at the end of the run.
TALLY: dict[tuple[str, str], Counter[str]] = {}

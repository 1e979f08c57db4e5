"""The migrations build exactly the schema the models describe, and carry existing data forward."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from app.assignment.models import RoutingDecision, WorkItem
from app.core.db import alembic_config, make_engine, session_factory, unit_of_work
from app.core.timestamps import UTCDateTime
from app.kb.models import ArticleRecord, ArticleVersion, KnowledgeState
from app.people.models import Person, Role
from app.tables import metadata
from tests.support import databases, factories


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    engine.dispose()

    assert differences == []


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with databases.postgres_database(template=None) as url:
        yield url


def table(model: type[SQLModel]) -> sa.Table:
    found: sa.Table = model.__table__  # type: ignore[attr-defined]
    return found


# The tables as revision 0001 left them, enough to write rows into.
OLD_AGENTS = sa.table(
    "agents",
    *(sa.column(name) for name in ("id", "name", "email", "token_hash", "presence")),
    sa.column("skills", sa.JSON()),
    sa.column("capacity", sa.Integer()),
    sa.column("created_at", UTCDateTime()),
)
OLD_CUSTOMERS = sa.table("customers", sa.column("id", sa.Uuid()), sa.column("created_at", UTCDateTime()))
OLD_CONVERSATIONS = sa.table(
    "conversations",
    sa.column("id", sa.Uuid()),
    sa.column("customer_id", sa.Uuid()),
    *(sa.column(name) for name in ("channel", "status", "owner", "agent_id", "last_seq", "priority")),
    sa.column("required_skills", sa.JSON()),
    *(sa.column(name, UTCDateTime()) for name in ("queued_at", "created_at", "updated_at")),
)
OLD_OFFERS = sa.table(
    "offers",
    sa.column("conversation_id", sa.Uuid()),
    *(sa.column(name) for name in ("agent_id", "status", "reason")),
    *(sa.column(name, UTCDateTime()) for name in ("created_at", "expires_at")),
)


def test_routing_migration_turns_queued_and_owned_conversations_into_work_items(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "0001")
    engine = make_engine(empty_database)
    customer, waiting, owned = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    with engine.begin() as db:
        db.execute(
            OLD_AGENTS.insert().values(
                id=1, name="Maria", email="m@example.test", token_hash="h", presence="offline",
                skills={"billing": 5}, capacity=4, created_at=now,
            )
        )  # fmt: skip
        db.execute(OLD_CUSTOMERS.insert().values(id=customer, created_at=now))
        for conversation_id, owner, agent in ((waiting, "queue", None), (owned, "agent", 1)):
            db.execute(
                OLD_CONVERSATIONS.insert().values(
                    id=conversation_id, customer_id=customer, channel="webchat", status="open", owner=owner,
                    agent_id=agent, last_seq=0, priority=1, required_skills=["billing"],
                    queued_at=now, created_at=now, updated_at=now,
                )
            )  # fmt: skip
        db.execute(
            OLD_OFFERS.insert().values(
                conversation_id=waiting, agent_id=1, status="pending", reason="the only one",
                created_at=now, expires_at=now,
            )
        )  # fmt: skip
    engine.dispose()

    command.upgrade(config, "head")

    engine = make_engine(empty_database)
    with engine.connect() as db:
        migrated = db.execute(sa.select(table(Person))).one()
        items = {row.conversation_id: row for row in db.execute(sa.select(table(WorkItem))).all()}
        reasons = db.execute(sa.select(table(RoutingDecision).c.reason)).scalars().all()
    engine.dispose()

    assert (migrated.capacity, migrated.languages, migrated.role) == ({"webchat": 4}, ["en"], "agent")
    assert (items[waiting].agent_id, items[waiting].assigned) == (1, False), "its pending offer holds the slot"
    assert (items[owned].agent_id, items[owned].assigned) == (1, True)
    assert items[owned].required == {"billing": 3} and items[owned].priority == 1
    assert reasons == ["the only one"]


def test_every_migration_can_be_undone_and_redone(empty_database: str) -> None:
    config = alembic_config(empty_database)

    command.upgrade(config, "head")
    command.downgrade(config, "base")
    command.upgrade(config, "head")

    engine = make_engine(empty_database)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)
    engine.dispose()
    assert differences == []


def test_knowledge_migration_makes_the_old_articles_version_one(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "0002")
    old_articles = sa.table(
        "articles",
        *(sa.column(name) for name in ("slug", "title", "answer", "skill", "published")),
        sa.column("questions", sa.JSON()),
        sa.column("tags", sa.JSON()),
        sa.column("updated_at", UTCDateTime()),
    )
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    engine = make_engine(empty_database)
    with engine.begin() as db:
        for slug, published in (("live", True), ("hidden", False)):
            db.execute(
                old_articles.insert().values(
                    slug=slug, title=slug.title(), answer="A.", skill=None, published=published,
                    questions=["q?"], tags=["t"], updated_at=now,
                )
            )  # fmt: skip
    engine.dispose()

    command.upgrade(config, "head")

    engine = make_engine(empty_database)
    with engine.connect() as db:
        heads = {row.slug: row for row in db.execute(sa.select(table(ArticleRecord)))}
        versions = {row.slug: row for row in db.execute(sa.select(table(ArticleVersion)))}
        state = db.execute(sa.select(table(KnowledgeState))).one()
    engine.dispose()
    assert (heads["live"].status, heads["live"].published_version) == ("published", 1)
    assert (heads["hidden"].status, heads["hidden"].published_version) == ("draft", None)
    assert (versions["live"].version, versions["live"].title, versions["live"].questions) == (1, "Live", ["q?"])
    assert state.version == 1


@pytest.mark.parametrize("role", list(Role))
def test_every_role_fits_its_column(database_url: str, role: Role) -> None:
    engine = make_engine(database_url)
    with unit_of_work(session_factory(engine)) as session:
        agent, _ = factories.agent(session, role=role)
    with session_factory(engine)() as session:
        stored = session.get(Person, agent.id)
    engine.dispose()

    assert stored is not None and stored.role == role

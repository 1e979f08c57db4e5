"""The inbox's storage: each platform event once, the count of new ones right on each database, and
the sender of each event, which the migration reads back for the events stored before."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import Session, select

from app.core.db import alembic_config, make_engine
from app.core.timestamps import UTCDateTime
from app.social import inbox
from app.social.meta import split
from app.social.models import InboxEvent
from app.social.x import split as x_split
from bench import platform_payloads as p
from tests.support import databases

START_MS = 1_763_900_000_000


def test_store_counts_only_the_events_it_had_not_stored_before(session: Session) -> None:
    first = split(p.page(p.dm("m_1", "psid-1", "one", START_MS), p.dm("m_2", "psid-1", "two", START_MS + 1)))
    overlapping = split(p.page(p.dm("m_2", "psid-1", "two", START_MS + 1), p.dm("m_3", "psid-2", "three", START_MS)))

    stored_first = inbox.store(session=session, events=first)
    session.commit()
    stored_again = inbox.store(session=session, events=first)
    stored_overlapping = inbox.store(session=session, events=overlapping)
    session.commit()

    assert (stored_first, stored_again, stored_overlapping) == (2, 0, 1)
    assert sorted(e.event_key for e in session.exec(select(InboxEvent))) == ["m_1", "m_2", "m_3"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with databases.postgres_database(template=None) as url:
        yield url


def test_the_migration_names_the_sender_of_each_pending_event_from_its_payload(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "0013")
    x_dm = p.x_dm("5001", "4242", "hi", START_MS)
    cut = [
        *split(p.page(p.dm("m_old", "psid-old", "hello", START_MS))),
        *split(p.page(changes=[p.feed_comment("555_1", "fb-9", "Ada", "hi", START_MS // 1000)])),
        *split(p.page(obj="instagram", changes=[p.instagram_comment("1785", "ig-9", "ada", "hi")])),
        *split(p.page(obj="instagram", changes=[p.instagram_mention("1786")])),
        *x_split(x_dm, p.BRAND_X_ID),
        *x_split(p.x_tweets(p.tweet("1700", "77", "@kestrel hi", START_MS)), p.BRAND_X_ID),
        *split(p.page(p.dm("m_done", "psid-done", "hello", START_MS))),
    ]
    now = datetime(2026, 12, 1, tzinfo=UTC)
    old_inbox = sa.table(
        "inbox_events",
        *(sa.column(name) for name in ("platform", "event_key", "channel", "status")),
        *(sa.column(name, UTCDateTime()) for name in ("occurred_at", "received_at")),
        sa.column("raw", sa.JSON()),
    )
    engine = make_engine(empty_database)
    with engine.begin() as db:
        for n, event in enumerate(cut):
            status = "processed" if n == len(cut) - 1 else "pending"
            db.execute(
                old_inbox.insert().values(
                    platform=event.platform, event_key=event.key, channel=event.channel, status=status,
                    occurred_at=event.occurred_at, received_at=now, raw=event.raw,
                )
            )  # fmt: skip
    engine.dispose()

    command.upgrade(config, "head")

    with Session(engine := make_engine(empty_database)) as session:
        keys = {e.event_key: e.sender_key for e in session.exec(select(InboxEvent))}
    engine.dispose()
    assert keys == {
        "m_old": "messenger:psid-old",
        "555_1": "facebook:fb-9",
        "1785": "instagram:ig-9",
        "1786": None,
        "dm:5001": "x:4242",
        "tweet:1700": "x:77",
        "m_done": None,
    }
    assert keys == {e.key: e.sender for e in cut[:-1]} | {"m_done": None}, "as the webhooks write it"

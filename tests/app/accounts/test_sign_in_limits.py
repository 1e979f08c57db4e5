"""The sign-in limits hold however many wrong passwords arrive at once: on SQLite and PostgreSQL,
against the running service; what they count is forgotten once out of their window."""

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from app.accounts import service as accounts
from app.accounts.models import LoginAttempt, WebSession
from app.accounts.service import FAILURES_PER_ADDRESS, FAILURES_PER_EMAIL
from app.cli.background import LiveServer
from app.core.timestamps import utcnow
from knowledge import OnnxEmbedder
from tests.support import factories
from tests.support.instances import instance, seed

KIM = "kim@kestrel.example"


@pytest.fixture
def server(database_url: str, tmp_path: Path, embedder: OnnxEmbedder) -> Iterator[LiveServer]:
    seed(database_url)
    with instance(database_url, tmp_path, embedder) as live:
        yield live


async def _all_at_once(live: LiveServer, emails: list[str]) -> Counter[int]:
    """Send one wrong sign-in per email in `emails`, all at the same time; how many got which status."""
    limits = httpx.Limits(max_connections=len(emails))
    async with httpx.AsyncClient(base_url=live.http_url, timeout=60, limits=limits) as client:
        responses = await asyncio.gather(
            *(client.post("/api/session", json={"email": email, "password": "a wrong guess"}) for email in emails)
        )
    return Counter(response.status_code for response in responses)


async def test_simultaneous_wrong_passwords_for_one_email_get_five_tries(server: LiveServer) -> None:
    statuses = await _all_at_once(server, [KIM] * 25)

    assert statuses == {401: FAILURES_PER_EMAIL, 429: 25 - FAILURES_PER_EMAIL}


async def test_simultaneous_wrong_passwords_from_one_address_get_thirty_tries(server: LiveServer) -> None:
    # Eight emails allow 40 failures between them; the address allows 30 of those.
    emails = [f"guess-{n % 8}@kestrel.example" for n in range(40)]

    statuses = await _all_at_once(server, emails)

    assert statuses == {401: FAILURES_PER_ADDRESS, 429: 40 - FAILURES_PER_ADDRESS}


def test_expired_sessions_and_attempts_out_of_the_window_are_forgotten(session: Session) -> None:
    person, _ = factories.agent(session)
    assert person.id is not None
    now = utcnow()
    session.add_all(
        [
            WebSession(id="expired", person_id=person.id, csrf_token="c", expires_at=now - timedelta(seconds=1)),
            WebSession(id="current", person_id=person.id, csrf_token="c", expires_at=now + timedelta(hours=1)),
            LoginAttempt(email="a@example.test", ip="192.0.2.1", succeeded=False, at=now - timedelta(minutes=16)),
            LoginAttempt(email="a@example.test", ip="192.0.2.1", succeeded=False, at=now - timedelta(minutes=14)),
        ]
    )
    session.commit()

    accounts.forget_old(session=session, now=now)
    session.commit()

    assert session.exec(select(WebSession.id)).all() == ["current"]
    assert session.exec(select(LoginAttempt.at)).all() == [now - timedelta(minutes=14)]

"""Two router processes on one PostgreSQL database, racing: never the same conversation twice,
never an agent over capacity."""

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlmodel import select

from app.assignment.models import Offer, OfferStatus
from app.assignment.store import SqlRoutingStore
from app.core.db import make_engine, session_factory, unit_of_work
from app.core.settings import PROJECT_ROOT
from app.core.timestamps import utcnow
from routing import Policy, Presence, Work
from tests.support import factories
from tests.support.router_race import broken_invariants

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
POLICY = Policy(offer_timeout=timedelta(seconds=2), heartbeat_timeout=timedelta(hours=1))


def test_two_routers_never_assign_a_conversation_twice_or_overfill_an_agent(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    open_session = session_factory(engine)
    with unit_of_work(open_session) as session:
        agent_ids = [factories.agent(session, capacity={"webchat": 2})[0].id for _ in range(8)]
        conversation_ids = [factories.conversation(session).id for _ in range(150)]
    with unit_of_work(open_session) as session:
        store = SqlRoutingStore(session, POLICY)
        now = utcnow()
        for agent_id in agent_ids:
            agent = store.agent(agent_id or 0)
            assert agent is not None
            agent.presence, agent.last_heartbeat = Presence.online, now
            store.save_agent(agent)
        for conversation_id in conversation_ids:
            store.add_work(Work(work_id=str(conversation_id), channel="webchat", queued_at=now))

    racers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.support.router_race", postgres_url, str(seed), "8"],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2)
    ]
    reports = [json.loads(racer.communicate(timeout=120)[0]) for racer in racers]

    assert [r["problems"] for r in reports] == [[], []]
    assert all(r["done"].get("accepted", 0) > 5 and r["done"].get("offers", 0) > 5 for r in reports), reports
    with open_session() as session:
        assert broken_invariants(session) == []
        accepted = session.exec(select(Offer).where(Offer.status == OfferStatus.accepted)).all()
    assert len(accepted) == len({o.conversation_id for o in accepted})
    engine.dispose()

"""One of two router processes racing on the same PostgreSQL database (see test_routing_concurrency).

Run as `python -m tests.support.router_race DATABASE_URL SEED SECONDS`. It routes, accepts,
declines and releases at random, each in its own transaction, and after each one checks what everybody has
committed so far. It prints one JSON line: its counts and any invariant it saw broken.
"""

import json
import random
import sys
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, func, select

from app import tables  # noqa: F401  (the whole schema, for foreign keys)
from app.assignment.models import Offer, OfferStatus, WorkItem
from app.assignment.store import SqlRoutingStore
from app.core.db import SessionFactory, make_engine, session_factory, unit_of_work
from app.core.timestamps import utcnow
from app.people.models import Person
from routing import OfferMade, Policy, Router, RoutingError

POLICY = Policy(offer_timeout=timedelta(seconds=2), heartbeat_timeout=timedelta(hours=1))


def broken_invariants(session: Session) -> list[str]:
    problems = []
    capacity = {a.id: a.capacity for a in session.exec(select(Person))}
    held = Counter(
        (agent_id, channel)
        for agent_id, channel in session.exec(
            select(WorkItem.agent_id, WorkItem.channel).where(col(WorkItem.agent_id).is_not(None))
        )
    )
    for (agent_id, channel), n in held.items():
        if n > capacity[agent_id].get(channel, 0):
            problems.append(f"agent {agent_id} holds {n} on {channel}")
    pending = Counter(session.exec(select(Offer.conversation_id).where(Offer.status == OfferStatus.pending)))
    problems += [f"{c} has {n} pending offers" for c, n in pending.items() if n > 1]
    accepted = session.exec(
        select(Offer.conversation_id, func.count())
        .where(Offer.status == OfferStatus.accepted)
        .group_by(col(Offer.conversation_id))
    )
    problems += [f"{c} was assigned {n} times" for c, n in accepted if n > 1]
    return problems


def main(url: str, seed: int, seconds: float) -> None:
    rng = random.Random(seed)
    engine = make_engine(url)
    open_session = session_factory(engine)
    done: Counter[str] = Counter()
    problems: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not problems:
        try:
            race_once(open_session, rng, done)
        except DBAPIError as exc:
            problems.append(f"the database refused a routing change: {exc.orig}")
            break
        with open_session() as session:
            problems = broken_invariants(session)
    engine.dispose()
    print(json.dumps({"done": dict(done), "problems": problems}))


def race_once(open_session: SessionFactory, rng: random.Random, done: Counter[str]) -> None:
    """One routing change, chosen at random, in its own transaction."""
    with unit_of_work(open_session) as session:
        router = Router(SqlRoutingStore(session, POLICY), POLICY)
        now = utcnow()
        offers = list(router.store.pending_offers())
        owned = [w for agent in router.store.agents() for w in router.store.held_by(agent.agent_id) if w.assigned]
        choice = rng.random()
        try:
            if offers and choice < 0.5:
                offer = rng.choice(offers)
                answer = router.accept if choice < 0.4 else router.decline
                happened = answer(offer.offer_id, offer.agent_id, now)
                done["accepted" if choice < 0.4 else "declined"] += 1
            elif owned and choice < 0.7:
                happened = router.release(rng.choice(owned).work_id, now)
                done["released"] += 1
            else:
                happened = router.tick(now)
            done["offers"] += sum(1 for event in happened if isinstance(event, OfferMade))
        except RoutingError:
            done["refused"] += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))

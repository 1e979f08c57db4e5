"""The database store behaves as the in-memory one: the same operations, in the same order, give the
same events, so the property tests of the engine (run in memory) speak for the service too."""

import random
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.assignment.store import SqlRoutingStore
from app.core.db import make_engine, session_factory, unit_of_work
from routing import (
    AgentState,
    Event,
    MemoryStore,
    OfferClosed,
    OfferMade,
    Policy,
    Presence,
    Router,
    RoutingError,
    Work,
)
from tests.support import factories

POLICY = Policy(offer_timeout=timedelta(seconds=30), ring_timeout=timedelta(seconds=60), grace=timedelta(seconds=60))
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CHANNELS = ["webchat", "x_dm"]


def trace(events: list[Event]) -> list[tuple[Any, ...]]:
    """Events without the store's own ids (offer ids), which differ between stores."""
    traced: list[tuple[Any, ...]] = []
    for event in events:
        match event:
            case OfferMade(offer=offer, decision=decision):
                traced.append(("offer", offer.work_id, offer.agent_id, decision.eligible, decision.reason))
            case OfferClosed(offer=offer, status=status):
                traced.append(("closed", offer.work_id, offer.agent_id, status))
            case _:
                traced.append((type(event).__name__, *vars(event).values()))
    return traced


def script(seed: int, agent_ids: list[int], work_ids: list[str]) -> list[tuple[str, Any]]:
    """A random but repeatable day: arrivals, presence, answers, releases, transfers, time passing."""
    rng = random.Random(seed)
    steps: list[tuple[str, Any]] = [("online", agent_id) for agent_id in agent_ids[:2]]
    arrived = 0
    for _ in range(60):
        kind = rng.choice(["arrive", "arrive", "answer", "answer", "presence", "release", "transfer", "tick"])
        if kind == "arrive" and arrived < len(work_ids):
            steps.append(("arrive", (work_ids[arrived], rng.choice(CHANNELS), rng.randint(0, 3))))
            arrived += 1
        elif kind == "answer":
            steps.append(("answer", rng.random() < 0.7))
        elif kind == "presence":
            steps.append(("presence", (rng.choice(agent_ids), rng.choice(list(Presence)))))
        elif kind in ("release", "transfer"):
            steps.append((kind, rng.randrange(1000)))
        else:
            steps.append(("tick", rng.randint(5, 70)))
    return steps


def play(steps: list[tuple[str, Any]], run: Callable[[Callable[[Router], list[Event]]], list[Event]]) -> list[Any]:
    now = T0
    log: list[Any] = []
    for kind, arg in steps:
        at = now

        def step(router: Router, kind: str = kind, arg: Any = arg, at: datetime = at) -> list[Event]:
            if kind == "online":
                return router.set_presence(arg, Presence.online, at)
            if kind == "presence":
                return router.set_presence(arg[0], arg[1], at)
            if kind == "arrive":
                work_id, channel, priority = arg
                return router.arrive(Work(work_id=work_id, channel=channel, queued_at=at, priority=priority), at)
            if kind == "tick":
                for agent in list(router.store.agents()):
                    if agent.presence == Presence.online:
                        router.heartbeat(agent.agent_id, at)
                return router.tick(at)
            offers = sorted(router.store.pending_offers(), key=lambda o: o.work_id)
            works = sorted(router.store.unassigned(), key=lambda w: w.work_id)
            if kind == "answer" and offers:
                offer = offers[0]
                answer = router.accept if arg else router.decline
                return answer(offer.offer_id, offer.agent_id, at)
            assigned = _all_assigned(router)
            if kind == "release" and (works or assigned):
                pool = works + assigned
                return router.release(pool[arg % len(pool)].work_id, at)
            if kind == "transfer" and assigned:
                return router.transfer(assigned[arg % len(assigned)].work_id, at, team="overflow")
            return []

        try:
            log.append(trace(run(step)))
        except RoutingError as exc:
            log.append(("refused", re.sub(r"offer \d+", "offer #", str(exc))))
        if kind == "tick":
            now += timedelta(seconds=arg)
    return log


def _all_assigned(router: Router) -> list[Work]:
    held: list[Work] = []
    for agent in router.store.agents():
        held += [w for w in router.store.held_by(agent.agent_id) if w.assigned]
    return sorted(held, key=lambda w: w.work_id)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_database_store_routes_exactly_as_the_memory_store(database_url: str, seed: int) -> None:
    engine = make_engine(database_url)
    open_session = session_factory(engine)
    with unit_of_work(open_session) as session:
        agents = [
            factories.agent(session, capacity={"webchat": 2, "x_dm": 1}, teams=["overflow"])[0],
            factories.agent(session, capacity={"webchat": 1}, skills={"billing": 4})[0],
            factories.agent(session, capacity={"x_dm": 2})[0],
        ]
        work_ids = [str(factories.conversation(session).id) for _ in range(12)]
    agent_ids = [a.id for a in agents if a.id is not None]
    steps = script(seed, agent_ids, work_ids)

    memory = MemoryStore(POLICY)
    for agent in agents:
        assert agent.id is not None
        memory.save_agent(
            AgentState(
                agent_id=agent.id,
                name=agent.name,
                skills=agent.skills,
                capacity=agent.capacity,
                teams=frozenset(agent.teams),
                languages=frozenset(agent.languages),
            )
        )
    in_memory = play(steps, lambda step: step(Router(memory, POLICY)))

    def in_a_transaction(step: Callable[[Router], list[Event]]) -> list[Event]:
        with unit_of_work(open_session) as session:
            return step(Router(SqlRoutingStore(session, POLICY), POLICY))

    in_database = play(steps, in_a_transaction)
    engine.dispose()

    assert sum(1 for entry in in_memory for e in entry if e and e[0] == "offer") > 3, "the script exercised offers"
    assert in_database == in_memory


def test_the_clock_reads_only_the_agents_it_may_change(database_url: str) -> None:
    """Online and silent, or lost past the grace period: the stores agree, and nobody else is read."""
    engine = make_engine(database_url)
    open_session = session_factory(engine)
    silent_since, lost_by = T0 - POLICY.heartbeat_timeout, T0 - POLICY.grace
    states = {
        "online, heard just now": (Presence.online, T0, None),
        "online, never heard": (Presence.online, None, None),
        "online, silent": (Presence.online, silent_since - timedelta(seconds=1), None),
        "online, heard at the limit": (Presence.online, silent_since, None),
        "away, silent": (Presence.away, silent_since - timedelta(hours=1), None),
        "offline, lost long ago": (Presence.offline, None, lost_by - timedelta(seconds=1)),
        "offline, lost at the limit": (Presence.offline, None, lost_by),
        "offline, lost just now": (Presence.offline, None, T0),
        "offline, not lost": (Presence.offline, None, None),
    }
    memory = MemoryStore(POLICY)
    names: dict[int, str] = {}
    with unit_of_work(open_session) as session:
        for name, (presence, heard, lost) in states.items():
            row, _ = factories.agent(session, capacity={"webchat": 1})
            row.presence, row.last_heartbeat_at, row.lost_at = presence, heard, lost
            session.add(row)
            session.flush()
            assert row.id is not None
            names[row.id] = name
            memory.save_agent(
                AgentState(
                    agent_id=row.id, name=name, presence=presence, last_heartbeat=heard, lost_at=lost, capacity={}
                )
            )
    with unit_of_work(open_session) as session:
        in_database = [names[a.agent_id] for a in SqlRoutingStore(session, POLICY).agents_due(silent_since, lost_by)]
    engine.dispose()
    in_memory = [names[a.agent_id] for a in memory.agents_due(silent_since, lost_by)]

    expected = ["online, never heard", "online, silent", "offline, lost long ago", "offline, lost at the limit"]
    assert in_memory == expected
    assert in_database == expected

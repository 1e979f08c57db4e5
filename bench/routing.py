"""`carebridge bench routing`: 1,000 agents and 10,000 waiting conversations.

- One routing decision in memory (`AgentPool.choose`, indexed by channel, skill and team), next to a
  plain implementation that checks every agent for every decision.
- Assignments through PostgreSQL (the router's offers, then the agents' accepts, each accept in its
  own transaction), next to a plain implementation that routes one conversation per transaction by
  reading every agent and every load.
"""

import asyncio
import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import psycopg
from psycopg import sql
from sqlalchemy import func, insert
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from app import tables  # noqa: F401  (the whole schema, for foreign keys)
from app.assignment.models import Offer, OfferStatus, WorkItem
from app.assignment.service import Acceptance
from app.assignment.store import SqlRoutingStore
from app.assignment.writer import BatchWriter
from app.conversations.models import Conversation
from app.core.db import make_engine, migrate, session_factory, unit_of_work
from app.core.timestamps import utcnow
from app.customers.models import Customer
from app.people.models import Person
from bench.report import Measure, Report, percentile
from routing import AgentPool, AgentState, OfferMade, Policy, Presence, Router, Work, queue_rank
from routing.eligibility import is_eligible

AGENTS = 1_000
WAITING = 10_000
SKILLS = [f"skill-{n}" for n in range(10)]
CHANNEL_CAPACITY = {"webchat": 10}
PLAIN_SAMPLE = 1_000
ACCEPT_SAMPLE = 2_000
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
POLICY = Policy(heartbeat_timeout=timedelta(hours=1), offer_timeout=timedelta(hours=1))


def make_agents(rng: random.Random) -> list[AgentState]:
    now = utcnow()
    agents = []
    for agent_id in range(1, AGENTS + 1):
        capacity = {"webchat": 3}
        if rng.random() < 0.5:
            capacity["x_dm"] = 2
        if rng.random() < 0.3:
            capacity["x_mention"] = 1
        languages = {"en"} | ({"de"} if rng.random() < 0.3 else set()) | ({"fr"} if rng.random() < 0.2 else set())
        agents.append(
            AgentState(
                agent_id=agent_id,
                skills={skill: rng.randint(1, 10) for skill in rng.sample(SKILLS, 3)},
                languages=frozenset(languages),
                capacity=capacity,
                teams=frozenset({"overflow"}) if rng.random() < 0.1 else frozenset(),
                presence=Presence.online if rng.random() < 0.9 else Presence.away,
                last_heartbeat=now,
                idle_since=now - timedelta(seconds=rng.randint(0, 3600)),
            )
        )
    return agents


def make_work(rng: random.Random, count: int) -> list[Work]:
    now = utcnow()
    works = []
    for n in range(count):
        required = {rng.choice(SKILLS): rng.randint(1, 6)}
        optional = {rng.choice(SKILLS): rng.randint(1, 4)} if rng.random() < 0.3 else {}
        works.append(
            Work(
                work_id=str(uuid.UUID(int=rng.getrandbits(128))),
                channel=rng.choices(["webchat", "x_dm", "x_mention"], weights=[6, 3, 1])[0],
                language=rng.choices(["en", "de", "fr"], weights=[8, 1, 1])[0],
                required=required,
                optional=optional,
                priority=rng.randint(0, 3),
                queued_at=now - timedelta(seconds=count - n),
                stage=rng.choice([0, 0, 1, 2, 3]),
            )
        )
    return works


def scan_choose(work: Work, agents: list[AgentState], loads: dict[int, dict[str, int]]) -> int | None:
    """The plain way: look at every agent, keep the eligible, take one who speaks the language, the
    least loaded, then idlest."""
    best: tuple[bool, float, object, int] | None = None
    for agent in agents:
        load = loads.get(agent.agent_id, {})
        if not is_eligible(agent, work, load.get(work.channel, 0), POLICY):
            continue
        capacity = sum(agent.capacity.values())
        rank = (work.language not in agent.languages, sum(load.values()) / capacity, agent.idle_since, agent.agent_id)
        if best is None or rank < best:
            best = rank
    return best[3] if best else None


def decisions_in_memory(rng: random.Random) -> tuple[list[float], list[float], int]:
    agents = make_agents(rng)
    loads = {a.agent_id: {ch: rng.randint(0, cap - 1) for ch, cap in a.capacity.items()} for a in agents}
    works = make_work(rng, WAITING)
    pool = AgentPool(agents, loads)
    ours: list[float] = []
    plain: list[float] = []
    disagreements = 0
    for work in works:
        started = time.perf_counter()
        decision = pool.choose(work, POLICY)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        scanned = scan_choose(work, agents, loads)
        plain.append(time.perf_counter() - started)
        disagreements += decision.agent_id != scanned
    return ours, plain, disagreements


@contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    name = f"carebridge_bench_{uuid.uuid4().hex[:10]}"
    admin = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def seed(session: Session, rng: random.Random) -> None:
    """1,000 online agents with 10 web chat slots each, and 10,000 conversations waiting for them."""
    now = utcnow()
    session.execute(
        insert(Person),
        [
            {
                "name": f"agent {n}",
                "email": f"agent{n}@bench.test",
                "token_hash": uuid.uuid4().hex,
                "role": "agent",
                "skills": {skill: rng.randint(3, 10) for skill in rng.sample(SKILLS, 3)},
                "languages": ["en"],
                "capacity": CHANNEL_CAPACITY,
                "teams": [],
                "presence": Presence.online,
                "last_heartbeat_at": now,
                "idle_since": now - timedelta(seconds=n),
                "missed_offers": 0,
                "created_at": now,
            }
            for n in range(AGENTS)
        ],
    )
    customer = Customer()
    session.add(customer)
    session.flush()
    ids = [uuid.uuid4() for _ in range(WAITING)]
    session.execute(
        insert(Conversation),
        [
            {"id": i, "customer_id": customer.id, "channel": "webchat", "status": "open", "owner": "queue",
             "last_seq": 0, "created_at": now, "updated_at": now}
            for i in ids
        ],
    )  # fmt: skip
    rows = []
    for n, conversation_id in enumerate(ids):
        work = Work(
            work_id=str(conversation_id),
            channel="webchat",
            queued_at=now - timedelta(seconds=WAITING - n),
            required={rng.choice(SKILLS): rng.randint(1, 3)},
            priority=rng.randint(0, 3),
        )
        rows.append(
            {"conversation_id": conversation_id, "channel": "webchat", "language": "en", "required": work.required,
             "optional": {}, "priority": work.priority, "queued_at": work.queued_at,
             "queue_rank": queue_rank(work, POLICY), "front": False, "stage": 3, "stage_since": now,
             "refused_by": [], "assigned": False}
        )  # fmt: skip
    session.execute(insert(WorkItem), rows)


@dataclass(frozen=True)
class RouterAccept:
    """An accept as the router alone sees it (no conversation message, no view for the agent)."""

    offer_id: int
    agent_id: int

    def __call__(self, session: Session) -> object:
        return Router(SqlRoutingStore(session, POLICY), POLICY).accept(self.offer_id, self.agent_id, utcnow())


def carebridge_assignments(url: str) -> tuple[float, float, float, int]:
    """Seconds to offer every waiting conversation; seconds per accept through the router, and through
    the whole service (the conversation's assignment, the view the agent gets back); offers made.

    The accepts arrive all at once, as from many agents' consoles, through the routing writer.
    """
    engine = make_engine(url)
    open_session = session_factory(engine)
    started = time.perf_counter()
    with unit_of_work(open_session) as session:
        made = Router(SqlRoutingStore(session, POLICY), POLICY).dispatch(utcnow())
    offering = time.perf_counter() - started
    offers = [event.offer for event in made if isinstance(event, OfferMade)]
    router_sample, service_sample = offers[:ACCEPT_SAMPLE], offers[ACCEPT_SAMPLE : 2 * ACCEPT_SAMPLE]
    with open_session() as session:
        agents = {agent.id: agent for agent in session.exec(select(Person))}

    async def accept_all(changes: list[Callable[[Session], object]]) -> float:
        writer = BatchWriter(open_session)
        writer.start()
        started = time.perf_counter()
        await asyncio.gather(*(writer.submit(change) for change in changes))
        elapsed = time.perf_counter() - started
        await writer.stop()
        return elapsed / len(changes)

    per_router_accept = asyncio.run(accept_all([RouterAccept(o.offer_id, o.agent_id) for o in router_sample]))
    per_service_accept = asyncio.run(
        accept_all([Acceptance(POLICY, o.offer_id, agents[o.agent_id], utcnow()) for o in service_sample])
    )
    engine.dispose()
    return offering, per_router_accept, per_service_accept, len(made)


def plain_assignments(url: str) -> float:
    """Seconds per assignment the plain way: one conversation per transaction, every agent read each time."""
    engine = make_engine(url)
    open_session = session_factory(engine)
    started = time.perf_counter()
    for _ in range(PLAIN_SAMPLE):
        with unit_of_work(open_session) as session:
            row = session.exec(
                select(WorkItem)
                .where(col(WorkItem.agent_id).is_(None))
                .order_by(col(WorkItem.front).desc(), col(WorkItem.queue_rank))
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if row is None:
                break
            agents = [
                AgentState(
                    agent_id=a.id or 0, skills=a.skills, capacity=a.capacity, languages=frozenset(a.languages),
                    presence=a.presence, last_heartbeat=a.last_heartbeat_at, idle_since=a.idle_since,
                )
                for a in session.exec(select(Person).with_for_update())
            ]  # fmt: skip
            loads: dict[int, dict[str, int]] = {}
            for agent_id, channel, held in session.exec(
                select(WorkItem.agent_id, WorkItem.channel, func.count())
                .where(col(WorkItem.agent_id).is_not(None))
                .group_by(col(WorkItem.agent_id), col(WorkItem.channel))
            ):
                loads.setdefault(agent_id or 0, {})[channel] = held
            work = Work(work_id=str(row.conversation_id), channel=row.channel, queued_at=row.queued_at,
                        required=row.required, stage=row.stage)  # fmt: skip
            chosen = scan_choose(work, agents, loads)
            if chosen is None:
                continue
            offer = Offer(
                conversation_id=row.conversation_id, agent_id=chosen, expires_at=utcnow() + timedelta(hours=1)
            )
            session.add(offer)
            row.agent_id = chosen
            session.add(row)
        with unit_of_work(open_session) as session:
            offer.status, offer.decided_at = OfferStatus.accepted, utcnow()
            row.assigned = True
            session.add(offer)
            session.add(row)
    seconds = (time.perf_counter() - started) / PLAIN_SAMPLE
    engine.dispose()
    return seconds


def run(postgres_url: str = DEFAULT_POSTGRES) -> Report:
    rng = random.Random(7)
    ours, plain, disagreements = decisions_in_memory(rng)
    report = Report(
        subject="routing",
        description=f"{AGENTS:,} agents, {WAITING:,} waiting conversations",
        baseline_name="plain scan",
    )
    for q in (50, 99):
        report.measures.append(
            Measure(f"decision p{q}, in memory", "ms", percentile(ours, q) * 1000, percentile(plain, q) * 1000)
        )
    report.notes.append(f"the indexed and the plain choice disagreed on {disagreements} of {WAITING} decisions")

    with scratch_database(postgres_url) as url:
        migrate(url)
        engine = make_engine(url)
        with unit_of_work(session_factory(engine)) as session:
            seed(session, random.Random(11))
        engine.dispose()
        offering, per_router_accept, per_service_accept, made = carebridge_assignments(url)
        per_plain = plain_assignments(url)
    report.measures += [
        Measure("offers made, PostgreSQL", "/s", made / offering, None, "higher"),
        Measure("accepts by the router, PostgreSQL", "/s", 1 / per_router_accept, None, "higher"),
        Measure(
            "assignments (offer + accept), PostgreSQL",
            "/s",
            1 / (offering / made + per_router_accept),
            1 / per_plain,
            "higher",
        ),
        Measure("accepts through the whole service", "/s", 1 / per_service_accept, None, "higher"),
    ]
    report.notes.append(
        f"{made:,} offers in one routing pass of {offering:.2f} s; accepts timed over {ACCEPT_SAMPLE:,} each way, "
        f"the plain way over {PLAIN_SAMPLE:,} conversations; the whole service also assigns the conversation "
        "and returns its history to the agent"
    )
    return report

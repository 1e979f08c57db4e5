"""What a supervisor watches: the queues by channel and skill with their waiting times and SLA, and
every person's status and load. Read from the router's tables, so every instance shows the same."""

from collections import defaultdict
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlmodel import Session, col, select

from app.assignment.models import Offer, OfferStatus, WorkItem
from app.people.models import Person, Role

# Work counts as at risk when less than this share of its SLA is left.
AT_RISK_SHARE = 0.2


class Queue(BaseModel):
    channel: str
    # The skills the work needs, as "skill>=level"; empty for work anyone can take.
    skills: list[str]
    waiting: int
    # Waiting work with an offer out to someone right now.
    offered: int
    oldest_wait_seconds: float
    at_risk: int
    breached: int


class PersonAtWork(BaseModel):
    id: int
    name: str
    role: Role
    presence: str
    # Channel -> conversations they have now; capacity is how many they take at once.
    load: dict[str, int]
    capacity: dict[str, int]
    offers_open: int
    missed_offers: int
    last_heartbeat_at: datetime | None
    conversations: list[str]


class Overview(BaseModel):
    at: datetime
    sla_seconds: float
    queues: list[Queue]
    people: list[PersonAtWork]


def overview(*, session: Session, now: datetime, sla: timedelta) -> Overview:
    """The picture at `now`. Work a handoff commits between reading the clock and reading the tables
    is newer than `now`: it has waited no time, never less."""
    items = session.exec(select(WorkItem)).all()
    queues: dict[tuple[str, tuple[str, ...]], list[WorkItem]] = defaultdict(list)
    load: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    owned: dict[int, list[str]] = defaultdict(list)
    for item in items:
        if item.assigned and item.agent_id is not None:
            load[item.agent_id][item.channel] += 1
            owned[item.agent_id].append(str(item.conversation_id))
        else:
            skills = tuple(sorted(f"{skill}>={level}" for skill, level in item.required.items()))
            queues[(item.channel, skills)].append(item)
    offers: dict[int, int] = defaultdict(int)
    for agent_id in session.exec(select(Offer.agent_id).where(Offer.status == OfferStatus.pending)):
        offers[agent_id] += 1
    at_risk_before = now + sla * AT_RISK_SHARE
    people = session.exec(
        select(Person).where(col(Person.role).in_([Role.agent, Role.supervisor])).order_by(col(Person.name))
    ).all()
    return Overview(
        at=now,
        sla_seconds=sla.total_seconds(),
        queues=sorted(
            (
                Queue(
                    channel=channel,
                    skills=list(skills),
                    waiting=len(waiting),
                    offered=sum(1 for w in waiting if w.agent_id is not None),
                    oldest_wait_seconds=max(0.0, *((now - w.queued_at).total_seconds() for w in waiting)),
                    at_risk=sum(1 for w in waiting if w.sla_due is not None and now <= w.sla_due < at_risk_before),
                    breached=sum(1 for w in waiting if w.sla_due is not None and w.sla_due < now),
                )
                for (channel, skills), waiting in queues.items()
            ),
            key=lambda q: -q.oldest_wait_seconds,
        ),
        people=[
            PersonAtWork(
                id=agent.id,
                name=agent.name,
                role=agent.role,
                presence=agent.presence,
                load=dict(load.get(agent.id, {})),
                capacity=agent.capacity,
                offers_open=offers.get(agent.id, 0),
                missed_offers=agent.missed_offers,
                last_heartbeat_at=agent.last_heartbeat_at,
                conversations=owned.get(agent.id, []),
            )
            for agent in people
            if agent.id is not None
        ],
    )

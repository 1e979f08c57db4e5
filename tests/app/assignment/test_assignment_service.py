"""Routing in the service, on SQLite and PostgreSQL: the engine's changes, the conversation's, the
alerts and what is sent, each committed together."""

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from sqlmodel import Session, select

from app.assignment import service as assignment
from app.assignment.models import Alert, AlertKind, WorkItem
from app.assignment.overview import overview
from app.assignment.service import Outcome, RoutingRefused
from app.conversations import ownership
from app.conversations import service as conversations
from app.conversations.models import Conversation, Owner
from app.core.db import SessionFactory, make_engine, session_factory, unit_of_work
from app.people.models import Person, Role
from routing import Policy, Presence
from tests.support import factories

T = TypeVar("T")
POLICY = Policy(
    offer_timeout=timedelta(seconds=30),
    ring_timeout=timedelta(seconds=60),
    max_wait=timedelta(minutes=5),
    heartbeat_timeout=timedelta(seconds=45),
    grace=timedelta(seconds=60),
)
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Service:
    """The assignment service with a clock, each call in its own transaction like the app's flows."""

    def __init__(self, open_session: SessionFactory) -> None:
        self.open_session = open_session
        self.now = T0

    def at(self, seconds: float) -> datetime:
        self.now = T0 + timedelta(seconds=seconds)
        return self.now

    def do(self, work: Callable[[Session], T]) -> T:
        with unit_of_work(self.open_session) as session:
            return work(session)

    def agent(self, **fields: object) -> Person:
        def create(session: Session) -> Person:
            agent, _ = factories.agent(session, **fields)  # type: ignore[arg-type]
            assert agent.id is not None
            assignment.set_presence(
                session=session, policy=POLICY, agent_id=agent.id, presence=Presence.online, now=self.now
            )
            return agent

        return self.do(create)

    def hand_off(self, skills: list[str] | None = None) -> tuple[Conversation, Outcome]:
        def go(session: Session) -> tuple[Conversation, Outcome]:
            conversation = factories.conversation(session)
            packet = {"reason": "customer_request", "skills": skills or []}
            ownership.hand_off(session=session, conversation_id=conversation.id, packet=packet)
            work = assignment.work_for_handoff(conversation, packet, self.now, timedelta(minutes=5))
            return conversation, assignment.enqueue(session=session, policy=POLICY, work=work, now=self.now)

        return self.do(go)

    def tick(self, seconds: float, heartbeats: tuple[int, ...] = ()) -> Outcome:
        now = self.at(seconds)

        def go(session: Session) -> Outcome:
            return assignment.tick(session=session, policy=POLICY, now=now, heard=heartbeats)

        return self.do(go)


@pytest.fixture
def service(database_url: str) -> Iterator[Service]:
    engine = make_engine(database_url)
    yield Service(session_factory(engine))
    engine.dispose()


def offers_in(outcome: Outcome) -> list[tuple[int, str]]:
    return [(agent_id, e["offer"]["conversation_id"]) for agent_id, e in outcome.to_agents if e["type"] == "offer"]


def test_a_handoff_is_offered_to_an_agent_with_the_skill_and_the_whole_history(service: Service) -> None:
    service.agent(skills={"orders": 5})
    billing = service.agent(skills={"billing": 5})

    conversation, outcome = service.hand_off(skills=["billing"])

    assert offers_in(outcome) == [(billing.id, str(conversation.id))]
    (_, offer), *_ = outcome.to_agents
    assert "1 eligible" in offer["offer"]["reason"]
    assert offer["history"][-1]["payload"]["packet"]["skills"] == ["billing"]


def test_accept_assigns_the_conversation_and_tells_the_customer(service: Service) -> None:
    agent = service.agent()
    conversation, offered = service.hand_off()
    offer_id = offered.to_agents[0][1]["offer"]["id"]

    accepted = service.do(
        lambda s: assignment.accept(session=s, policy=POLICY, offer_id=offer_id, agent=agent, now=service.now)
    )

    assert accepted.result["conversation"]["owner"] == "agent"
    assert [m.text for m in accepted.to_customers] == [f"{agent.name} joined the conversation"]
    owner = service.do(lambda s: conversations.get(session=s, conversation_id=conversation.id))
    assert (owner.owner, owner.agent_id) == (Owner.agent, agent.id)
    with pytest.raises(RoutingRefused, match=f"offer {offer_id} is not open"):
        service.do(
            lambda s: assignment.accept(session=s, policy=POLICY, offer_id=offer_id, agent=agent, now=service.now)
        )


def test_a_decline_moves_the_offer_to_the_next_agent(service: Service) -> None:
    first = service.agent()
    second = service.agent()
    _, offered = service.hand_off()
    (chosen, event), *_ = offered.to_agents
    assert chosen in (first.id, second.id)

    declined = service.do(
        lambda s: assignment.decline(
            session=s, policy=POLICY, offer_id=event["offer"]["id"], agent_id=chosen, now=service.now
        )
    )

    kinds = [(agent_id, e["type"]) for agent_id, e in declined.to_agents]
    other = second.id if chosen == first.id else first.id
    assert kinds == [(chosen, "offer_withdrawn"), (other, "offer")]


def test_two_offers_run_out_in_a_row_and_the_supervisor_hears_of_it(service: Service) -> None:
    agent = service.agent()
    assert agent.id is not None
    service.hand_off()

    service.tick(30, heartbeats=(agent.id,))
    away = service.tick(60, heartbeats=(agent.id,))

    assert [e["alert"]["kind"] for e in away.to_supervisors] == [AlertKind.agent_set_away]
    assert (agent.id, {"type": "presence", "presence": Presence.away}) in away.to_agents
    alerts = service.do(lambda s: s.exec(select(Alert)).all())
    assert [a.agent_id for a in alerts] == [agent.id]


def test_waiting_too_long_alerts_the_supervisor_and_tells_the_customer(service: Service) -> None:
    conversation, _ = service.hand_off(skills=["legal"])

    late = service.tick(5 * 60)

    assert [e["alert"]["kind"] for e in late.to_supervisors] == [AlertKind.waited_too_long]
    (notice,) = late.to_customers
    assert notice.conversation_id == conversation.id and not notice.internal
    assert "come back later" in notice.text and notice.payload is not None
    assert notice.payload["continue_async"] is True


def test_a_lost_agents_conversation_returns_to_the_queue_after_the_grace_period(service: Service) -> None:
    leaving = service.agent()
    conversation, offered = service.hand_off()
    offer_id = offered.to_agents[0][1]["offer"]["id"]
    service.do(lambda s: assignment.accept(session=s, policy=POLICY, offer_id=offer_id, agent=leaving, now=service.now))
    assert leaving.id is not None
    service.do(
        lambda s: assignment.set_presence(
            session=s, policy=POLICY, agent_id=leaving.id or 0, presence=Presence.offline, now=service.at(10)
        )
    )
    assert service.do(lambda s: conversations.get(session=s, conversation_id=conversation.id)).owner == Owner.agent

    standing_by = service.agent()
    assert standing_by.id is not None
    returned = service.tick(75, heartbeats=(standing_by.id,))

    requeued = service.do(lambda s: conversations.get(session=s, conversation_id=conversation.id))
    assert requeued.owner == Owner.queue
    assert offers_in(returned) == [(standing_by.id, str(conversation.id))]
    item = service.do(lambda s: s.get(WorkItem, conversation.id))
    assert item is not None and item.front


def test_transfer_to_a_team_goes_through_an_offer_with_the_note(service: Service) -> None:
    owner = service.agent()
    retention = service.agent(teams=["retention"], role=Role.agent)
    conversation, offered = service.hand_off()
    offer_id = next(e["offer"]["id"] for agent_id, e in offered.to_agents if e["type"] == "offer")
    taker = owner if offered.to_agents[0][0] == owner.id else retention
    service.do(lambda s: assignment.accept(session=s, policy=POLICY, offer_id=offer_id, agent=taker, now=service.now))
    assert taker.id is not None

    moved = service.do(
        lambda s: assignment.transfer(
            session=s,
            policy=POLICY,
            conversation_id=conversation.id,
            agent_id=taker.id or 0,
            now=service.at(5),
            to_agent=None,
            to_team="retention",
            note="wants to cancel",
        )
    )

    offers = [(agent_id, e) for agent_id, e in moved.to_agents if e["type"] == "offer"]
    assert [agent_id for agent_id, _ in offers] == [retention.id]
    assert offers[0][1]["history"][-1]["text"] == "Transferred to team retention: wants to cancel"


def test_every_routing_decision_is_kept_with_its_reason(service: Service) -> None:
    service.agent(skills={"billing": 5})
    conversation, _ = service.hand_off(skills=["billing"])

    decisions = service.do(lambda s: assignment.decisions_for(session=s, conversation_id=conversation.id))

    assert len(decisions) == 1
    assert decisions[0].eligible == [decisions[0].agent_id]
    assert "stage 0 (all skills): 1 eligible" in decisions[0].reason


def test_releasing_a_conversation_frees_the_slot(service: Service) -> None:
    agent = service.agent(capacity={"webchat": 1})
    first, offered = service.hand_off()
    offer_id = offered.to_agents[0][1]["offer"]["id"]
    service.do(lambda s: assignment.accept(session=s, policy=POLICY, offer_id=offer_id, agent=agent, now=service.now))
    second, nothing = service.hand_off()
    assert offers_in(nothing) == []

    freed = service.do(
        lambda s: assignment.release(session=s, policy=POLICY, conversation_id=first.id, now=service.now)
    )

    assert offers_in(freed) == [(agent.id, str(second.id))]
    assert service.do(lambda s: s.get(WorkItem, first.id)) is None


def test_unknown_offer_or_conversation_is_refused_by_name(service: Service) -> None:
    agent = service.agent()
    missing = uuid.uuid4()

    with pytest.raises(RoutingRefused, match="offer 12345 is not open"):
        service.do(lambda s: assignment.accept(session=s, policy=POLICY, offer_id=12345, agent=agent, now=service.now))
    with pytest.raises(RoutingRefused, match=f"work '{missing}' is not being routed"):
        service.do(lambda s: assignment.release(session=s, policy=POLICY, conversation_id=missing, now=service.now))


def test_work_queued_after_the_overviews_clock_has_waited_no_time_not_less(service: Service) -> None:
    # The overview reads the clock, then the tables: a handoff committed in between is newer than "now".
    service.at(10)
    service.hand_off()

    seen = service.do(lambda s: overview(session=s, now=T0 + timedelta(seconds=9.99), sla=timedelta(minutes=5)))

    (queue,) = seen.queues
    assert queue.waiting == 1 and queue.oldest_wait_seconds == 0.0

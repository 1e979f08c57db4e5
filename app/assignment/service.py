"""Routing in the service: the `routing` engine over the database, and what its events mean for
conversations, supervisors and customers.

Each function runs inside one transaction: the router's change, the conversation's change and the
alerts commit together. The caller publishes the returned deliveries after the commit.
"""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.assignment.models import Alert, AlertKind, OfferStatus, RoutingDecision
from app.assignment.models import Offer as OfferRow
from app.assignment.store import SqlRoutingStore
from app.assignment.wire import alert_event, offer_closed_event, offer_event
from app.conversations import messages, ownership
from app.conversations import service as conversations
from app.conversations.models import Conversation, Message, Owner
from app.conversations.wire import conversation_view, message_event
from app.core.errors import Conflict, DomainError
from app.people import service as people
from app.people.models import Person
from app.realtime import feed
from app.realtime.models import Event as WireEvent
from app.realtime.models import Numbered
from routing import (
    AgentLost,
    AgentSetAway,
    Assigned,
    Event,
    Offer,
    OfferClosed,
    OfferMade,
    Policy,
    Presence,
    Requeued,
    Router,
    RoutingError,
    WaitedTooLong,
    Widened,
    Work,
)

# Skills the bot suggests in a handoff are asked for at this level; widening lowers it if need be.
SUGGESTED_SKILL_LEVEL = 3


class RoutingRefused(DomainError):
    """The router refused a request (an offer that is gone, a transfer of unowned work)."""

    status_code = 409


@dataclass
class Outcome:
    """What to tell whom once the transaction committed."""

    to_agents: list[tuple[int, WireEvent]] = field(default_factory=list)
    to_customers: list[Message] = field(default_factory=list)
    to_supervisors: list[WireEvent] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    # What `store_in_feeds` numbered and stored of `to_agents` and `to_supervisors`: what is delivered.
    numbered: Numbered = field(default_factory=list)


def store_in_feeds(session: Session, outcome: Outcome) -> Outcome:
    """Store the agents' and supervisors' events in their feeds, in the transaction of the change."""
    outcome.numbered = feed.number_and_store(
        session, [*outcome.to_agents, *((None, alert) for alert in outcome.to_supervisors)]
    )
    return outcome


def router(session: Session, policy: Policy) -> Router:
    return Router(SqlRoutingStore(session, policy), policy)


def _run(session: Session, policy: Policy, operation: str, *args: Any, **kwargs: Any) -> tuple[Router, list[Event]]:
    engine = router(session, policy)
    try:
        return engine, getattr(engine, operation)(*args, **kwargs)
    except RoutingError as exc:
        raise RoutingRefused(str(exc)) from exc


def work_for_handoff(
    conversation: Conversation, packet: dict[str, Any], now: datetime, sla: timedelta, language: str = "en"
) -> Work:
    """What the bot's handoff packet asks of the person who takes over, in the customer's `language`
    unless the packet names one."""
    skills = [str(skill) for skill in packet.get("skills", []) if skill]
    priority = packet.get("priority", 0)
    return Work(
        work_id=str(conversation.id),
        channel=conversation.channel,
        queued_at=now,
        language=str(packet.get("language") or language),
        required=dict.fromkeys(skills, SUGGESTED_SKILL_LEVEL),
        priority=priority if priority in range(4) else 0,
        sla_due=now + sla,
    )


def enqueue(*, session: Session, policy: Policy, work: Work, now: datetime) -> Outcome:
    """A conversation now waiting in the queue starts being routed."""
    _, happened = _run(session, policy, "arrive", work, now)
    return _apply(session, happened, now)


def accept(*, session: Session, policy: Policy, offer_id: int, agent: Person, now: datetime) -> Outcome:
    assert agent.id is not None
    _, happened = _run(session, policy, "accept", offer_id, agent.id, now)
    (assigned,) = [event for event in happened if isinstance(event, Assigned)]
    conversation_id = uuid.UUID(assigned.work_id)
    joined = ownership.assign(session=session, conversation_id=conversation_id, agent=agent)
    outcome = _apply(session, happened, now)
    outcome.to_customers.append(joined)
    outcome.result = {"type": "assigned", **agent_view(session, conversation_id)}
    return outcome


@dataclass(frozen=True)
class Acceptance:
    """An agent accepting an offer, as a change for the routing writer (an `AnswersOffer`)."""

    policy: Policy
    offer_id: int
    agent: Person
    now: datetime

    def __call__(self, session: Session) -> Outcome:
        return accept(session=session, policy=self.policy, offer_id=self.offer_id, agent=self.agent, now=self.now)


def decline(*, session: Session, policy: Policy, offer_id: int, agent_id: int, now: datetime) -> Outcome:
    _, happened = _run(session, policy, "decline", offer_id, agent_id, now)
    return _apply(session, happened, now)


def release(*, session: Session, policy: Policy, conversation_id: uuid.UUID, now: datetime) -> Outcome:
    """The conversation left the people (resolved or handed back): free its slot."""
    _, happened = _run(session, policy, "release", str(conversation_id), now)
    return _apply(session, happened, now)


def transfer(
    *,
    session: Session,
    policy: Policy,
    conversation_id: uuid.UUID,
    agent_id: int,
    now: datetime,
    to_agent: int | None,
    to_team: str | None,
    note: str,
) -> Outcome:
    """The owner passes the conversation to an agent or a team; they get it through an offer."""
    target = f"team {to_team}" if to_team else people.get(session=session, person_id=to_agent or 0).name
    moved = ownership.transfer(
        session=session, conversation_id=conversation_id, agent_id=agent_id, to=target, note=note
    )
    _, happened = _run(session, policy, "transfer", str(conversation_id), now, team=to_team, agent_id=to_agent)
    outcome = _apply(session, happened, now)
    outcome.to_agents.append((agent_id, message_event(moved)))
    return outcome


def reassign(
    *,
    session: Session,
    policy: Policy,
    conversation_id: uuid.UUID,
    by: str,
    now: datetime,
    to_agent: int | None,
    to_team: str | None,
    note: str | None,
) -> Outcome:
    """A supervisor (`by`) moves a conversation from the agent who has it, as a transfer that agent
    made: for chats stuck with someone who left. Only a conversation an agent owns can move."""
    conversation = conversations.get(session=session, conversation_id=conversation_id)
    if conversation.owner != Owner.agent or conversation.agent_id is None:
        raise Conflict(f"conversation {conversation_id} is with the {conversation.owner}, not with an agent")
    return transfer(
        session=session,
        policy=policy,
        conversation_id=conversation_id,
        agent_id=conversation.agent_id,
        now=now,
        to_agent=to_agent,
        to_team=to_team,
        note=f"Reassigned by {by}" + (f": {note}" if note else ""),
    )


def set_presence(*, session: Session, policy: Policy, agent_id: int, presence: Presence, now: datetime) -> Outcome:
    _, happened = _run(session, policy, "set_presence", agent_id, presence, now)
    return _apply(session, happened, now)


def tick(*, session: Session, policy: Policy, now: datetime, heard: Collection[int] = ()) -> Outcome:
    """What time does: offers expire, silent agents are lost, waiting work widens. The agents `heard`
    from since the last tick count as there first: a thousand consoles' heartbeats cost one
    transaction a second rather than one each."""
    if heard:
        # One statement for all of them: the same as the engine's heartbeat, which only notes the time.
        session.execute(update(Person).where(col(Person.id).in_(sorted(heard))).values(last_heartbeat_at=now))
    engine = router(session, policy)
    try:
        happened = engine.tick(now)
    except RoutingError as exc:
        raise RoutingRefused(str(exc)) from exc
    return _apply(session, happened, now)


def _apply(session: Session, happened: Sequence[Event], now: datetime) -> Outcome:
    """Turn the router's events into conversation changes, alerts, and messages to send."""
    outcome = Outcome()
    for event in happened:
        match event:
            case OfferMade(offer=offer, decision=decision):
                conversation_id = uuid.UUID(offer.work_id)
                view = agent_view(session, conversation_id)
                outcome.to_agents.append((offer.agent_id, offer_event(offer, decision.reason, view)))
            case OfferClosed(offer=offer, status=status):
                outcome.to_agents.append((offer.agent_id, offer_closed_event(offer.offer_id, status)))
            case Requeued(work_id=work_id, agent_id=agent_id):
                moved = ownership.requeue(
                    session=session,
                    conversation_id=uuid.UUID(work_id),
                    reason="the agent was disconnected and did not come back in time",
                )
                outcome.to_agents.append((agent_id, message_event(moved)))
            case Widened(work_id=work_id, stage=stage, reason=reason):
                session.add(
                    RoutingDecision(
                        conversation_id=uuid.UUID(work_id), stage=stage, eligible=[], reason=reason, decided_at=now
                    )
                )
            case AgentSetAway(agent_id=agent_id, missed_offers=missed):
                name = people.get(session=session, person_id=agent_id).name
                message = f"{name} let {missed} offers in a row run out and was set to away"
                outcome.to_supervisors.append(_alert(session, AlertKind.agent_set_away, message, agent_id=agent_id))
                outcome.to_agents.append((agent_id, {"type": "presence", "presence": Presence.away}))
            case WaitedTooLong(work_id=work_id, waited=waited, expected_wait=expected):
                conversation_id = uuid.UUID(work_id)
                minutes = round(waited.total_seconds() / 60)
                message = f"conversation {work_id} has waited {minutes} min for an agent"
                outcome.to_supervisors.append(
                    _alert(session, AlertKind.waited_too_long, message, conversation_id=conversation_id)
                )
                outcome.to_customers.append(_tell_expected_wait(session, conversation_id, expected))
            case AgentLost() | Assigned():
                pass
    return outcome


def _alert(
    session: Session,
    kind: AlertKind,
    message: str,
    conversation_id: uuid.UUID | None = None,
    agent_id: int | None = None,
) -> WireEvent:
    alert = Alert(kind=kind, message=message, conversation_id=conversation_id, agent_id=agent_id)
    session.add(alert)
    session.flush()
    return alert_event(alert)


def _tell_expected_wait(session: Session, conversation_id: uuid.UUID, expected: timedelta | None) -> Message:
    if expected is None:
        estimate = "All our colleagues are busy right now."
    else:
        minutes = max(1, round(expected.total_seconds() / 60))
        estimate = f"All our colleagues are busy; the expected wait is about {minutes} min."
    return messages.tell_customer(
        session=session,
        conversation_id=conversation_id,
        text=f"{estimate} You can keep this chat open, or leave and come back later: we will answer here.",
        payload={
            "event": "wait_notice",
            "expected_wait_seconds": None if expected is None else round(expected.total_seconds()),
            "continue_async": True,
        },
    )


def agent_view(session: Session, conversation_id: uuid.UUID) -> dict[str, Any]:
    conversation = conversations.get(session=session, conversation_id=conversation_id)
    history = conversations.history(session=session, conversation_id=conversation_id, include_internal=True)
    return conversation_view(conversation, history)


def open_offers_for(*, session: Session, agent_id: int) -> list[WireEvent]:
    """The offers an agent has not answered yet, as offer events with the reason they were chosen."""
    statement = select(OfferRow).where(OfferRow.status == OfferStatus.pending, OfferRow.agent_id == agent_id)
    offers = []
    for row in session.exec(statement.order_by(col(OfferRow.id))):
        assert row.id is not None
        reason = session.exec(
            select(RoutingDecision.reason)
            .where(RoutingDecision.conversation_id == row.conversation_id, RoutingDecision.agent_id == agent_id)
            .order_by(col(RoutingDecision.id).desc())
        ).first()
        offer = Offer(row.id, str(row.conversation_id), row.agent_id, row.created_at, row.expires_at)
        offers.append(offer_event(offer, reason or "", agent_view(session, row.conversation_id)))
    return offers


def decisions_for(*, session: Session, conversation_id: uuid.UUID) -> list[RoutingDecision]:
    conversations.get(session=session, conversation_id=conversation_id)
    statement = select(RoutingDecision).where(RoutingDecision.conversation_id == conversation_id)
    return list(session.exec(statement.order_by(col(RoutingDecision.id))))


def open_alerts(*, session: Session) -> list[Alert]:
    statement = select(Alert).where(col(Alert.acknowledged_at).is_(None)).order_by(col(Alert.id))
    return list(session.exec(statement))

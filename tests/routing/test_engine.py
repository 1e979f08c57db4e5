"""The router's behaviour over time, in memory: offers, refusals, widening, lost agents, transfers."""

from datetime import datetime, timedelta

import pytest

from routing import (
    AgentLost,
    AgentSetAway,
    AgentState,
    Assigned,
    Event,
    MemoryStore,
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
from tests.routing.factories import T0, agent, work

POLICY = Policy(
    offer_timeout=timedelta(seconds=30),
    ring_timeout=timedelta(seconds=60),
    max_wait=timedelta(minutes=10),
    heartbeat_timeout=timedelta(seconds=45),
    grace=timedelta(seconds=60),
)


class Desk:
    """A router in memory with a clock the test moves."""

    def __init__(self, *agents: AgentState) -> None:
        self.store = MemoryStore(POLICY)
        self.router = Router(self.store, POLICY)
        self.now = T0
        for each in agents:
            self.store.save_agent(each)

    def at(self, seconds: float) -> datetime:
        self.now = T0 + timedelta(seconds=seconds)
        return self.now

    def arrive(self, job: Work) -> list[Event]:
        return self.router.arrive(job, self.now)

    def tick(self, seconds: float, silent: tuple[int, ...] = ()) -> list[Event]:
        """Move the clock; every agent but the silent ones sends a heartbeat first."""
        now = self.at(seconds)
        for each in list(self.store.agents()):
            if each.agent_id not in silent:
                self.router.heartbeat(each.agent_id, now)
        return self.router.tick(now)

    def offers(self) -> dict[str, int]:
        return {offer.work_id: offer.agent_id for offer in self.store.pending_offers()}

    def accept(self, work_id: str) -> list[Event]:
        (offer,) = [o for o in self.store.pending_offers() if o.work_id == work_id]
        return self.router.accept(offer.offer_id, offer.agent_id, self.now)

    def decline(self, work_id: str) -> list[Event]:
        (offer,) = [o for o in self.store.pending_offers() if o.work_id == work_id]
        return self.router.decline(offer.offer_id, offer.agent_id, self.now)


def kinds(events: list[Event]) -> list[str]:
    return [type(event).__name__ for event in events]


def test_arriving_work_is_offered_at_once_and_accepting_assigns_it() -> None:
    desk = Desk(agent(1))

    events = desk.arrive(work(work_id="a"))
    assert isinstance(events[0], OfferMade) and events[0].offer.agent_id == 1
    assert events[0].offer.expires_at == T0 + POLICY.offer_timeout

    assert desk.accept("a") == [Assigned("a", 1)]
    held = desk.store.work("a")
    assert held is not None and held.assigned and held.agent_id == 1


def test_one_offer_at_a_time_per_conversation() -> None:
    desk = Desk(agent(1), agent(2))

    desk.arrive(work(work_id="a"))
    desk.router.dispatch(desk.now)

    assert len(list(desk.store.pending_offers())) == 1


def test_a_decline_goes_to_the_next_agent_not_back_to_the_decliner() -> None:
    desk = Desk(agent(1, idle_since=T0 - timedelta(hours=1)), agent(2, idle_since=T0))
    desk.arrive(work(work_id="a"))
    assert desk.offers() == {"a": 1}

    events = desk.decline("a")

    assert kinds(events) == ["OfferClosed", "OfferMade"]
    assert desk.offers() == {"a": 2}


def test_a_lone_agent_is_offered_again_after_declining_when_nobody_else_can_take_it() -> None:
    desk = Desk(agent(1))
    desk.arrive(work(work_id="a"))

    events = desk.decline("a")

    assert kinds(events) == ["OfferClosed", "OfferMade"]
    assert "everyone eligible had refused it once" in events[1].decision.reason  # type: ignore[union-attr]


def test_an_offer_that_runs_out_moves_on_and_two_in_a_row_set_the_agent_away() -> None:
    desk = Desk(agent(1, idle_since=T0 - timedelta(hours=1)), agent(2, idle_since=T0))
    desk.arrive(work(work_id="a"))
    desk.arrive(work(work_id="b", queued_at=T0 + timedelta(seconds=1)))
    assert desk.offers() == {"a": 1, "b": 2}

    first = desk.tick(30)
    assert kinds(first).count("OfferClosed") == 2
    assert desk.offers() == {"a": 2, "b": 1}

    second = desk.tick(60)
    away = [e for e in second if isinstance(e, AgentSetAway)]
    assert sorted(e.agent_id for e in away) == [1, 2]
    assert all(a.presence == Presence.away for a in desk.store.agents())
    assert desk.offers() == {}


def test_answering_an_offer_resets_the_count_of_missed_ones() -> None:
    desk = Desk(agent(1))
    desk.arrive(work(work_id="a"))
    desk.tick(30)
    desk.decline("a")
    desk.tick(60)

    restored = desk.store.agent(1)
    assert restored is not None and restored.presence == Presence.online and restored.missed_offers == 1


@pytest.mark.parametrize(("junior_level", "stages", "taker"), [(3, [1, 2, 3], 3), (4, [1, 2], 2)])
def test_nobody_accepting_widens_stage_by_stage(junior_level: int, stages: list[int], taker: int) -> None:
    senior = agent(1, skills={"billing": 7}, presence=Presence.away)
    junior = agent(2, skills={"billing": junior_level})
    fallback = agent(3, teams=frozenset({"overflow"}))
    desk = Desk(senior, junior, fallback)
    desk.arrive(work(work_id="a", required={"billing": 6}, optional={"spanish": 1}))
    assert desk.offers() == {}

    widened = []
    for minute in range(1, 4):
        widened += [e for e in desk.tick(60 * minute) if isinstance(e, Widened)]
        if desk.offers():
            break

    assert [e.stage for e in widened] == stages
    assert desk.offers() == {"a": taker}


def test_the_fallback_team_takes_what_nobody_skilled_can() -> None:
    fallback = agent(3, teams=frozenset({"overflow"}))
    desk = Desk(fallback)
    desk.arrive(work(work_id="a", required={"legal": 9}))

    for minute in range(1, 4):
        desk.tick(60 * minute)

    assert desk.offers() == {"a": 3}
    assert "fallback team" in desk.store.decisions[-1][1].reason


def test_a_lost_agent_keeps_conversations_through_the_grace_period_then_they_go_to_the_front() -> None:
    desk = Desk(agent(1), agent(2, capacity={"webchat": 1}))
    desk.arrive(work(work_id="mine"))
    desk.accept("mine")
    owner = desk.store.work("mine")
    assert owner is not None and owner.agent_id is not None
    lost_agent = owner.agent_id
    other = 3 - lost_agent

    lost = desk.tick(46, silent=(lost_agent,))
    assert [e for e in lost if isinstance(e, AgentLost)] == [AgentLost(lost_agent, ("mine",))]
    held = desk.store.work("mine")
    assert held is not None and held.agent_id == lost_agent, "kept during the grace period"

    requeued = desk.tick(106, silent=(lost_agent,))
    assert Requeued("mine", lost_agent) in requeued
    back = desk.store.work("mine")
    assert back is not None and back.front
    assert desk.offers() == {"mine": other}


def test_an_agent_who_comes_back_within_the_grace_period_loses_nothing() -> None:
    desk = Desk(agent(1))
    desk.arrive(work(work_id="mine"))
    desk.accept("mine")

    desk.router.set_presence(1, Presence.offline, desk.at(10))
    desk.router.set_presence(1, Presence.online, desk.at(30))
    events = desk.tick(120)

    assert not [e for e in events if isinstance(e, Requeued)]
    kept = desk.store.work("mine")
    assert kept is not None and kept.agent_id == 1 and kept.assigned


def test_going_away_withdraws_open_offers_but_keeps_conversations() -> None:
    desk = Desk(agent(1, capacity={"webchat": 2}))
    desk.arrive(work(work_id="owned"))
    desk.accept("owned")
    desk.arrive(work(work_id="offered"))

    events = desk.router.set_presence(1, Presence.away, desk.at(5))

    assert [(e.offer.work_id, e.status) for e in events if isinstance(e, OfferClosed)] == [("offered", "withdrawn")]
    owned = desk.store.work("owned")
    assert owned is not None and owned.agent_id == 1


def test_transfer_to_an_agent_uses_the_offer_flow_and_falls_back_when_refused() -> None:
    desk = Desk(agent(1), agent(2), agent(3))
    desk.arrive(work(work_id="a"))
    desk.accept("a")
    owner = desk.offers() or {}
    assert owner == {}

    desk.router.transfer("a", desk.at(5), agent_id=3)
    assert desk.offers() == {"a": 3}
    desk.decline("a")

    offered_to = desk.offers()["a"]
    transferred = desk.store.work("a")
    assert transferred is not None and transferred.target_agent is None
    assert offered_to != 3


def test_transfer_to_a_team_reaches_its_members_only() -> None:
    desk = Desk(agent(1), agent(2, teams=frozenset({"retention"})))
    desk.arrive(work(work_id="a"))
    first_owner = desk.offers()["a"]
    desk.accept("a")

    desk.router.transfer("a", desk.at(5), team="retention")

    assert desk.offers() == {"a": 2} and first_owner in (1, 2)


def test_transfer_needs_exactly_one_target_and_owned_work() -> None:
    desk = Desk(agent(1))
    desk.arrive(work(work_id="a"))

    with pytest.raises(RoutingError, match="not owned by an agent"):
        desk.router.transfer("a", desk.now, team="x")
    desk.accept("a")
    with pytest.raises(RoutingError, match="needs a team or an agent"):
        desk.router.transfer("a", desk.now)


def test_waiting_too_long_alerts_once_with_the_expected_wait() -> None:
    desk = Desk(agent(1, capacity={"webchat": 1}))
    desk.arrive(work(work_id="served"))
    desk.at(20)
    desk.accept("served")
    desk.arrive(work(work_id="stuck", queued_at=desk.now))

    alerts = [e for e in desk.tick(20 + 600) if isinstance(e, WaitedTooLong)]
    again = [e for e in desk.tick(20 + 700) if isinstance(e, WaitedTooLong)]

    assert [(e.work_id, e.waited) for e in alerts] == [("stuck", timedelta(minutes=10))]
    assert alerts[0].expected_wait == timedelta(minutes=15), "1 assigned in 15 minutes, nobody ahead"
    assert again == []


def test_releasing_work_frees_the_slot_for_the_next() -> None:
    desk = Desk(agent(1, capacity={"webchat": 1}))
    desk.arrive(work(work_id="a"))
    desk.accept("a")
    desk.arrive(work(work_id="b"))
    assert desk.offers() == {}

    events = desk.router.release("a", desk.at(10))

    assert kinds(events) == ["OfferMade"] and desk.offers() == {"b": 1}


def test_refused_requests_name_the_offer_and_the_agent() -> None:
    desk = Desk(agent(1), agent(2))
    desk.arrive(work(work_id="a"))
    (offer,) = desk.store.pending_offers()

    with pytest.raises(RoutingError, match=f"offer {offer.offer_id} is not open for agent 2"):
        desk.router.accept(offer.offer_id, 2, desk.now)
    with pytest.raises(RoutingError, match="expired"):
        desk.router.accept(offer.offer_id, 1, desk.at(31))
    with pytest.raises(RoutingError, match="agent 9 is unknown"):
        desk.router.set_presence(9, Presence.online, desk.now)


def test_equal_scores_are_served_in_arrival_order() -> None:
    desk = Desk(agent(1, capacity={"webchat": 1}, presence=Presence.offline))
    for second, work_id in enumerate(["first", "second", "third"]):
        desk.arrive(work(work_id=work_id, queued_at=T0 + timedelta(seconds=second)))
    desk.router.set_presence(1, Presence.online, desk.at(5))

    served = []
    for _ in range(3):
        (work_id,) = desk.offers()
        served.append(work_id)
        desk.accept(work_id)
        desk.router.release(work_id, desk.now)

    assert served == ["first", "second", "third"]

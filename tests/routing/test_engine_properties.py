"""The router's invariants, searched for counterexamples over random sequences of everything that
can happen: arrivals, presence changes, heartbeats, accepts, declines, timeouts, transfers, releases.

- an agent never holds more conversations of a channel than their capacity for it;
- a conversation never has two owners and is never offered to two agents at once;
- whenever an eligible agent has a free slot and work is waiting, an offer is out;
- no work waits forever: once someone who can take anything is there, everything gets assigned.
"""

from collections import Counter
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from routing import AgentState, MemoryStore, Policy, Presence, Router, RoutingError, Work
from routing.eligibility import is_eligible
from tests.routing.factories import T0

POLICY = Policy(
    offer_timeout=timedelta(seconds=30),
    ring_timeout=timedelta(seconds=60),
    heartbeat_timeout=timedelta(seconds=45),
    grace=timedelta(seconds=60),
    max_wait=timedelta(minutes=5),
)
CHANNELS = ["webchat", "x_dm", "x_mention"]
SKILLS = ["billing", "orders", "returns"]
LANGUAGES = ["en", "de"]
TEAMS = ["overflow", "retention"]


class RouterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.store = MemoryStore(POLICY)
        self.router = Router(self.store, POLICY)
        self.now = T0
        self.next_work = 0

    # What can happen

    @rule(
        agent_id=st.integers(1, 6),
        skills=st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 10), max_size=3),
        capacity=st.dictionaries(st.sampled_from(CHANNELS), st.integers(0, 3), min_size=1),
        languages=st.sets(st.sampled_from(LANGUAGES), min_size=1),
        teams=st.sets(st.sampled_from(TEAMS)),
    )
    def agent_joins(
        self, agent_id: int, skills: dict[str, int], capacity: dict[str, int], languages: set[str], teams: set[str]
    ) -> None:
        if self.store.agent(agent_id) is None:
            self.store.save_agent(
                AgentState(
                    agent_id=agent_id,
                    skills=skills,
                    capacity=capacity,
                    languages=frozenset(languages),
                    teams=frozenset(teams),
                )
            )

    @rule(data=st.data(), presence=st.sampled_from(list(Presence)))
    def presence_changes(self, data: st.DataObject, presence: Presence) -> None:
        agents = list(self.store.agents())
        if agents:
            agent = data.draw(st.sampled_from(agents))
            self.router.set_presence(agent.agent_id, presence, self.now)

    @rule(data=st.data())
    def heartbeat(self, data: st.DataObject) -> None:
        agents = list(self.store.agents())
        if agents:
            self.router.heartbeat(data.draw(st.sampled_from(agents)).agent_id, self.now)

    @rule(
        channel=st.sampled_from(CHANNELS),
        language=st.sampled_from(LANGUAGES),
        required=st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 10), max_size=2),
        optional=st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 10), max_size=1),
        priority=st.integers(0, 3),
    )
    def work_arrives(
        self, channel: str, language: str, required: dict[str, int], optional: dict[str, int], priority: int
    ) -> None:
        self.next_work += 1
        work = Work(
            work_id=f"w{self.next_work}",
            channel=channel,
            language=language,
            required=required,
            optional=optional,
            priority=priority,
            queued_at=self.now,
        )
        self.router.arrive(work, self.now)

    @precondition(lambda self: bool(list(self.store.pending_offers())))
    @rule(data=st.data(), accept=st.booleans())
    def agent_answers_an_offer(self, data: st.DataObject, accept: bool) -> None:
        offer = data.draw(st.sampled_from(list(self.store.pending_offers())))
        answer = self.router.accept if accept else self.router.decline
        if offer.expires_at <= self.now:
            try:
                answer(offer.offer_id, offer.agent_id, self.now)
            except RoutingError:
                return
            raise AssertionError(f"offer {offer.offer_id} was answered after it expired")
        answer(offer.offer_id, offer.agent_id, self.now)

    @precondition(lambda self: bool(list(self.store.works())))
    @rule(data=st.data())
    def conversation_ends(self, data: st.DataObject) -> None:
        work = data.draw(st.sampled_from(sorted(self.store.works(), key=lambda w: w.work_id)))
        self.router.release(work.work_id, self.now)

    @rule(data=st.data(), to_team=st.booleans())
    def agent_transfers(self, data: st.DataObject, to_team: bool) -> None:
        owned = sorted((w for w in self.store.works() if w.assigned), key=lambda w: w.work_id)
        if not owned:
            return
        work = data.draw(st.sampled_from(owned))
        if to_team:
            self.router.transfer(work.work_id, self.now, team=data.draw(st.sampled_from(TEAMS)))
        else:
            target = data.draw(st.sampled_from(list(self.store.agents())))
            self.router.transfer(work.work_id, self.now, agent_id=target.agent_id)

    @rule(seconds=st.integers(1, 90))
    def time_passes(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)
        self.router.tick(self.now)

    # What must always hold

    def _loads(self) -> Counter[tuple[int, str]]:
        return Counter((w.agent_id, w.channel) for w in self.store.works() if w.agent_id is not None)

    @invariant()
    def no_agent_holds_more_than_their_capacity(self) -> None:
        for (agent_id, channel), held in self._loads().items():
            agent = self.store.agent(agent_id)
            assert agent is not None
            assert held <= agent.capacity.get(channel, 0), f"agent {agent_id} holds {held} on {channel}"

    @invariant()
    def one_owner_and_at_most_one_offer_per_conversation(self) -> None:
        offers = list(self.store.pending_offers())
        per_work = Counter(offer.work_id for offer in offers)
        assert all(n == 1 for n in per_work.values()), per_work
        for offer in offers:
            work = self.store.work(offer.work_id)
            assert work is not None and work.offered and work.agent_id == offer.agent_id
        for work in self.store.works():
            assert work.offered == (work.work_id in per_work)
            assert not (work.assigned and work.agent_id is None)

    @invariant()
    def no_eligible_agent_idles_while_work_waits(self) -> None:
        loads = self._loads()
        for work in self.store.works():
            if not work.waiting:
                continue
            for agent in self.store.agents():
                load = loads[(agent.agent_id, work.channel)]
                assert not is_eligible(agent, work, load, POLICY), (
                    f"{work.work_id} waits while agent {agent.agent_id} could take it"
                )

    def teardown(self) -> None:
        """Liveness: bring in someone who can take anything; within a few ring timeouts all is assigned."""
        rescuer = AgentState(
            agent_id=99,
            languages=frozenset(LANGUAGES),
            capacity=dict.fromkeys(CHANNELS, 10_000),
            teams=frozenset({POLICY.fallback_team}),
        )
        self.store.save_agent(rescuer)
        for _ in range(8):
            self.now += POLICY.ring_timeout
            self.router.set_presence(99, Presence.online, self.now)
            self.router.tick(self.now)
            for offer in list(self.store.pending_offers()):
                self.router.accept(offer.offer_id, offer.agent_id, self.now)
        waiting = [w.work_id for w in self.store.works() if not w.assigned]
        assert waiting == [], f"still waiting after the rescuer came: {waiting}"


RouterMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestRouterInvariants = RouterMachine.TestCase

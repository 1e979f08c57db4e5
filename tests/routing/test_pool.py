"""Choosing an agent: who is eligible at each stage, and who of them is chosen."""

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from routing import AgentPool, AgentState, Policy, Presence, Work
from routing.eligibility import is_eligible
from tests.routing.factories import T0, agent, work

POLICY = Policy()


def choose(job: Work, *agents: AgentState, loads: dict[int, dict[str, int]] | None = None) -> int | None:
    return AgentPool(agents, loads).choose(job, POLICY).agent_id


def test_away_offline_lost_full_or_channel_less_agents_are_not_eligible() -> None:
    job = work()

    assert choose(job, agent(1, presence=Presence.away)) is None
    assert choose(job, agent(2, presence=Presence.offline)) is None
    assert choose(job, agent(3, lost_at=T0)) is None
    assert choose(job, agent(4), loads={4: {"webchat": 3}}) is None
    assert choose(job, agent(5, capacity={"x_mention": 1})) is None
    assert choose(job, agent(6)) == 6


def test_capacity_is_per_channel() -> None:
    busy_on_chat = agent(1, capacity={"webchat": 1, "x_mention": 1})
    loads = {1: {"webchat": 1}}

    assert choose(work(channel="webchat"), busy_on_chat, loads=loads) is None
    assert choose(work(channel="x_mention"), busy_on_chat, loads=loads) == 1


def test_language_must_match() -> None:
    assert choose(work(language="de"), agent(1)) is None
    assert choose(work(language="de"), agent(1), agent(2, languages=frozenset({"de", "en"}))) == 2


def test_in_the_last_stage_the_fallback_team_answers_in_another_language_when_no_speaker_will() -> None:
    english_fallback = agent(1, teams=frozenset({"overflow"}))
    german_fallback = agent(2, teams=frozenset({"overflow"}), languages=frozenset({"de"}))
    german = [work(language="de", required={"billing": 5}, stage=stage) for stage in range(4)]
    declined = work(language="de", stage=3, refused_by=frozenset({2}))

    assert [choose(job, english_fallback) for job in german] == [None, None, None, 1]
    assert choose(german[3], english_fallback, german_fallback, loads={1: {}, 2: {"webchat": 2}}) == 2
    assert choose(german[3], english_fallback, german_fallback, loads={2: {"webchat": 3}}) == 1
    assert choose(declined, english_fallback, german_fallback) == 1
    assert not is_eligible(english_fallback, work(language="de", stage=3, target_agent=1), 0, POLICY)


def test_required_skills_at_their_minimum_level() -> None:
    job = work(required={"billing": 4})

    assert choose(job, agent(1, skills={"billing": 3}), agent(2, skills={"orders": 9})) is None
    assert choose(job, agent(1, skills={"billing": 3}), agent(2, skills={"billing": 4})) == 2


def test_each_stage_widens_who_is_eligible() -> None:
    junior = agent(1, skills={"billing": 3})
    senior_without_optional = agent(2, skills={"billing": 6})
    generalist = agent(3, teams=frozenset({"overflow"}))
    stages = [work(required={"billing": 5}, optional={"spanish": 2}, stage=stage) for stage in range(4)]
    pool = AgentPool([junior, senior_without_optional, generalist])

    eligible = [sorted(a.agent_id for a in pool.candidates(job, POLICY)) for job in stages]

    assert eligible == [[], [2], [1, 2], [1, 2, 3]]


def test_a_team_transfer_goes_to_team_members_whatever_their_skills() -> None:
    job = work(required={"billing": 9}, team="retention")

    assert choose(job, agent(1, skills={"billing": 9}), agent(2, teams=frozenset({"retention"}))) == 2


def test_an_agent_transfer_goes_to_that_agent_only() -> None:
    assert choose(work(target_agent=2), agent(1), agent(2, capacity={"webchat": 1})) == 2
    assert choose(work(target_agent=2), agent(1), agent(2, presence=Presence.away)) is None


def test_least_loaded_relative_to_capacity_then_idle_longest() -> None:
    loads = {1: {"webchat": 1}, 2: {"webchat": 1}}
    small = agent(1, capacity={"webchat": 2})
    large = agent(2, capacity={"webchat": 4})
    assert choose(work(), small, large, loads=loads) == 2

    recently = agent(3, idle_since=T0 + timedelta(minutes=5))
    earlier = agent(4, idle_since=T0)
    assert choose(work(), recently, earlier) == 4


def test_agents_who_refused_are_passed_over_while_anyone_else_is_eligible() -> None:
    first, second = agent(1), agent(2)

    assert choose(work(refused_by=frozenset({1})), first, second) == 2
    assert choose(work(refused_by=frozenset({1, 2})), first, second) == 1
    decision = AgentPool([first]).choose(work(refused_by=frozenset({1})), POLICY)
    assert decision.agent_id == 1 and "refused" in decision.reason


def test_the_decision_names_who_was_eligible_and_why_the_choice() -> None:
    decision = AgentPool([agent(1, name="Maria"), agent(2, name="Tom")], {2: {"webchat": 1}}).choose(work(), POLICY)

    assert decision.eligible == (1, 2)
    assert "2 eligible [1, 2]; chose Maria (load 0/3" in decision.reason


def test_reserving_and_releasing_a_slot_updates_the_index() -> None:
    pool = AgentPool([agent(1, capacity={"webchat": 1})])
    pool.reserve(1, "webchat")
    assert pool.choose(work(), POLICY).agent_id is None
    pool.release(1, "webchat")
    assert pool.choose(work(), POLICY).agent_id == 1


agents = st.lists(
    st.builds(
        agent,
        agent_id=st.integers(1, 40),
        presence=st.sampled_from(list(Presence)),
        skills=st.dictionaries(st.sampled_from(["billing", "orders", "returns"]), st.integers(1, 10), max_size=3),
        languages=st.sets(st.sampled_from(["en", "de"]), min_size=1).map(frozenset),
        capacity=st.dictionaries(st.sampled_from(["webchat", "x_mention"]), st.integers(0, 3), max_size=2),
        teams=st.sets(st.sampled_from(["overflow", "retention"])).map(frozenset),
        idle_since=st.none() | st.integers(0, 600).map(lambda s: T0 + timedelta(seconds=s)),
    ),
    unique_by=lambda a: a.agent_id,
    max_size=12,
)
jobs = st.builds(
    work,
    channel=st.sampled_from(["webchat", "x_mention"]),
    language=st.sampled_from(["en", "de"]),
    required=st.dictionaries(st.sampled_from(["billing", "orders"]), st.integers(1, 10), max_size=2),
    optional=st.dictionaries(st.sampled_from(["returns"]), st.integers(1, 10), max_size=1),
    stage=st.integers(0, 3),
    team=st.none() | st.just("retention"),
    refused_by=st.sets(st.integers(1, 40), max_size=3).map(frozenset),
)
loads = st.dictionaries(st.integers(1, 40), st.fixed_dictionaries({"webchat": st.integers(0, 3)}))


@given(jobs, agents, loads)
def test_the_indexed_choice_equals_checking_every_agent(
    job: Work, pool_agents: list[AgentState], load: dict[int, dict[str, int]]
) -> None:
    pool = AgentPool(pool_agents, load)
    decision = pool.choose(job, POLICY)

    eligible = [a for a in pool_agents if is_eligible(a, job, load.get(a.agent_id, {}).get(job.channel, 0), POLICY)]
    assert decision.eligible == tuple(sorted(a.agent_id for a in eligible))
    if not eligible:
        assert decision.agent_id is None
        return
    fresh = [a for a in eligible if a.agent_id not in job.refused_by]
    preferred = [a for a in fresh if job.language in a.languages] or fresh or eligible
    assert decision.agent_id == min(preferred, key=pool.rank).agent_id

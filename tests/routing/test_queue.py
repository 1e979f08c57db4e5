"""The order of waiting work: priority with ageing, first come first served at equal scores."""

import itertools
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from routing import Policy, Work, queue_key, score
from tests.routing.factories import T0, work

POLICY = Policy(ageing=timedelta(seconds=120))


def served_order(*items: Work) -> list[str]:
    return [w.work_id for w in sorted(items, key=lambda w: queue_key(w, POLICY))]


def test_higher_priority_first_and_arrival_order_within_a_priority() -> None:
    first = work(work_id="first", queued_at=T0)
    second = work(work_id="second", queued_at=T0 + timedelta(seconds=5))
    urgent = work(work_id="urgent", queued_at=T0 + timedelta(seconds=10), priority=1)

    assert served_order(second, urgent, first) == ["urgent", "first", "second"]


def test_waiting_one_ageing_period_is_worth_one_priority_level() -> None:
    patient = work(work_id="patient", queued_at=T0, priority=0)
    urgent_later = work(work_id="urgent", queued_at=T0 + timedelta(seconds=121), priority=1)
    urgent_sooner = work(work_id="urgent-sooner", queued_at=T0 + timedelta(seconds=119), priority=1)

    assert served_order(urgent_later, patient) == ["patient", "urgent"]
    assert served_order(urgent_sooner, patient) == ["urgent-sooner", "patient"]


def test_work_given_back_by_a_lost_agent_goes_first() -> None:
    returned = work(work_id="returned", queued_at=T0 + timedelta(minutes=5), front=True)

    assert served_order(work(work_id="urgent", priority=3), returned) == ["returned", "urgent"]


waiting = st.lists(
    st.builds(
        work,
        queued_at=st.integers(0, 3600).map(lambda s: T0 + timedelta(seconds=s)),
        priority=st.integers(0, 3),
    ),
    min_size=2,
    max_size=20,
)


@given(waiting, st.integers(0, 7200))
def test_queue_order_is_score_order_at_any_time_with_ties_by_arrival(items: list[Work], later: int) -> None:
    now = T0 + timedelta(seconds=3600 + later)
    ordered = sorted(items, key=lambda w: queue_key(w, POLICY))

    for ahead, behind in itertools.pairwise(ordered):
        assert score(ahead, now, POLICY) >= score(behind, now, POLICY) - 1e-9
        if abs(score(ahead, now, POLICY) - score(behind, now, POLICY)) < 1e-9:
            assert ahead.queued_at <= behind.queued_at


@given(st.integers(0, 3), st.integers(0, 3))
def test_low_priority_work_overtakes_any_newer_work_after_waiting_long_enough(low: int, high: int) -> None:
    old = work(work_id="old", queued_at=T0, priority=min(low, high))
    levels = abs(high - low)
    newcomer = work(
        work_id="new", queued_at=T0 + POLICY.ageing * levels + timedelta(seconds=1), priority=max(low, high)
    )

    assert served_order(newcomer, old)[0] == "old"

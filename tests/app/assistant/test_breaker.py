"""The circuit breaker's states, on a clock the test moves."""

from app.assistant.breaker import CircuitBreaker, State


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_it_opens_only_after_failures_in_a_row() -> None:
    breaker = CircuitBreaker(failures_to_open=3, clock=Clock())

    assert not breaker.failed()
    assert not breaker.failed()
    breaker.succeeded()
    assert not breaker.failed()
    assert not breaker.failed()
    assert breaker.state is State.closed
    assert breaker.failed()
    assert breaker.is_open and breaker.times_opened == 1


def test_the_probe_closes_it_and_it_counts_afresh() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures_to_open=2, clock=clock)
    breaker.failed()
    breaker.failed()
    clock.now += 12.5

    assert breaker.open_for() == 12.5
    breaker.close()

    assert breaker.state is State.closed and breaker.open_for() is None
    assert not breaker.failed()
    assert breaker.failed()
    assert breaker.times_opened == 2

"""A circuit breaker in front of Rasa.

A dead or hung Rasa costs every customer message the whole timeout. After a few failures in a row
the breaker opens: messages are not sent to Rasa at all (the service falls back to the knowledge base
or a person at once), and a probe checks Rasa's health in the background instead of customers'
messages doing it. When the probe finds Rasa healthy again, the breaker closes and new messages go
to the bot again.
"""

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class State(enum.StrEnum):
    closed = "closed"
    open = "open"


@dataclass
class CircuitBreaker:
    failures_to_open: int = 3
    clock: Callable[[], float] = time.monotonic
    state: State = State.closed
    failures: int = 0
    opened_at: float | None = None
    # How many times it opened since start-up: supervisors see a flapping assistant in /healthz.
    times_opened: int = field(default=0)

    @property
    def is_open(self) -> bool:
        return self.state is State.open

    def succeeded(self) -> None:
        self.failures = 0

    def failed(self) -> bool:
        """Count a failure; True when this one opened the breaker."""
        self.failures += 1
        if self.state is State.closed and self.failures >= self.failures_to_open:
            self.state = State.open
            self.opened_at = self.clock()
            self.times_opened += 1
            return True
        return False

    def close(self) -> None:
        """The probe found Rasa healthy."""
        self.state = State.closed
        self.failures = 0
        self.opened_at = None

    def open_for(self) -> float | None:
        """Seconds since the breaker opened, or None while closed."""
        return None if self.opened_at is None else self.clock() - self.opened_at

"""SQLite write turns: an acknowledgement's transaction goes ahead of background work waiting."""

import threading
import time

from app.db import Turns


def test_an_urgent_claimant_goes_before_one_that_waited_longer() -> None:
    turns = Turns()
    order: list[str] = []
    assert turns.take(urgent=False, timeout=1)

    def claim(name: str, urgent: bool) -> None:
        assert turns.take(urgent=urgent, timeout=10)
        order.append(name)
        turns.give_back()

    background = threading.Thread(target=claim, args=("background", False))
    background.start()
    acknowledgement = threading.Thread(target=claim, args=("acknowledgement", True))
    acknowledgement.start()
    deadline = time.monotonic() + 10
    while turns._urgent_waiting == 0 and time.monotonic() < deadline:
        time.sleep(0.001)
    turns.give_back()
    background.join(10)
    acknowledgement.join(10)

    assert order == ["acknowledgement", "background"]


def test_a_claim_gives_up_when_the_turn_is_not_given_back_in_time() -> None:
    turns = Turns()
    assert turns.take(urgent=False, timeout=1)
    assert not turns.take(urgent=True, timeout=0.05)
    assert not turns.take(urgent=False, timeout=0.05)
    turns.give_back()
    assert turns.take(urgent=False, timeout=0.05)

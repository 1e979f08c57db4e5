"""A connection's outbound queue: a stuck client is cut off with a reason, never holding up the others."""

import asyncio

from app.realtime.hub import CLOSE_TOO_SLOW, Subscriber
from app.realtime.models import Event


async def test_a_stuck_client_is_closed_with_a_reason_while_a_quick_one_gets_everything() -> None:
    stuck_forever = asyncio.Event()
    closed: list[tuple[int, str]] = []
    received: list[Event] = []

    async def never_returns(event: Event) -> None:
        await stuck_forever.wait()

    async def keeps_up(event: Event) -> None:
        received.append(event)

    async def close(code: int, reason: str) -> None:
        closed.append((code, reason))

    stuck = Subscriber(send=never_returns, close=close, limit=8)
    quick = Subscriber(send=keeps_up, close=close, limit=8)
    stuck.start()
    quick.start()
    for seq in range(1, 21):
        stuck.deliver({"type": "message", "seq": seq})
        quick.deliver({"type": "message", "seq": seq})
        await asyncio.sleep(0)
    await asyncio.sleep(0.01)
    await stuck.stop()
    await quick.stop()

    assert closed == [(CLOSE_TOO_SLOW, "client too slow; reconnect with after_seq to catch up")]
    assert stuck.closed and [e["seq"] for e in received] == list(range(1, 21))

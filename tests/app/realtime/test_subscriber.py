"""A connection's outbound queue: a stuck client is cut off with a reason, never holding up the others."""

import asyncio
import logging

import pytest
from starlette.websockets import WebSocketDisconnect, WebSocketDisconnected

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


async def _send_once(failure: Exception, gone: tuple[type[Exception], ...] = ()) -> Subscriber:
    tried = asyncio.Event()

    async def fails(event: Event) -> None:
        tried.set()
        raise failure

    async def close(code: int, reason: str) -> None:
        pass

    subscriber = Subscriber(send=fails, close=close, gone=gone)
    subscriber.start()
    subscriber.deliver({"type": "message", "seq": 1})
    await tried.wait()
    await subscriber.stop()
    return subscriber


async def test_a_fault_in_sending_is_logged_while_a_client_gone_is_not(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="app.realtime.hub"):
        await _send_once(WebSocketDisconnected("the client went away"))
        # What the sockets name as gone: Starlette's disconnect, raised by a send to a closed socket.
        await _send_once(WebSocketDisconnect(1006), gone=(WebSocketDisconnect,))
        gone = list(caplog.records)
        await _send_once(AttributeError("'str' object has no attribute 'value'"))

    assert gone == []
    assert [r.getMessage() for r in caplog.records] == ["event=subscriber_send_failed type=message"]

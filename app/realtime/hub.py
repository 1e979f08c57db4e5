"""Live delivery to connected websockets: customers follow a conversation, agents follow themselves.

Publishing never waits on a client. Each connection has a bounded queue drained by its own task; a
client too slow to keep up is disconnected with a reason and catches up from the history when it
reconnects.
"""

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

Event = dict[str, Any]

QUEUE_LIMIT = 256
CLOSE_TOO_SLOW = 4008


class Subscriber:
    """One websocket's outbound side: a bounded queue and the task that sends from it."""

    def __init__(
        self,
        send: Callable[[Event], Coroutine[Any, Any, None]],
        close: Callable[[int, str], Coroutine[Any, Any, None]],
        limit: int = QUEUE_LIMIT,
    ) -> None:
        self._send = send
        self._close = close
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=limit)
        self._task: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self.closed = False

    def start(self) -> None:
        """Begin sending; events delivered before this wait in the queue, so a caller can first send
        a snapshot directly and then let the live events follow it."""
        self._task = asyncio.create_task(self._drain())

    def deliver(self, event: Event) -> None:
        if self.closed:
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.closed = True
            log.warning("event=subscriber_too_slow queue_limit=%d", self._queue.maxsize)
            self._closing = asyncio.create_task(self._close(CLOSE_TOO_SLOW, "client too slow; reconnect to catch up"))

    async def _drain(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await self._send(event)
            except Exception:  # the socket is gone; its handler notices and unsubscribes
                self.closed = True
                return

    async def stop(self) -> None:
        self.closed = True
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class Hub:
    def __init__(self) -> None:
        self._conversations: defaultdict[uuid.UUID, set[Subscriber]] = defaultdict(set)
        self._agents: defaultdict[int, set[Subscriber]] = defaultdict(set)
        self._supervisors: set[Subscriber] = set()

    def follow_conversation(self, conversation_id: uuid.UUID, subscriber: Subscriber) -> None:
        self._conversations[conversation_id].add(subscriber)

    def unfollow_conversation(self, conversation_id: uuid.UUID, subscriber: Subscriber) -> None:
        followers = self._conversations.get(conversation_id)
        if followers is not None:
            followers.discard(subscriber)
            if not followers:
                del self._conversations[conversation_id]

    def follow_agent(self, agent_id: int, subscriber: Subscriber, supervisor: bool = False) -> None:
        self._agents[agent_id].add(subscriber)
        if supervisor:
            self._supervisors.add(subscriber)

    def unfollow_agent(self, agent_id: int, subscriber: Subscriber) -> int:
        """Remove the subscriber; returns how many connections the agent still has."""
        self._supervisors.discard(subscriber)
        followers = self._agents.get(agent_id)
        if followers is None:
            return 0
        followers.discard(subscriber)
        if not followers:
            del self._agents[agent_id]
            return 0
        return len(followers)

    def to_conversation(self, conversation_id: uuid.UUID, event: Event) -> None:
        for subscriber in list(self._conversations.get(conversation_id, ())):
            subscriber.deliver(event)

    def to_agent(self, agent_id: int, event: Event) -> None:
        for subscriber in list(self._agents.get(agent_id, ())):
            subscriber.deliver(event)

    def to_supervisors(self, event: Event) -> None:
        for subscriber in list(self._supervisors):
            subscriber.deliver(event)

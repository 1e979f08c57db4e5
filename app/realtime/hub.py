"""Live delivery to connected websockets: customers follow a conversation, agents follow themselves.

Publishing never waits on a client or the database. An agent's events arrive here already numbered
and kept in their feed, by the transaction that made the change (`app/realtime/feed.number_and_store`); every
instance delivers them (through the bus) to that agent's connections. Each connection has a bounded
queue drained by its own task; a client too slow to keep up is disconnected with a reason and catches
up when it reconnects.
"""

import asyncio
import contextlib
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from app.core.db import SessionFactory, run_in_session
from app.core.timestamps import utcnow
from app.realtime import feed
from app.realtime.bus import Bus
from app.realtime.models import Event, Numbered

log = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 3600.0

QUEUE_LIMIT = 256
CLOSE_TOO_SLOW = 4008


class Subscriber:
    """One websocket's outbound side: a bounded queue and the task that sends from it."""

    def __init__(
        self,
        send: Callable[[Event], Coroutine[Any, Any, None]],
        close: Callable[[int, str], Coroutine[Any, Any, None]],
        limit: int = QUEUE_LIMIT,
        gone: tuple[type[Exception], ...] = (),
    ) -> None:
        self._send = send
        self._close = close
        # What `send` raises once the client has gone (the web framework's own "disconnected"), besides
        # RuntimeError and OSError: not a fault of ours, so not logged.
        self._gone: tuple[type[Exception], ...] = (*gone, RuntimeError, OSError)
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=limit)
        self._task: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self.closed = False
        self.last_sent = time.monotonic()

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
            reason = "client too slow; reconnect with after_seq to catch up"
            self._closing = asyncio.create_task(self._close(CLOSE_TOO_SLOW, reason))

    async def _drain(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await self._send(event)
            except self._gone:  # the socket is gone; its handler notices
                self.closed = True
                return
            except Exception:
                # A fault of ours, not the client's: said, so that it is not mistaken for a hang-up.
                log.exception("event=subscriber_send_failed type=%s", event.get("type"))
                self.closed = True
                return
            self.last_sent = time.monotonic()

    async def stop(self) -> None:
        self.closed = True
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class Hub:
    def __init__(self, open_session: SessionFactory, bus: Bus, keep_for: timedelta) -> None:
        self._open_session = open_session
        self._bus = bus
        self._keep_for = keep_for
        self._conversations: defaultdict[uuid.UUID, set[Subscriber]] = defaultdict(set)
        self._agents: defaultdict[int, set[Subscriber]] = defaultdict(set)

    def follow_conversation(self, conversation_id: uuid.UUID, subscriber: Subscriber) -> None:
        self._conversations[conversation_id].add(subscriber)

    def unfollow_conversation(self, conversation_id: uuid.UUID, subscriber: Subscriber) -> None:
        followers = self._conversations.get(conversation_id)
        if followers is not None:
            followers.discard(subscriber)
            if not followers:
                del self._conversations[conversation_id]

    def follow_agent(self, agent_id: int, subscriber: Subscriber) -> None:
        self._agents[agent_id].add(subscriber)

    def unfollow_agent(self, agent_id: int, subscriber: Subscriber) -> int:
        """Remove the subscriber; returns how many connections the agent still has on this instance."""
        followers = self._agents.get(agent_id)
        if followers is None:
            return 0
        followers.discard(subscriber)
        if not followers:
            del self._agents[agent_id]
            return 0
        return len(followers)

    def to_conversation(self, conversation_id: uuid.UUID, event: Event) -> None:
        self._deliver_to_conversation(conversation_id, event)
        self._bus.publish({"conversation_id": str(conversation_id), "event": event})

    def to_agents(self, numbered: Numbered) -> None:
        """Deliver events numbered and stored in a transaction that has committed."""
        for agent_id, event in numbered:
            self._deliver_to_agent(agent_id, event)
            self._bus.publish({"agent_id": agent_id, "event": event})

    def to_agent_now(self, agent_id: int, event: Event) -> None:
        """Deliver without keeping or numbering: what is stale a second later (typing)."""
        self._deliver_to_agent(agent_id, event)
        self._bus.publish({"agent_id": agent_id, "event": event})

    async def run(self) -> None:
        """Deliver what other instances send, and forget old feed events, until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._bus.run(self._arrived))
            group.create_task(self._prune_forever())

    async def _prune_forever(self) -> None:
        while True:
            try:
                pruned = await run_in_session(self._open_session, lambda s: feed.prune(s, utcnow() - self._keep_for))
                log.info("event=agent_feeds_pruned events=%d", pruned)
            except Exception:
                log.exception("event=agent_feeds_not_pruned")
            await asyncio.sleep(PRUNE_EVERY_SECONDS)

    def _arrived(self, message: dict[str, Any]) -> None:
        if "agent_id" in message:
            self._deliver_to_agent(int(message["agent_id"]), message["event"])
        elif "conversation_id" in message:
            self._deliver_to_conversation(uuid.UUID(message["conversation_id"]), message["event"])

    def _deliver_to_conversation(self, conversation_id: uuid.UUID, event: Event) -> None:
        for subscriber in list(self._conversations.get(conversation_id, ())):
            subscriber.deliver(event)

    def _deliver_to_agent(self, agent_id: int, event: Event) -> None:
        for subscriber in list(self._agents.get(agent_id, ())):
            subscriber.deliver(event)

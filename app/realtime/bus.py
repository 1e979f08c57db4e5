"""How service instances tell each other what to deliver: an agent connected to one instance hears of
an offer or a message another instance handled. Redis pub/sub carries it when several instances run;
one instance needs nothing. The bus only makes delivery quick: what an agent is sent is kept in their
feed first (app/realtime/feed.py), so a message the bus drops is filled in from there."""

import asyncio
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import redis.asyncio as redis

log = logging.getLogger(__name__)

Arrived = Callable[[dict[str, Any]], None]


class Bus(Protocol):
    def publish(self, message: dict[str, Any]) -> None:
        """Queue a message for the other instances; never waits."""

    async def run(self, arrived: Arrived) -> None:
        """Send what was queued and hand what other instances sent to `arrived`, until cancelled."""


class SingleInstance:
    """No other instance to tell."""

    def publish(self, message: dict[str, Any]) -> None:
        pass

    async def run(self, arrived: Arrived) -> None:
        await asyncio.Event().wait()


def channel_of(database_url: str) -> str:
    """The Redis channel of the instances on one database."""
    return "carebridge:realtime:" + hashlib.sha256(database_url.encode()).hexdigest()[:16]


class RedisBus:
    """Instances on one database share a channel; deployments (or test runs) sharing a Redis do not."""

    def __init__(self, url: str, database_url: str) -> None:
        self._url = url
        self._channel = channel_of(database_url)
        self._origin = uuid.uuid4().hex
        self._outgoing: asyncio.Queue[str] = asyncio.Queue()

    def publish(self, message: dict[str, Any]) -> None:
        self._outgoing.put_nowait(json.dumps({**message, "origin": self._origin}))

    async def run(self, arrived: Arrived) -> None:
        while True:
            client = redis.from_url(self._url)
            try:
                async with asyncio.TaskGroup() as group:
                    group.create_task(self._send(client))
                    group.create_task(self._receive(client, arrived))
            except* (redis.RedisError, OSError) as failure:
                # Deliveries missed meanwhile are filled in from the feeds on the next event or reconnect.
                log.warning("event=realtime_bus_lost error=%r retry_in=1s", failure.exceptions[0])
                await asyncio.sleep(1.0)
            finally:
                await client.aclose()

    async def _send(self, client: "redis.Redis") -> None:
        while True:
            message = await self._outgoing.get()
            try:
                await client.publish(self._channel, message)
            except BaseException:
                self._outgoing.put_nowait(message)
                raise

    async def _receive(self, client: "redis.Redis", arrived: Arrived) -> None:
        async with client.pubsub() as pubsub:
            await pubsub.subscribe(self._channel)
            async for raw in pubsub.listen():
                if raw.get("type") != "message":
                    continue
                message = json.loads(raw["data"])
                if message.pop("origin", None) != self._origin:
                    arrived(message)

"""Waits for the service to finish what it was given, in place of a pause long enough "to be sure"."""

import asyncio

import pytest
import redis.asyncio as redis
from sqlmodel import col, select

from app.conversations.models import Message
from app.core.db import make_engine, session_factory
from app.outbox.models import OutboxItem, OutboxStatus
from app.realtime.bus import channel_of
from app.social.models import InboxEvent, InboxStatus


async def until_quiet(database_url: str, seconds: float = 30, every: float = 0.1) -> None:
    """Until every platform event is processed, every customer message handled and every reply sent
    or given up on. Each step commits its result with the next step's work (an event processed with
    the message it became, a message handled with the replies it got and their outbox items), so once
    none is left nothing more will happen unless someone writes again."""
    engine = make_engine(database_url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    try:
        while True:
            with session_factory(engine)() as session:
                pending_in = session.exec(select(InboxEvent.id).where(InboxEvent.status == InboxStatus.pending)).first()
                pending_out = session.exec(
                    select(OutboxItem.id).where(OutboxItem.status == OutboxStatus.pending)
                ).first()
                unhandled = session.exec(select(Message.id).where(col(Message.handled_at).is_(None))).first()
            if pending_in is None and pending_out is None and unhandled is None:
                return
            if loop.time() > deadline:
                pytest.fail(
                    f"not quiet within {seconds:.0f} s: inbox event {pending_in}, outbox item {pending_out}, "
                    f"message {unhandled} still waiting (None: none)"
                )
            await asyncio.sleep(every)
    finally:
        engine.dispose()


async def until_subscribed(redis_url: str, database_url: str, instances: int, seconds: float = 30) -> None:
    """Until `instances` instances on `database_url` listen on their Redis channel, so that what one
    publishes reaches the others."""
    client = redis.from_url(redis_url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    try:
        while True:
            ((_, listening),) = await client.pubsub_numsub(channel_of(database_url))
            if listening >= instances:
                return
            if loop.time() > deadline:
                pytest.fail(f"{listening} of {instances} instances subscribed within {seconds:.0f} s")
            await asyncio.sleep(0.05)
    finally:
        await client.aclose()

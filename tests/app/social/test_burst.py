"""A burst of platform events with duplicates, replays and events out of order, with the service
restarted in the middle: exactly the unique messages are stored, in the platforms' order, and each
gets exactly one reply.

Rasa is not running here, so the service answers from the knowledge base itself; the customers ask
the demo articles' own questions, which it is sure enough of to answer every one.
"""

import asyncio
import os
import random
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from app.cli.background import serve
from app.conversations.models import Author, Conversation, Message
from app.core.db import make_engine, session_factory, unit_of_work
from app.core.settings import DEMO_AGENT_TOKEN, Settings
from app.customers.models import ChannelIdentity
from app.main import create_app
from app.outbox.models import OutboxItem, OutboxStatus
from app.seed import seed_demo
from app.social.models import InboxEvent, InboxStatus
from bench import platform_payloads as p
from bench.platform_standin import GRAPH_PREFIX, X_PREFIX, FakePlatforms
from knowledge import OnnxEmbedder
from knowledge.demo import load_demo_articles
from tests.support.waits import until_quiet

EVENTS = int(os.environ.get("CAREBRIDGE_BURST_EVENTS", "10000"))
DUPLICATES = 0.3
PER_SENDER = 5
BATCH = 25
START_MS = 1_763_900_000_000

pytestmark = pytest.mark.slow


def plan(seed: int = 7) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, list[str]]]:
    """The deliveries to post (platform, event) and, per sender, their texts in the platform's order."""
    rng = random.Random(seed)
    questions = [a.questions[0] for a in load_demo_articles()]
    unique = int(EVENTS / (1 + DUPLICATES))
    events: list[tuple[str, dict[str, Any]]] = []
    expected: dict[str, list[str]] = defaultdict(list)
    for n in range(unique):
        sender, turn = divmod(n, PER_SENDER)
        millis = START_MS + sender * 10_000 + turn * 1_000
        text = f"{rng.choice(questions)}"
        if sender % 2:
            events.append(("x", p.x_dm(f"{n}", f"x{sender}", text, millis)["direct_message_events"][0]))
            expected[f"x{sender}"].append(text)
        else:
            events.append(("meta", p.dm(f"m_{n}", f"psid{sender}", text, millis)))
            expected[f"psid{sender}"].append(text)
    # A redelivery comes a little after the first delivery; a replay comes at the very end, days later.
    keyed = [(float(n), event) for n, event in enumerate(events)]
    for n in range(EVENTS - unique):
        original = rng.randrange(len(events))
        if n % 2:
            keyed.append((original + rng.uniform(1, 200), events[original]))
        else:
            keyed.append((len(events) + 1.0 + n, events[original]))
    mixed = [event for _, event in sorted(keyed, key=lambda pair: pair[0])]
    # Neighbours in one delivery swap places, as events fanned out by several platform servers do.
    for i in range(0, len(mixed) - 1, 7):
        if i // BATCH == (i + 1) // BATCH:
            mixed[i], mixed[i + 1] = mixed[i + 1], mixed[i]
    return mixed, expected


def deliveries(events: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, bytes, dict[str, str]]]:
    posts = []
    for start in range(0, len(events), BATCH):
        chunk = events[start : start + BATCH]
        meta = [e for platform, e in chunk if platform == "meta"]
        x = [e for platform, e in chunk if platform == "x"]
        if meta:
            posts.append(("/webhooks/meta", *p.signed_meta(p.page(*meta))))
        if x:
            delivery = {"for_user_id": p.BRAND_X_ID, "direct_message_events": x}
            posts.append(("/webhooks/x", *p.signed_x(delivery)))
    return posts


async def post_all(url: str, posts: list[tuple[str, bytes, dict[str, str]]]) -> None:
    """Post like a platform: several at once, and again after a failure until acknowledged."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        queue: asyncio.Queue[tuple[str, bytes, dict[str, str]]] = asyncio.Queue()
        for post in posts:
            queue.put_nowait(post)

        async def worker() -> None:
            while not queue.empty():
                path, body, headers = queue.get_nowait()
                response = await http.post(path, content=body, headers=headers)
                assert response.status_code == 200, response.text

        await asyncio.gather(*(worker() for _ in range(4)))


async def test_a_burst_with_duplicates_and_a_restart_stores_and_answers_each_message_once(
    tmp_path: Path, sqlite_url: str, embedder: OnnxEmbedder
) -> None:
    events, expected = plan()
    posts = deliveries(events)
    fake = FakePlatforms()
    engine = make_engine(sqlite_url)
    with unit_of_work(session_factory(engine)) as session:
        seed_demo(session=session, agent_token=DEMO_AGENT_TOKEN, fallback_team="overflow")

    def settings(port: int) -> Settings:
        return Settings(
            environment="test",
            database_url=sqlite_url,
            var_dir=tmp_path,
            rasa_url=f"http://127.0.0.1:{port}",
            meta_app_secret=p.META_SECRET,
            meta_page_token="page-token",
            meta_graph_url=platforms.http_url + GRAPH_PREFIX,
            x_consumer_secret=p.X_SECRET,
            x_bearer_token="x-token",
            x_api_url=platforms.http_url + X_PREFIX,
            x_brand_user_id=p.BRAND_X_ID,
            inbox_settle_seconds=0.5,
        )

    half = len(posts) // 2
    with serve(fake.app) as platforms:
        with serve(create_app(settings(1), embedder=embedder)) as first:
            started = time.monotonic()
            await post_all(first.http_url, posts[:half])
        # Stopped in the middle of its work: some events unprocessed, some replies unsent.
        with serve(create_app(settings(1), embedder=embedder)) as second:
            await post_all(second.http_url, posts[half:])
            posted = time.monotonic()
            await until_quiet(sqlite_url, seconds=600, every=0.5)
    print(
        f"burst: {len(events)} events posted in {posted - started:.1f} s, "
        f"all answered after {time.monotonic() - started:.1f} s"
    )

    with session_factory(engine)() as session:
        conversations = {c.id: c for c in session.exec(select(Conversation))}
        identities = {i.customer_id: i.external_id for i in session.exec(select(ChannelIdentity))}
        stored: dict[str, list[str]] = defaultdict(list)
        replies = Counter[str]()
        for message in session.exec(select(Message).order_by(col(Message.conversation_id), col(Message.seq))):
            sender = identities[conversations[message.conversation_id].customer_id]
            if message.author == Author.customer:
                stored[sender].append(message.text)
            elif message.author == Author.bot:
                replies[sender] += 1
        items = list(session.exec(select(OutboxItem)))
        statuses = Counter(e.status for e in session.exec(select(InboxEvent)))
    engine.dispose()

    unique = sum(len(texts) for texts in expected.values())
    assert statuses == {InboxStatus.processed: unique}
    assert stored == expected
    assert all(replies[sender] == len(texts) for sender, texts in expected.items())
    assert len(items) == unique and {i.status for i in items} == {OutboxStatus.sent}
    keys = Counter(c.headers["idempotency-key"] for c in fake.posts())
    assert len(keys) == unique and set(keys.values()) == {1}

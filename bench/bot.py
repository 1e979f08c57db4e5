"""`carebridge bench bot`: how long a customer waits for the bot's answer through Carebridge,
next to the same questions sent straight to Rasa's REST channel in the same run.

Both paths run the same Rasa server, action server and knowledge search; the difference is what the
service adds: storing the message before acknowledging it, the per-conversation worker, storing the
reply, and delivering it over the customer's websocket.
"""

import asyncio
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from app.cli.background import Stack, running_stack
from bench.chat import first_bot_reply
from bench.report import Measure, Report, percentile
from knowledge.demo import load_demo_articles

WARM_UP = 5


def questions() -> list[str]:
    """One customer phrasing per demo article (not its title), so every answer comes from an action."""
    return [article.questions[1] for article in load_demo_articles()]


async def through_carebridge(stack: Stack, http: httpx.AsyncClient, text: str) -> float:
    """Seconds from sending the message to the bot's reply arriving on the customer's websocket."""
    _, seconds = await first_bot_reply(stack, http, text)
    return seconds


async def straight_to_rasa(stack: Stack, http: httpx.AsyncClient, text: str) -> float:
    started = time.perf_counter()
    response = await http.post(
        f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": f"bench-{uuid.uuid4()}", "message": text}
    )
    response.raise_for_status()
    return time.perf_counter() - started


async def measure(stack: Stack, rounds: int) -> tuple[list[float], list[float]]:
    texts = questions()
    ours: list[float] = []
    rasa: list[float] = []
    async with httpx.AsyncClient(timeout=30) as http:
        for i in range(WARM_UP + rounds * len(texts)):
            text = texts[i % len(texts)]
            # Alternate which path goes first, so neither always meets a warmer cache.
            if i % 2 == 0:
                a = await through_carebridge(stack, http, text)
                b = await straight_to_rasa(stack, http, text)
            else:
                b = await straight_to_rasa(stack, http, text)
                a = await through_carebridge(stack, http, text)
            if i >= WARM_UP:
                ours.append(a)
                rasa.append(b)
    return ours, rasa


def run(rounds: int = 6) -> Report:
    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp)) as stack:
        ours, rasa = asyncio.run(measure(stack, rounds))
    report = Report(
        subject="bot",
        description=f"customer message to bot answer, {len(ours)} FAQ questions, one at a time",
        baseline_name="Rasa REST direct",
    )
    for q in (50, 99):
        report.measures.append(Measure(f"p{q} latency", "ms", percentile(ours, q) * 1000, percentile(rasa, q) * 1000))
    added = [(a - b) * 1000 for a, b in zip(ours, rasa, strict=True)]
    report.notes.append(f"median time Carebridge adds per answer: {percentile(added, 50):.1f} ms")
    return report

"""`carebridge bench ingest`: how long a webhook delivery waits for its acknowledgement (p50, p99)
during a burst, and how many deliveries a second the service can acknowledge at most, on SQLite
and on PostgreSQL.

The burst: deliveries arrive at `BURST_RATE` a second for `BURST_SECONDS`, each sent on time
whether or not the ones before were answered, as a platform's servers send them. The most: 16
senders post as fast as they are answered.

The service (`carebridge serve`, in its own process) checks the signature, stores the delivery's events
in the inbox and answers; customers, conversations, the bot's answer and the call to the platform
come after, in the background, while the burst goes on. The baseline, measured in the same run on
the same kind of database, is a handler that does all of that before it answers
(`bench/ingest_inline.py`). Meta's stand-in (`bench/platform_standin.py`) takes the replies.
"""

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlmodel import select

from app import tables  # noqa: F401  (the whole schema, for foreign keys)
from app.cli.background import free_port, serve
from app.cli.up import prepare
from app.core.db import make_engine, session_factory
from app.core.settings import PROJECT_ROOT, Settings
from app.outbox.models import OutboxItem, OutboxStatus
from bench import platform_payloads as payloads
from bench.platform_standin import GRAPH_PREFIX, FakePlatforms
from bench.report import Measure, Report, percentile
from bench.routing import DEFAULT_POSTGRES, scratch_database
from knowledge.demo import load_demo_articles

DELIVERIES = 3_000
CONCURRENCY = 16
BURST_RATE = 100
BURST_SECONDS = 20
ACK_TARGET_MS = 100.0


def bodies(count: int, offset: int) -> list[tuple[bytes, dict[str, str]]]:
    """Messenger deliveries of one message each, from 500 customers asking the demo FAQ."""
    questions = [a.questions[0] for a in load_demo_articles()]
    now = int(time.time() * 1000)
    signed = []
    for n in range(offset, offset + count):
        event = payloads.dm(f"m_bench_{n}", f"psid-{n % 500}", questions[n % len(questions)], now + n)
        signed.append(payloads.signed_meta(payloads.page(event)))
    return signed


@contextmanager
def server(argv: list[str], settings: Settings, env: dict[str, str]) -> Iterator[str]:
    log = (settings.var_dir / "server.log").open("w")
    process = subprocess.Popen(argv, cwd=PROJECT_ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{settings.port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{argv} did not start; see {settings.var_dir / 'server.log'}")
            try:
                httpx.get(f"{url}/healthz")  # any answer at all: the server is taking requests
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url
    except Exception as error:
        # The scratch folder goes with the run: what the server said is kept in the error.
        log.flush()
        tail = (settings.var_dir / "server.log").read_text(errors="replace")[-4000:]
        raise RuntimeError(f"{error}\n--- server log, last lines ---\n{tail}") from error
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            print(f"{argv} did not stop within 60 s of SIGTERM; killed", file=sys.stderr)
            process.kill()
            process.wait()
        log.close()


async def burst(url: str, signed: list[tuple[bytes, dict[str, str]]], rate: float) -> tuple[list[float], int]:
    """Post at `rate` a second, on schedule; returns each acknowledgement's seconds, and how many
    deliveries got no 200 (refused, or the connection failed: the platform would send them again)."""
    latencies: list[float] = []
    failed = 0
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=httpx.Limits(max_connections=None)) as http:

        async def post(at: float, body: bytes, headers: dict[str, str]) -> None:
            nonlocal failed
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            started = time.perf_counter()
            try:
                response = await http.post("/webhooks/meta", content=body, headers=headers)
            except httpx.TransportError:
                failed += 1
                return
            if response.status_code != 200:
                failed += 1
                return
            latencies.append(time.perf_counter() - started)

        start = time.perf_counter() + 0.5
        await asyncio.gather(*(post(start + n / rate, *delivery) for n, delivery in enumerate(signed)))
    return latencies, failed


async def flood(url: str, signed: list[tuple[bytes, dict[str, str]]]) -> tuple[list[float], float]:
    """Post everything with `CONCURRENCY` clients; returns each acknowledgement's seconds and the total."""
    latencies: list[float] = []
    queue = list(reversed(signed))
    async with httpx.AsyncClient(base_url=url, timeout=300) as http:

        async def client() -> None:
            while queue:
                body, headers = queue.pop()
                started = time.perf_counter()
                response = await http.post("/webhooks/meta", content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise RuntimeError(f"delivery refused: {response.status_code} {response.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
        return latencies, time.perf_counter() - started


def all_sent(database_url: str, expected: int, seconds: float = 900) -> float:
    """Seconds until every reply has reached the platform."""
    engine = make_engine(database_url)
    started = time.monotonic()
    try:
        while time.monotonic() - started < seconds:
            with session_factory(engine)() as session:
                sent = len(list(session.exec(select(OutboxItem.id).where(OutboxItem.status == OutboxStatus.sent))))
            if sent >= expected:
                return time.monotonic() - started
            time.sleep(0.5)
        raise RuntimeError(f"only {sent} of {expected} replies were sent in {seconds:.0f} s")
    finally:
        engine.dispose()


def measure(label: str, database_url: str | None, graph_url: str, report: Report) -> None:
    results: dict[str, tuple[list[float], float]] = {}
    bursts: dict[str, tuple[list[float], int]] = {}
    for design in ("ours", "inline"):
        with tempfile.TemporaryDirectory(prefix="carebridge-ingest-") as scratch, scratch_url(database_url) as db:
            var_dir = Path(scratch)
            url = db or f"sqlite:///{var_dir / 'carebridge.db'}"
            env = {
                "CAREBRIDGE_VAR_DIR": str(var_dir),
                "CAREBRIDGE_DATABASE_URL": url,
                "CAREBRIDGE_PORT": str(free_port()),
                "CAREBRIDGE_RASA_URL": f"http://127.0.0.1:{free_port()}",
                "CAREBRIDGE_META_APP_SECRET": payloads.META_SECRET,
                "CAREBRIDGE_META_PAGE_TOKEN": "bench-page-token",
                "CAREBRIDGE_META_GRAPH_URL": graph_url,
                "CAREBRIDGE_INBOX_SETTLE_SECONDS": "0.5",
            }
            settings = Settings(
                var_dir=var_dir, database_url=url, port=int(env["CAREBRIDGE_PORT"]), environment="development"
            )
            prepare(settings)
            if design == "ours":
                argv = [sys.executable, "-m", "app.cli.main", "serve"]
            else:
                argv = [sys.executable, "-m", "uvicorn", "bench.ingest_inline:app", "--port", env["CAREBRIDGE_PORT"]]
                argv += ["--log-level", "warning"]
            with server(argv, settings, env) as base:
                # A few deliveries first, so neither side pays its start-up inside the measurement.
                asyncio.run(flood(base, bodies(20, 1_000_000)))
                burst_size = BURST_RATE * BURST_SECONDS
                bursts[design] = asyncio.run(burst(base, bodies(burst_size, 2_000_000), BURST_RATE))
                latencies, total = asyncio.run(flood(base, bodies(DELIVERIES, 0)))
                if design == "ours":
                    everything = DELIVERIES + burst_size - bursts[design][1] + 20
                    answered = all_sent(url, everything)
                    report.notes.append(
                        f"{label}: the last of {everything:,} replies reached the platform {answered:.1f} s after "
                        "the deliveries ended (the bot and the platform calls run behind the acknowledgements)"
                    )
            results[design] = (latencies, total)
    (ours, ours_total), (inline, inline_total) = results["ours"], results["inline"]
    ours_burst, inline_burst = bursts["ours"][0], bursts["inline"][0]
    report.measures += [
        Measure(f"{label}: burst, acknowledgement p50", "ms", _ms(ours_burst, 50), _ms(inline_burst, 50)),
        Measure(f"{label}: burst, acknowledgement p99", "ms", _ms(ours_burst, 99), _ms(inline_burst, 99)),
        Measure(f"{label}: burst, deliveries without a 200", "", bursts["ours"][1], bursts["inline"][1]),
        Measure(
            f"{label}: most acknowledged a second", "/s", DELIVERIES / ours_total, DELIVERIES / inline_total, "higher"
        ),
        Measure(f"{label}: at the most, acknowledgement p99", "ms", _ms(ours, 99), _ms(inline, 99)),
    ]
    p99 = _ms(ours_burst, 99)
    verdict = "met" if p99 < ACK_TARGET_MS else "NOT met"
    report.notes.append(f"{label}: burst p99 {p99:.0f} ms, target under {ACK_TARGET_MS:.0f} ms: {verdict}")


def _ms(latencies: list[float], q: float) -> float:
    return percentile(latencies, q) * 1000


@contextmanager
def scratch_url(admin_url: str | None) -> Iterator[str | None]:
    if admin_url is None:
        yield None
        return
    with scratch_database(admin_url) as url:
        yield url


def run(postgres_url: str = DEFAULT_POSTGRES) -> Report:
    report = Report(
        subject="ingest",
        description=(
            f"Messenger deliveries of one message: a burst of {BURST_RATE}/s for {BURST_SECONDS} s, "
            f"then {DELIVERIES:,} from {CONCURRENCY} senders as fast as answered"
        ),
        baseline_name="process, then answer",
    )
    fake = FakePlatforms()
    with serve(fake.app) as platforms:
        graph_url = platforms.http_url + GRAPH_PREFIX
        measure("SQLite", None, graph_url, report)
        measure("PostgreSQL", postgres_url, graph_url, report)
    return report

"""`carebridge bench realtime`: how long a customer's message takes to reach the owning agent's
websocket with 1,000 agents connected to one instance, and what 10 clients that stop reading do to
everyone else.

Each of the 1,000 agents owns one web chat; customers post at `RATE` a second, each message to a
random conversation, on schedule whether or not the ones before were answered. Latency runs from the
message's acceptance (the timestamp the server stored on it) to the moment the agent's socket has
it, and from the moment the POST is sent. Then 10 agents stop reading their sockets while their
customers send them long messages, and the others are measured again.

On this machine the stuck clients' sockets take in all 60 long messages a second for the 15 s (the
kernel's buffers on loopback are large) without the server's sends ever blocking, so neither design
is held up by them here, and carebridge's per-connection queue limit is not reached: the disconnect
of a client that does fill it is proven in tests/app/realtime/test_subscriber.py.

Both servers and this client share the machine's cores, so the client keeps its own work small: no
per-message compression on its sockets, only frames that may be a customer's message parsed, and
its own lean HTTP client (`bench/posting.py`).

The service (`carebridge serve`, its own process) keeps every agent event in the agent's feed before
delivering it through a bounded queue per connection. The baseline, in the same run on the same kind
of database, stores messages the same way and delivers them from one broadcast loop that awaits each
send in turn (`bench/realtime_naive.py`).
"""

import asyncio
import gc
import json
import random
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app import tables  # noqa: F401  (the whole schema, for foreign keys)
from app.cli.background import LOOPBACK_LIMITS, free_port
from app.cli.up import prepare
from app.conversations import ownership
from app.conversations.models import Owner
from app.core.db import make_engine, session_factory, unit_of_work
from app.core.settings import Settings
from app.people import service as people
from app.webchat import service as webchat
from bench.ingest import server
from bench.posting import Poster
from bench.report import Measure, Report, percentile

AGENTS = 1_000
SLOW = 10
RATE = 100
SECONDS = 15
# Long messages for the slow agents, so their sockets' buffers fill within the run.
SLOW_RATE = 60
PADDING = "x" * 1_800
CONNECT_CONCURRENCY = 50
PING_SECONDS = 5.0
# How long after the last POST a message may still arrive before it counts as not delivered.
LATE_SECONDS = 30.0


@dataclass
class Seat:
    agent_token: str
    conversation_id: str
    customer_token: str


@dataclass
class Phase:
    """When each message was sent, accepted (the server's timestamp on it) and seen on the agent's
    socket; wall-clock seconds, one clock for both processes on this machine."""

    sent: dict[str, float] = field(default_factory=dict)
    accepted: dict[str, float] = field(default_factory=dict)
    received: dict[str, float] = field(default_factory=dict)

    def from_acceptance(self) -> list[float]:
        return [self.received[key] - at for key, at in self.accepted.items() if key in self.received]

    def from_sending(self) -> list[float]:
        return [self.received[key] - at for key, at in self.sent.items() if key in self.received]

    def missing(self) -> int:
        return sum(1 for key in self.sent if key not in self.received)


def populate(database_url: str) -> list[Seat]:
    """1,000 agents, each owning one web chat with its own customer."""
    engine = make_engine(database_url)
    seats = []
    with unit_of_work(session_factory(engine)) as session:
        for n in range(AGENTS):
            token = f"bench-agent-token-{n:04d}-{random.randrange(10**9)}"
            agent = people.create(
                session=session,
                name=f"Bench agent {n}",
                email=f"agent{n}@bench.example",
                token=token,
                skills={},
                capacity={"webchat": 5},
            )
            conversation, customer_token = webchat.start_session(session=session, display_name=None)
            conversation.owner = Owner.queue
            session.add(conversation)
            ownership.assign(session=session, conversation_id=conversation.id, agent=agent)
            seats.append(Seat(token, str(conversation.id), customer_token))
    engine.dispose()
    return seats


class Agents:
    """The agents' websockets: the quick ones read everything and note when each message arrived."""

    def __init__(self, ws_url: str, seats: list[Seat]) -> None:
        self._ws_url = ws_url
        self._seats = seats
        self.phase = Phase()
        self.closed_slow = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._connections: list[ClientConnection] = []

    async def connect_all(self, slow: set[int]) -> None:
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def one(n: int) -> None:
            async with gate:
                connection = await self._open(slow=n in slow)
                await connection.send(json.dumps({"type": "hello", "token": self._seats[n].agent_token}))
                while json.loads(await connection.recv()).get("type") != "welcome":
                    pass
            self._connections.append(connection)
            self._tasks.append(asyncio.create_task(self._ping(connection)))
            if n not in slow:
                self._tasks.append(asyncio.create_task(self._read(connection)))
            else:
                self._tasks.append(asyncio.create_task(self._notice_close(connection)))

        await asyncio.gather(*(one(n) for n in range(len(self._seats))))

    async def _open(self, slow: bool) -> ClientConnection:
        if not slow:
            return await connect(f"{self._ws_url}/ws/agent", max_size=None, ping_interval=None, compression=None)
        # A client that stops reading: a small receive buffer and no frames queued beyond one.
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.setblocking(False)
        port = int(self._ws_url.rsplit(":", 1)[1])
        await asyncio.get_running_loop().sock_connect(raw, ("127.0.0.1", port))
        return await connect(f"{self._ws_url}/ws/agent", sock=raw, max_queue=1, ping_interval=None, compression=None)

    async def _read(self, connection: ClientConnection) -> None:
        try:
            async for frame in connection:
                if '"customer"' not in frame:  # pongs and heartbeats: not worth parsing here
                    continue
                now = time.time()
                event = json.loads(frame)
                if event.get("type") == "message" and event["message"]["author"] == "customer":
                    message = event["message"]
                    key = message["text"].split(" ", 1)[0]
                    self.phase.received.setdefault(key, now)
                    self.phase.accepted.setdefault(key, datetime.fromisoformat(message["created_at"]).timestamp())
        except ConnectionClosed:
            return

    async def _notice_close(self, connection: ClientConnection) -> None:
        await connection.wait_closed()
        self.closed_slow += 1

    async def _ping(self, connection: ClientConnection) -> None:
        try:
            while True:
                await asyncio.sleep(PING_SECONDS)
                await connection.send('{"type":"ping"}')
        except ConnectionClosed:
            return

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(c.close() for c in self._connections), return_exceptions=True)


async def post_at_rate(
    poster: Poster, seats: list[Seat], phase: Phase, prefix: str, rate: float, padding: str = ""
) -> None:
    """Customers post at `rate` a second for `SECONDS`, each to a random one of `seats`."""
    started = time.time() + 0.2
    count = int(rate * SECONDS)
    picks = [random.choice(seats) for _ in range(count)]

    async def post(n: int, seat: Seat) -> None:
        await asyncio.sleep(max(0.0, started + n / rate - time.time()))
        key = f"{prefix}{n}"
        phase.sent[key] = time.time()
        status, body = await poster.post(
            f"/api/chat/conversations/{seat.conversation_id}/messages",
            {"text": f"{key} {padding or 'is my parcel on its way?'}", "client_message_id": key},
            {"Authorization": f"Bearer {seat.customer_token}"},
        )
        if status not in (200, 201):
            raise RuntimeError(f"message refused: {status} {body[:200]!r}")

    await asyncio.gather(*(post(n, seat) for n, seat in enumerate(picks)))


async def wait_for(phase: Phase) -> None:
    deadline = time.monotonic() + LATE_SECONDS
    while phase.missing() and time.monotonic() < deadline:  # noqa: ASYNC110 (polling a plain dict)
        await asyncio.sleep(0.2)


async def drive(base_url: str, seats: list[Seat]) -> tuple[Phase, Phase, int]:
    """Both phases against one server: everyone keeping up, then 10 clients stuck."""
    slow = set(range(SLOW))
    quick = [seat for n, seat in enumerate(seats) if n not in slow]
    ws_url = base_url.replace("http://", "ws://")
    crowd = Agents(ws_url, seats)
    await crowd.connect_all(slow)
    # This process measures: its own full collections (300 ms with 1,000 sockets) must not show up
    # as the server's latency.
    gc.freeze()
    poster = Poster(base_url, connections=64)
    try:
        everyone = crowd.phase
        await post_at_rate(poster, quick, everyone, "a", RATE)
        await wait_for(everyone)
        crowd.phase = with_slow = Phase()
        stuck = Phase()  # what the slow ones are sent; nobody reads it
        await asyncio.gather(
            post_at_rate(poster, quick, with_slow, "b", RATE),
            post_at_rate(poster, [seats[n] for n in slow], stuck, "s", SLOW_RATE, PADDING),
        )
        await wait_for(with_slow)
    finally:
        await poster.close()
    closed = crowd.closed_slow
    await crowd.close()
    return everyone, with_slow, closed


def measure(report: Report) -> None:
    results: dict[str, tuple[Phase, Phase, int]] = {}
    for design in ("ours", "naive"):
        with tempfile.TemporaryDirectory(prefix="carebridge-realtime-") as scratch:
            var_dir = Path(scratch)
            url = f"sqlite:///{var_dir / 'carebridge.db'}"
            port = free_port()
            env = {
                "CAREBRIDGE_VAR_DIR": str(var_dir),
                "CAREBRIDGE_DATABASE_URL": url,
                "CAREBRIDGE_PORT": str(port),
                "CAREBRIDGE_RASA_URL": f"http://127.0.0.1:{free_port()}",
                **LOOPBACK_LIMITS,
            }
            settings = Settings(var_dir=var_dir, database_url=url, port=port, environment="development")
            prepare(settings)
            seats = populate(url)
            if design == "ours":
                argv = [sys.executable, "-m", "app.cli.main", "serve"]
            else:
                argv = [sys.executable, "-m", "uvicorn", "bench.realtime_naive:app", "--port", str(port)]
                argv += ["--log-level", "warning"]
            with server(argv, settings, env) as base:
                results[design] = asyncio.run(drive(base, seats))
    (ours_all, ours_slow, ours_closed), (naive_all, naive_slow, naive_closed) = results["ours"], results["naive"]
    for label, ours, naive in (
        ("everyone reading", ours_all, naive_all),
        (f"{SLOW} clients stuck", ours_slow, naive_slow),
    ):
        accepted, accepted_naive = _ms(ours.from_acceptance()), _ms(naive.from_acceptance())
        sent, sent_naive = _ms(ours.from_sending()), _ms(naive.from_sending())
        report.measures += [
            Measure(f"{label}: accepted to socket p50", "ms", percentile(accepted, 50), _p(accepted_naive, 50)),
            Measure(f"{label}: accepted to socket p99", "ms", percentile(accepted, 99), _p(accepted_naive, 99)),
            Measure(f"{label}: sent to socket p99", "ms", percentile(sent, 99), _p(sent_naive, 99)),
            Measure(f"{label}: not delivered within {LATE_SECONDS:.0f} s", "", ours.missing(), naive.missing()),
        ]
    report.notes.append(
        "accepted: the timestamp the server stored on the message; sent: the customer's POST leaving; "
        "socket: the frame read on the agent's websocket"
    )
    report.notes.append(
        f"stuck clients disconnected by the server: {ours_closed} of {SLOW} (carebridge), "
        f"{naive_closed} of {SLOW} (baseline); a disconnected console resumes from its last seq"
    )


def _ms(seconds: list[float]) -> list[float]:
    return [s * 1000 for s in seconds]


def _p(samples: list[float], q: float) -> float | None:
    return percentile(samples, q) if samples else None


def run() -> Report:
    report = Report(
        subject="realtime",
        description=(
            f"{AGENTS:,} agents connected to one instance (SQLite), each owning a web chat; customers post "
            f"{RATE}/s for {SECONDS} s to random chats, then again while {SLOW} agents stop reading and get "
            f"{SLOW_RATE} long messages a second"
        ),
        baseline_name="one broadcast loop",
    )
    measure(report)
    return report

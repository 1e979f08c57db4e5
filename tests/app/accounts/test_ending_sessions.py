"""A password change or a role change ends the person's web sessions, and an admin's "new token" ends
their API token: at once, on every instance. Two instances of the service on one PostgreSQL database."""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app.api.deps import CSRF_HEADER, SESSION_COOKIE
from app.cli.background import LiveServer
from app.core.settings import DEMO_AGENT_TOKEN
from knowledge import OnnxEmbedder
from tests.support.accounts import signed_in
from tests.support.instances import instance, seed

pytestmark = pytest.mark.postgres

MARIA, SAM, ADA = (f"{name}@kestrel.example" for name in ("maria", "sam", "ada"))
NEW_PASSWORD = "a brand new long password"
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def two(postgres_url: str, tmp_path: Path, embedder: OnnxEmbedder) -> Iterator[tuple[LiveServer, LiveServer]]:
    seed(postgres_url)
    with (
        instance(postgres_url, tmp_path / "a", embedder) as a,
        instance(postgres_url, tmp_path / "b", embedder) as b,
    ):
        yield a, b


@pytest.fixture
async def admin(two: tuple[LiveServer, LiveServer]) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """Ada, signed in on the first instance."""
    client, csrf = await signed_in(two[0], ADA)
    yield client, csrf
    await client.aclose()


async def _id_of(admin: tuple[httpx.AsyncClient, str], email: str) -> int:
    people = (await admin[0].get("/api/admin/people")).json()
    return int(next(p["id"] for p in people if p["email"] == email))


async def _change(admin: tuple[httpx.AsyncClient, str], email: str, change: dict[str, object]) -> httpx.Response:
    client, csrf = admin
    return await client.patch(
        f"/api/admin/people/{await _id_of(admin, email)}", json=change, headers={CSRF_HEADER: csrf}
    )


async def _console_socket(live: LiveServer, hello: dict[str, str], cookie: str = "") -> tuple[int | None, str]:
    """Open the agent's websocket with `hello` (and the session cookie, from the service's own page):
    the close code and reason, or None and the name the welcome greets."""
    headers = {"Origin": f"http://127.0.0.1:{live.port}"}
    if cookie:
        headers["Cookie"] = f"{SESSION_COOKIE}={cookie}"
    async with connect(f"{live.ws_url}/ws/agent", additional_headers=headers) as socket:
        await socket.send(json.dumps({"type": "hello", **hello}))
        try:
            welcome = json.loads(await socket.recv())
        except ConnectionClosed as closed:
            assert closed.rcvd is not None
            return closed.rcvd.code, closed.rcvd.reason
    return None, welcome["agent"]["name"]


async def test_an_admins_password_reset_ends_the_persons_sessions_on_every_instance(
    two: tuple[LiveServer, LiveServer], admin: tuple[httpx.AsyncClient, str]
) -> None:
    _, b = two
    maria, _ = await signed_in(b, MARIA)
    cookie = maria.cookies[SESSION_COOKIE]
    before = await maria.get("/api/session")

    reset = await _change(admin, MARIA, {"password": NEW_PASSWORD})
    after = await maria.get("/api/session")
    socket = await _console_socket(b, {}, cookie)
    await maria.aclose()
    again, _ = await signed_in(b, MARIA, NEW_PASSWORD)
    signed_in_again = await again.get("/api/session")
    await again.aclose()
    async with httpx.AsyncClient(base_url=b.http_url, timeout=10) as api:
        by_token = await api.get("/api/canned", headers={"Authorization": f"Bearer {DEMO_AGENT_TOKEN}"})

    assert before.status_code == 200 and reset.status_code == 200
    assert after.status_code == 401
    assert socket[0] == 4401
    assert signed_in_again.status_code == 200
    assert by_token.status_code == 200  # an API token ends only with a new token


async def test_a_role_change_ends_the_persons_sessions_and_saving_the_same_role_does_not(
    two: tuple[LiveServer, LiveServer], admin: tuple[httpx.AsyncClient, str]
) -> None:
    _, b = two
    sam, _ = await signed_in(b, SAM)

    same_role = await _change(admin, SAM, {"role": "supervisor", "skills": {"billing": 4}})
    kept = await sam.get("/api/assignment/alerts")
    new_role = await _change(admin, SAM, {"role": "agent"})
    ended = await sam.get("/api/session")
    await sam.aclose()

    assert same_role.status_code == 200 and kept.status_code == 200
    assert new_role.status_code == 200 and ended.status_code == 401


async def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(
    two: tuple[LiveServer, LiveServer], admin: tuple[httpx.AsyncClient, str]
) -> None:
    _, b = two
    elsewhere, _ = await signed_in(b, ADA)

    changed = await _change(admin, ADA, {"password": NEW_PASSWORD})
    here = await admin[0].get("/api/admin/people")
    there = await elsewhere.get("/api/admin/people")
    await elsewhere.aclose()

    assert changed.status_code == 200
    assert here.status_code == 200
    assert there.status_code == 401


def _set_password_on_command_line(database_url: str, email: str, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "carebridge"), "person", "set-password", email],
        input=password + "\n",
        env={**os.environ, "CAREBRIDGE_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_set_password_on_the_command_line_ends_the_persons_sessions(
    two: tuple[LiveServer, LiveServer], postgres_url: str
) -> None:
    a, b = two
    on_a, _ = await signed_in(a, MARIA)
    on_b, _ = await signed_in(b, MARIA)

    command = await asyncio.to_thread(_set_password_on_command_line, postgres_url, MARIA, NEW_PASSWORD)
    statuses = [(await client.get("/api/session")).status_code for client in (on_a, on_b)]
    await on_a.aclose()
    await on_b.aclose()

    assert command.returncode == 0, command.stdout + command.stderr
    assert "sessions have ended" in command.stdout
    assert statuses == [401, 401]


async def test_a_new_token_ends_the_old_one_on_every_instance_and_is_shown_once(
    two: tuple[LiveServer, LiveServer], admin: tuple[httpx.AsyncClient, str]
) -> None:
    _, b = two
    client, csrf = admin
    maria = await _id_of(admin, MARIA)
    sam, sam_csrf = await signed_in(b, SAM)
    maria_in_browser, _ = await signed_in(b, MARIA)

    forged = await client.post(f"/api/admin/people/{maria}/token")
    by_supervisor = await sam.post(f"/api/admin/people/{maria}/token", headers={CSRF_HEADER: sam_csrf})
    made = await client.post(f"/api/admin/people/{maria}/token", headers={CSRF_HEADER: csrf})
    token = made.json()["token"]
    listed = (await client.get("/api/admin/people")).text
    async with httpx.AsyncClient(base_url=b.http_url, timeout=10) as api:
        old = await api.get("/api/canned", headers={"Authorization": f"Bearer {DEMO_AGENT_TOKEN}"})
        new = await api.get("/api/canned", headers={"Authorization": f"Bearer {token}"})
    old_socket = await _console_socket(b, {"token": DEMO_AGENT_TOKEN})
    new_socket = await _console_socket(b, {"token": token})
    session = await maria_in_browser.get("/api/session")
    await sam.aclose()
    await maria_in_browser.aclose()

    assert forged.status_code == 403 and by_supervisor.status_code == 403
    assert made.status_code == 200 and made.json()["person"]["email"] == MARIA
    assert token and token != DEMO_AGENT_TOKEN and token not in listed
    assert old.status_code == 401 and new.status_code == 200
    assert old_socket[0] == 4401 and new_socket == (None, "Maria")
    assert session.status_code == 200  # a new token leaves the web sessions alone


@pytest.fixture
def two_on_a_bus(postgres_url: str, tmp_path: Path, embedder: OnnxEmbedder) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two instances that tell each other's connections what happened, as a deployment with Redis."""
    seed(postgres_url)
    with (
        instance(postgres_url, tmp_path / "a", embedder, events_url=REDIS_URL) as a,
        instance(postgres_url, tmp_path / "b", embedder, events_url=REDIS_URL) as b,
    ):
        yield a, b


async def _open_socket(live: LiveServer, hello: dict[str, str], cookie: str = "") -> ClientConnection:
    """The agent's websocket, past its welcome, signed in by `hello`'s token or by `cookie`."""
    headers = {"Origin": f"http://127.0.0.1:{live.port}"}
    if cookie:
        headers["Cookie"] = f"{SESSION_COOKIE}={cookie}"
    socket = await connect(f"{live.ws_url}/ws/agent", additional_headers=headers)
    await socket.send(json.dumps({"type": "hello", **hello}))
    assert json.loads(await socket.recv())["type"] == "welcome"
    return socket


async def _closing(socket: ClientConnection) -> tuple[int, str]:
    """Ping until the server closes the socket: its close code and reason."""
    # A bound only so that a socket left open fails the test instead of hanging it.
    async with asyncio.timeout(60):
        while True:
            try:
                await socket.send(json.dumps({"type": "ping"}))
                await asyncio.wait_for(socket.recv(), 1)
            except TimeoutError:
                continue
            except ConnectionClosed as closed:
                assert closed.rcvd is not None
                return closed.rcvd.code, closed.rcvd.reason


async def _still_open(socket: ClientConnection) -> bool:
    await socket.send(json.dumps({"type": "ping"}))
    try:
        while json.loads(await socket.recv())["type"] != "pong":
            pass
    except ConnectionClosed:
        return False
    return True


async def test_the_open_connections_a_change_ends_are_closed_on_every_instance(
    two_on_a_bus: tuple[LiveServer, LiveServer],
) -> None:
    a, b = two_on_a_bus
    admin, csrf = await signed_in(a, ADA)
    people = {p["email"]: p["id"] for p in (await admin.get("/api/admin/people")).json()}
    sam_token = (await admin.post(f"/api/admin/people/{people[SAM]}/token", headers={CSRF_HEADER: csrf})).json()
    maria, _ = await signed_in(b, MARIA)
    by_cookie = await _open_socket(b, {}, maria.cookies[SESSION_COOKIE])
    by_token = await _open_socket(b, {"token": DEMO_AGENT_TOKEN})
    supervisor = await _open_socket(b, {"token": sam_token["token"]})

    new_password = {"password": NEW_PASSWORD}
    await admin.patch(f"/api/admin/people/{people[MARIA]}", json=new_password, headers={CSRF_HEADER: csrf})
    cookie_closed = await _closing(by_cookie)
    token_kept = await _still_open(by_token)
    await admin.post(f"/api/admin/people/{people[MARIA]}/token", headers={CSRF_HEADER: csrf})
    token_closed = await _closing(by_token)
    await admin.patch(f"/api/admin/people/{people[SAM]}", json={"role": "agent"}, headers={CSRF_HEADER: csrf})
    role_closed = await _closing(supervisor)
    await admin.aclose()
    await maria.aclose()

    assert cookie_closed[0] == 4401 and "signed out" in cookie_closed[1]
    assert token_kept, "a new password leaves the API token working"
    assert token_closed[0] == 4401
    assert role_closed == (4409, "Sam is now agent; connect again")


async def test_a_password_set_on_the_command_line_closes_the_persons_open_connections(
    postgres_url: str, tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    # Nothing tells the service of a change made on the command line: its connections check again regularly.
    seed(postgres_url)
    with instance(postgres_url, tmp_path, embedder, agent_credentials_check_seconds=0.5) as live:
        maria, _ = await signed_in(live, MARIA)
        socket = await _open_socket(live, {}, maria.cookies[SESSION_COOKIE])
        await maria.aclose()

        command = await asyncio.to_thread(_set_password_on_command_line, postgres_url, MARIA, NEW_PASSWORD)
        closed = await _closing(socket)

    assert command.returncode == 0, command.stdout + command.stderr
    assert closed[0] == 4401

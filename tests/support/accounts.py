"""People added the way an administrator adds them (with the `carebridge` command), and signed in the
way a browser signs in."""

import os
import subprocess
import uuid
from dataclasses import dataclass

import httpx

from app.cli.background import CAREBRIDGE, LiveServer, Stack
from app.core.settings import DEMO_PASSWORD


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    password: str
    # For the API and websockets.
    token: str


def add_person(stack: Stack, role: str, name: str = "Kim", capacity: str = "") -> Person:
    """Add someone with `role` to the running stack's database, with a console password; `capacity`
    as the command takes it (webchat=3)."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:6]}@kestrel.example"
    password = f"{name} has a long password {uuid.uuid4().hex[:6]}"
    added = subprocess.run(
        [str(CAREBRIDGE), "person", "add", "--name", name, "--email", email, "--role", role, "--capacity", capacity,
         "--password-stdin"],
        input=password + "\n",
        env={**os.environ, "CAREBRIDGE_VAR_DIR": str(stack.var_dir)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    words = added.stdout.split()
    return Person(int(words[1]), email, password, added.stdout.split("token ")[1].split()[0])


async def signed_in(live: LiveServer, email: str, password: str = DEMO_PASSWORD) -> tuple[httpx.AsyncClient, str]:
    """A browser-like client holding the session cookie, and the session's CSRF token."""
    client = httpx.AsyncClient(base_url=live.http_url, timeout=10)
    response = await client.post("/api/session", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return client, response.json()["csrf_token"]

"""People added the way an administrator adds them: with the `carebridge` command."""

import os
import subprocess
import uuid
from dataclasses import dataclass

from app.cli.background import CAREBRIDGE, Stack


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
        [str(CAREBRIDGE), "agent", "add", "--name", name, "--email", email, "--role", role, "--capacity", capacity,
         "--password-stdin"],
        input=password + "\n",
        env={**os.environ, "CAREBRIDGE_VAR_DIR": str(stack.var_dir)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    words = added.stdout.split()
    return Person(int(words[1]), email, password, added.stdout.split("token ")[1].split()[0])

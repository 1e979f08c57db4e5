"""People added the way an administrator adds them: with the `carebridge` command."""

import os
import subprocess
import uuid

from app.cli.background import CAREBRIDGE, Stack


def add_person(stack: Stack, role: str, name: str = "Kim") -> str:
    """Add someone with `role` to the running stack's database; returns their token."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:6]}@kestrel.example"
    added = subprocess.run(
        [str(CAREBRIDGE), "agent", "add", "--name", name, "--email", email, "--role", role, "--capacity", ""],
        env={**os.environ, "CAREBRIDGE_VAR_DIR": str(stack.var_dir)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return added.stdout.split("token ")[1].split()[0]

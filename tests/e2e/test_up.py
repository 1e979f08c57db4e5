"""`carebridge up` as a person runs it: all three servers answer, and the API dying stops the rest.

Rasa's servers are restarted instead (the service answers without them meanwhile):
tests/e2e/test_bot_outage.py kills one.
"""

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from app.cli.background import Stack, running_stack
from app.core.settings import get_settings
from knowledge import onnx

pytestmark = pytest.mark.slow


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_up_prints_the_urls_and_every_server_answers(stack: Stack) -> None:
    printed = "".join(stack.output)

    assert f"{stack.http_url}/chat" in printed
    assert f"{stack.http_url}/agent" in printed
    health = httpx.get(f"{stack.http_url}/healthz").json()
    assert health["articles_indexed"] >= 30
    assert health["embedding_model"] == onnx.fingerprint(onnx.prepared(get_settings().embedding_model_dir))
    assert httpx.get(f"{stack.rasa_url}/status", params=stack.rasa_query).json()["model_file"]
    assert httpx.get(f"http://127.0.0.1:{stack.action_port}/health").json() == {"status": "ok"}


def listening_on(port: int) -> set[str]:
    """The addresses a port is listened on, from the kernel's socket tables (IPv4 and IPv6, hex)."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                addresses.add(address)
    return addresses


def test_rasa_and_its_action_server_listen_on_loopback_only(stack: Stack) -> None:
    loopback = "0100007F"  # 127.0.0.1, as the kernel writes it

    assert listening_on(stack.rasa_port) == {loopback}
    assert listening_on(stack.action_port) == {loopback}


def test_when_one_server_dies_up_names_it_and_stops_the_others(tmp_path: Path) -> None:
    with running_stack(tmp_path) as own:
        pids = own.child_pids()
        os.kill(pids["api"], signal.SIGKILL)

        output = own.read_until_exit(timeout=60)

        assert own.process.returncode == 1
        assert "api was killed by signal 9; stopping the others." in output
        deadline = time.monotonic() + 15
        while any(alive(pid) for pid in pids.values()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [name for name, pid in pids.items() if alive(pid)]


def test_rasas_api_asks_for_a_token_that_no_command_line_shows(stack: Stack) -> None:
    token = stack.rasa_query["token"]
    assert token.startswith("-")  # the shared stack's token looks like an option to an argument parser
    tracker = f"{stack.rasa_url}/conversations/someone/tracker"

    assert httpx.get(tracker).status_code == 401
    assert httpx.get(tracker, params={"token": "a-guess"}).status_code == 401
    assert httpx.get(tracker, params=stack.rasa_query).status_code == 200
    for name, pid in stack.child_pids().items():
        assert token.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes(), name
    assert (stack.var_dir / "rasa-token").stat().st_mode & 0o777 == 0o600

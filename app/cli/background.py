"""`carebridge up`, or one ASGI app in a thread, in the background on free ports, for the benchmarks and
the tests."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from app.core.settings import DEMO_AGENT_TOKEN, PROJECT_ROOT

CAREBRIDGE = Path(sys.executable).parent / "carebridge"
START_TIMEOUT_SECONDS = 420.0
# Every client of a stack run by the tests or the benchmarks is on loopback, so the web chat's limits,
# meant for one person or one address, would count a whole run as one visitor: lifted for them.
LOOPBACK_LIMITS = {
    "CAREBRIDGE_WEBCHAT_SESSIONS_PER_ADDRESS": "1000000",
    "CAREBRIDGE_WEBCHAT_MESSAGES_PER_VISITOR": "1000000",
    "CAREBRIDGE_WEBCHAT_MESSAGES_PER_ADDRESS": "1000000",
}


@dataclass
class Stack:
    process: subprocess.Popen[str]
    var_dir: Path
    port: int
    rasa_port: int
    action_port: int
    output: list[str]
    agent_token: str = DEMO_AGENT_TOKEN

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def rasa_query(self) -> dict[str, str]:
        """The query Rasa's HTTP API asks for: the token `carebridge up` made under its var folder."""
        return {"token": (self.var_dir / "rasa-token").read_text().strip()}

    def child_pids(self) -> dict[str, int]:
        pids: dict[str, int] = json.loads((self.var_dir / "run" / "processes.json").read_text())
        return pids

    def read_until_exit(self, timeout: float) -> str:
        """The rest of `carebridge up`'s output once it has exited on its own."""
        remaining, _ = self.process.communicate(timeout=timeout)
        return "".join(self.output) + remaining


@contextmanager
def running_stack(var_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[Stack]:
    """Everything `carebridge up` runs, with its own database under `var_dir`, and the web chat's
    limits lifted (`LOOPBACK_LIMITS`) unless `extra_env` sets them.

    The Rasa model directory stays the default one, shared by every stack, so a test run or a
    benchmark trains Rasa once at most.
    """
    port, rasa_port, action_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "CAREBRIDGE_VAR_DIR": str(var_dir),
        "CAREBRIDGE_PORT": str(port),
        "CAREBRIDGE_RASA_PORT": str(rasa_port),
        "CAREBRIDGE_ACTION_PORT": str(action_port),
        **LOOPBACK_LIMITS,
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [str(CAREBRIDGE), "up"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stack = Stack(process, var_dir, port, rasa_port, action_port, output=[])
    try:
        _wait_until_running(stack)
        yield stack
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_running(stack: Stack) -> None:
    assert stack.process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        line = stack.process.stdout.readline()
        if not line:
            break
        stack.output.append(line)
        if "Press Ctrl-C to stop" in line:
            return
    raise RuntimeError("carebridge up did not get running:\n" + "".join(stack.output))


@dataclass(frozen=True)
class LiveServer:
    app: FastAPI
    port: int

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


@contextmanager
def serve(app: FastAPI, port: int | None = None) -> Iterator[LiveServer]:
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the test server on port {port} did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(app, port)
    finally:
        server.should_exit = True
        thread.join(timeout=30)

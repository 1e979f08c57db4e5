"""Running several processes as one: start them, wait until each answers, and stop them together.

Each child runs in its own session, so Ctrl-C reaches only this process, which then stops the
children in order and waits for them. A child that dies is named with its exit code and the end of
its log. One marked `restart` (Rasa's servers: the service keeps customers answered without them)
is started again if it had been ready once, a few times at most within a window; any other death
(including one during start-up), or one restart too many, stops the others.
"""

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

STOP_GRACE_SECONDS = 10.0
POLL_SECONDS = 0.25
# A child that needs more restarts than this within the window is broken, not unlucky.
MAX_RESTARTS = 5
RESTART_WINDOW_SECONDS = 600.0


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    ready_url: str
    restart: bool = False


@dataclass
class Running:
    spec: ProcessSpec
    process: subprocess.Popen[bytes]
    log_path: Path
    ready: bool = False
    restarts: list[float] = field(default_factory=list)


@dataclass
class ProcessGroup:
    specs: list[ProcessSpec]
    log_dir: Path
    run_dir: Path
    say: Callable[[str], None] = print
    children: list[Running] = field(default_factory=list)
    _stop_requested: bool = False

    def run(self, on_ready: Callable[[], None], ready_timeout: float) -> int:
        """Start everything and supervise until Ctrl-C (exit 0) or a child dies (exit 1)."""
        previous = {sig: signal.signal(sig, self._request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self._start_all()
            return self._watch(on_ready, ready_timeout)
        finally:
            self.stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _request_stop(self, signum: int, _frame: object) -> None:
        self._stop_requested = True

    def _start_all(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for spec in self.specs:
            log_path = self.log_dir / f"{spec.name}.log"
            self.children.append(Running(spec, _spawn(spec, log_path, "wb"), log_path))
        self._write_pids()

    def _write_pids(self) -> None:
        pids = {child.spec.name: child.process.pid for child in self.children}
        (self.run_dir / "processes.json").write_text(json.dumps(pids))

    def _restart(self, child: Running) -> bool:
        """Start a dead child again if it may be; False when it may not (and everything stops)."""
        now = time.monotonic()
        child.restarts = [at for at in child.restarts if now - at < RESTART_WINDOW_SECONDS]
        if not (child.spec.restart and child.ready) or len(child.restarts) >= MAX_RESTARTS:
            return False
        child.restarts.append(now)
        self.say(
            f"{self._obituary(child, 'restarting it')}\n"
            f"  (restart {len(child.restarts)} of at most {MAX_RESTARTS} in {RESTART_WINDOW_SECONDS / 60:.0f} minutes)"
        )
        child.process = _spawn(child.spec, child.log_path, "ab")
        self._write_pids()
        return True

    def _watch(self, on_ready: Callable[[], None], ready_timeout: float) -> int:
        deadline = time.monotonic() + ready_timeout
        announced = False
        with httpx.Client(timeout=2.0) as http:
            while not self._stop_requested:
                dead = next((c for c in self.children if c.process.poll() is not None), None)
                if dead is not None and not self._restart(dead):
                    self.say(self._obituary(dead, "stopping the others"))
                    return 1
                if not announced:
                    if self._all_ready(http):
                        announced = True
                        on_ready()
                    elif time.monotonic() > deadline:
                        waiting = ", ".join(c.spec.name for c in self.children if not c.ready)
                        self.say(f"Gave up after {ready_timeout:.0f} s waiting for {waiting}")
                        return 1
                time.sleep(POLL_SECONDS)
        self.say("Stopping...")
        return 0

    def _all_ready(self, http: httpx.Client) -> bool:
        for child in self.children:
            child.ready = child.ready or _answers(http, child.spec.ready_url)
        return all(child.ready for child in self.children)

    def _obituary(self, child: Running, then: str) -> str:
        code = child.process.returncode
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        lines = child.log_path.read_text(errors="replace").splitlines()[-15:]
        tail = "\n".join(f"    {line}" for line in lines)
        return f"{child.spec.name} {how}; {then}.\n  Last lines of {child.log_path}:\n{tail}"

    def stop_all(self) -> None:
        """SIGTERM every child's process group, then SIGKILL whatever is left after the grace period."""
        alive = [child for child in reversed(self.children) if child.process.poll() is None]
        for child in alive:
            _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in alive:
            try:
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(child.process, signal.SIGKILL)
                child.process.wait()
        (self.run_dir / "processes.json").unlink(missing_ok=True)


def _spawn(spec: ProcessSpec, log_path: Path, mode: str) -> subprocess.Popen[bytes]:
    with log_path.open(mode) as log:
        return subprocess.Popen(
            spec.argv,
            cwd=spec.cwd,
            env=spec.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _answers(http: httpx.Client, url: str) -> bool:
    try:
        return http.get(url).status_code == 200
    except httpx.HTTPError:
        return False


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)

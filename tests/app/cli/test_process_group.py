"""Which dead children `carebridge up` starts again, with real child processes."""

import signal
import sys
from pathlib import Path

from app.cli.process_group import MAX_RESTARTS, ProcessGroup, ProcessSpec


def sleeper(name: str, restart: bool) -> ProcessSpec:
    argv = [sys.executable, "-c", "import time; time.sleep(60)"]
    return ProcessSpec(name=name, argv=argv, cwd=Path.cwd(), env={}, ready_url="http://127.0.0.1:9/", restart=restart)


def test_a_ready_restartable_child_is_restarted_until_its_budget_is_spent(tmp_path: Path) -> None:
    said: list[str] = []
    group = ProcessGroup([sleeper("rasa", True)], log_dir=tmp_path / "logs", run_dir=tmp_path / "run", say=said.append)
    group._start_all()
    (child,) = group.children
    child.ready = True
    try:
        pids = [child.process.pid]
        for _ in range(MAX_RESTARTS):
            child.process.send_signal(signal.SIGKILL)
            child.process.wait()
            assert group._restart(child)
            pids.append(child.process.pid)
        child.process.send_signal(signal.SIGKILL)
        child.process.wait()

        assert not group._restart(child)
        assert len(set(pids)) == MAX_RESTARTS + 1
        assert "rasa was killed by signal 9; restarting it" in said[0]
        assert (tmp_path / "run" / "processes.json").read_text() == f'{{"rasa": {pids[-1]}}}'
    finally:
        group.stop_all()


def test_a_child_that_dies_before_it_was_ready_or_may_not_restart_stops_everything(tmp_path: Path) -> None:
    group = ProcessGroup(
        [sleeper("rasa", True), sleeper("api", False)], log_dir=tmp_path / "logs", run_dir=tmp_path / "run"
    )
    group._start_all()
    starting, api = group.children
    api.ready = True
    try:
        for child in (starting, api):
            child.process.send_signal(signal.SIGKILL)
            child.process.wait()

            assert not group._restart(child)
    finally:
        group.stop_all()

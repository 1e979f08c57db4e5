"""Rasa's own test of the bot: the end-to-end test stories in bot/tests/, every action as predicted.

It uses the model the end-to-end tests run (trained once per checkout and configuration), and the
customer's words in the stories go through the NLU too.
"""

import subprocess
from pathlib import Path

import pytest

from app.cli.rasa_processes import rasa_env
from app.cli.rasa_training import ensure_model
from app.core.settings import get_settings

pytestmark = pytest.mark.slow


def test_the_test_stories_pass_with_no_prediction_error(tmp_path: Path) -> None:
    settings = get_settings()
    model, _ = ensure_model(settings, tmp_path / "train.log")

    result = subprocess.run(
        [
            str(settings.rasa_venv / "bin" / "rasa"), "test", "core",
            "--stories", "tests",
            "--model", str(model),
            "--fail-on-prediction-errors",
            "--out", str(tmp_path / "results"),
        ],
        cwd=settings.bot_dir, env=rasa_env(settings), capture_output=True, text=True,
    )  # fmt: skip

    failed = tmp_path / "results" / "failed_test_stories.yml"
    report = failed.read_text() if failed.exists() else result.stdout[-3000:] + result.stderr[-3000:]
    assert result.returncode == 0, report
    assert "None of the test stories failed" in failed.read_text()

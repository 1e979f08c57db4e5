"""The Rasa model is keyed by what shapes it, so `carebridge up` retrains only when that changed."""

import shutil
from pathlib import Path

from app.cli.rasa_training import fingerprint
from app.core.settings import PROJECT_ROOT


def copy_of_bot(tmp_path: Path) -> Path:
    target = tmp_path / "bot"
    shutil.copytree(PROJECT_ROOT / "bot", target, ignore=shutil.ignore_patterns("__pycache__", ".rasa"))
    return target


def test_fingerprint_changes_with_training_data_but_not_with_actions(tmp_path: Path) -> None:
    bot = copy_of_bot(tmp_path)
    before = fingerprint(bot)

    (bot / "actions" / "answer.py").write_text("# actions are loaded at start, not trained\n")
    assert fingerprint(bot) == before

    with (bot / "data" / "nlu.yml").open("a") as nlu:
        nlu.write("      - one more greeting\n")
    assert fingerprint(bot) != before


def test_fingerprint_is_stable(tmp_path: Path) -> None:
    assert fingerprint(copy_of_bot(tmp_path)) == fingerprint(PROJECT_ROOT / "bot")

"""`carebridge bench nlu`: the bot's intent classification, cross-validated with Rasa's own test
command on our training data (bot/data), next to the same pipeline without the MiniLM sentence
embeddings (the words and regex flags only), measured in the same run.

Target: macro F1 of at least 0.90.
"""

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from app.cli.rasa_processes import rasa_env
from app.core.settings import Settings, get_settings
from bench.report import Measure, Report

FOLDS = 5
TARGET_MACRO_F1 = 0.90
FEATURIZER = "components.minilm.MiniLMFeaturizer"


def cross_validate(settings: Settings, config: Path, out: Path) -> dict[str, Any]:
    """Rasa's intent report over `FOLDS` folds: per intent and averaged, on the held-out folds."""
    argv = [
        str(settings.rasa_venv / "bin" / "rasa"), "test", "nlu",
        "--nlu", "data",
        "--config", str(config),
        "--cross-validation", "--folds", str(FOLDS),
        "--out", str(out),
    ]  # fmt: skip
    log = out.with_suffix(".log")
    with log.open("w") as sink:
        done = subprocess.run(argv, cwd=settings.bot_dir, env=rasa_env(settings), stdout=sink, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise RuntimeError(f"rasa test nlu failed ({done.returncode}); see {log}")
    report: dict[str, Any] = json.loads((out / "intent_report.json").read_text())
    return report


def run() -> Report:
    settings = get_settings()
    ours = settings.bot_dir / "config.yml"
    with tempfile.TemporaryDirectory(prefix="bench-nlu-") as scratch:
        work = Path(scratch)
        baseline_config = work / "baseline.yml"
        lines = ours.read_text().splitlines(keepends=True)
        baseline_config.write_text("".join(line for line in lines if FEATURIZER not in line))
        mine = cross_validate(settings, ours, work / "ours")
        base = cross_validate(settings, baseline_config, work / "baseline")

    def measure(name: str, key: str) -> Measure:
        return Measure(name, "", float(mine[key]["f1-score"]), float(base[key]["f1-score"]), better="higher")

    intents = sorted(k for k, v in mine.items() if isinstance(v, dict) and "avg" not in k)
    worst = min(intents, key=lambda i: mine[i]["f1-score"])
    report = Report(
        subject="nlu",
        description=f"intent classification, {FOLDS}-fold cross-validation on bot/data ({len(intents)} intents)",
        baseline_name="without MiniLM",
    )
    report.measures += [
        measure("macro F1", "macro avg"),
        measure("weighted F1", "weighted avg"),
        Measure("accuracy", "", float(mine["accuracy"]), float(base["accuracy"]), better="higher"),
        measure(f"lowest intent F1 ({worst})", worst),
    ]
    per_intent = ", ".join(f"{i} {mine[i]['f1-score']:.2f}" for i in intents)
    macro = mine["macro avg"]["f1-score"]
    verdict = "met" if macro >= TARGET_MACRO_F1 else "NOT met"
    report.notes += [f"per intent F1: {per_intent}", f"target macro F1 >= {TARGET_MACRO_F1}: {verdict}"]
    return report

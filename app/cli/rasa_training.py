"""Training the Rasa model only when the bot's training inputs changed since the last training.

The model file is named by a fingerprint of everything that shapes it (config, domain, training data,
the custom NLU components and the pinned Rasa environment), so a second start finds it and skips
the training.
Changes to `bot/actions/` need no training: the action server loads them at start.
"""

import hashlib
import subprocess
from pathlib import Path

from app.cli.rasa_processes import rasa_env
from app.core.settings import Settings

TRAINING_INPUTS = ("config.yml", "domain.yml", "constraints.txt")
KEEP_MODELS = 3


class TrainingFailed(RuntimeError):
    pass


def fingerprint(bot_dir: Path) -> str:
    digest = hashlib.sha256()
    files = [bot_dir / name for name in TRAINING_INPUTS]
    files += sorted((bot_dir / "data").rglob("*.yml")) + sorted((bot_dir / "components").rglob("*.py"))
    for path in files:
        digest.update(path.relative_to(bot_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path(settings: Settings) -> Path:
    return settings.rasa_model_dir / f"{fingerprint(settings.bot_dir)}.tar.gz"


def ensure_model(settings: Settings, log_file: Path) -> tuple[Path, bool]:
    """The trained model for the bot as it is now; trains it first if needed. Returns (path, trained)."""
    target = model_path(settings)
    if target.exists():
        return target, False
    settings.rasa_model_dir.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    argv = [
        str(settings.rasa_venv / "bin" / "rasa"),
        "train",
        "--config", "config.yml",
        "--domain", "domain.yml",
        "--data", "data",
        "--out", str(settings.rasa_model_dir),
        "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    ]  # fmt: skip
    with log_file.open("w") as log:
        result = subprocess.run(
            argv, cwd=settings.bot_dir, stdout=log, stderr=subprocess.STDOUT, env=rasa_env(settings)
        )
    if result.returncode != 0 or not target.exists():
        tail = "".join(log_file.read_text(errors="replace").splitlines(keepends=True)[-30:])
        raise TrainingFailed(f"rasa train exited with {result.returncode}; see {log_file}:\n{tail}")
    _prune(settings.rasa_model_dir, keep=target)
    return target, True


def _prune(model_dir: Path, keep: Path) -> None:
    models = sorted(model_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [m for m in models if m != keep][KEEP_MODELS - 1 :]:
        old.unlink()

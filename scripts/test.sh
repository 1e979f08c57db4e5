#!/usr/bin/env bash
# The whole test suite, from a clean clone: environments, services, lint, types, the bot's data, tests.
# Extra arguments go to pytest (e.g. scripts/test.sh -m "not slow" for a quick run while working).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 RASA_TELEMETRY_ENABLED=false

scripts/setup.sh --test
scripts/services.sh

echo "[test] ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "[test] mypy"
.venv/bin/mypy
echo "[test] import rules"
mkdir -p var/logs
if ! .venv/bin/lint-imports > var/logs/lint-imports.log 2>&1; then
    cat var/logs/lint-imports.log
    exit 1
fi
tail -1 var/logs/lint-imports.log
echo "[test] rasa data validate"
if ! (cd bot && ../.venv-rasa/bin/rasa data validate --config config.yml --domain domain.yml --data data) \
    > var/logs/rasa-validate.log 2>&1; then
    cat var/logs/rasa-validate.log
    exit 1
fi
echo "[test] pytest"
.venv/bin/pytest "$@"

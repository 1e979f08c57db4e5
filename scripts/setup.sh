#!/usr/bin/env bash
# Builds both environments inside the repo, installing only when their pinned inputs changed.
#   scripts/setup.sh           service (.venv, Python 3.11) and Rasa (.venv-rasa, Python 3.10)
#   scripts/setup.sh --test    the same, plus Debian's chromium for the browser tests
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# Caches stay inside the repo so a clean clone never depends on what an earlier run left behind elsewhere.
export PIP_CACHE_DIR="$root/.cache/pip"
export PIP_DISABLE_PIP_VERSION_CHECK=1
export RASA_TELEMETRY_ENABLED=false

python311=${CAREBRIDGE_PYTHON:-python3.11}
python310=${CAREBRIDGE_RASA_PYTHON:-python3.10}

stamp_of() { cat "$@" | sha256sum | cut -c1-16; }

log() { printf '[setup] %s\n' "$*"; }

# pip's chatter (this machine's extra package indexes warn on every package) goes to a log file,
# shown only when the install fails.
pip_install() {
    local venv=$1
    shift
    mkdir -p var/logs
    if ! "$venv/bin/pip" install --quiet "$@" > "var/logs/pip-$(basename "$venv").log" 2>&1; then
        cat "var/logs/pip-$(basename "$venv").log"
        return 1
    fi
}

ensure_service_env() {
    local stamp_file=.venv/.carebridge-stamp
    local want
    want=$(stamp_of pyproject.toml requirements/constraints.txt)
    if [[ -f $stamp_file && $(cat "$stamp_file") == "$want" ]]; then
        log "service environment up to date (.venv)"
        return
    fi
    log "building the service environment (.venv, $($python311 --version))"
    [[ -x .venv/bin/python ]] || "$python311" -m venv .venv
    pip_install .venv "pip==25.3" "setuptools==84.2.1" "wheel==0.48.0"
    pip_install .venv -c requirements/constraints.txt -e ".[dev]"
    echo "$want" > "$stamp_file"
}

ensure_rasa_env() {
    local stamp_file=.venv-rasa/.carebridge-stamp
    local want
    want=$(stamp_of bot/requirements.txt bot/constraints.txt)
    if [[ -f $stamp_file && $(cat "$stamp_file") == "$want" ]]; then
        log "Rasa environment up to date (.venv-rasa)"
        return
    fi
    # pyenv shims pick the interpreter from PYENV_VERSION; harmless where python3.10 is a plain binary.
    log "building the Rasa environment (.venv-rasa, $(PYENV_VERSION=3.10.13 $python310 --version))"
    [[ -x .venv-rasa/bin/python ]] || PYENV_VERSION=3.10.13 "$python310" -m venv .venv-rasa
    pip_install .venv-rasa "pip==25.3" "wheel==0.45.1"
    pip_install .venv-rasa -c bot/constraints.txt -r bot/requirements.txt
    echo "$want" > "$stamp_file"
}

ensure_chromium() {
    if command -v chromium >/dev/null 2>&1; then
        log "chromium present ($(chromium --version 2>/dev/null | head -n 1))"
        return
    fi
    log "installing Debian's chromium for the browser tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
}

ensure_service_env
ensure_rasa_env
if [[ ${1:-} == --test ]]; then
    ensure_chromium
fi

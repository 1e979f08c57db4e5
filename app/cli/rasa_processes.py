"""How the Rasa server and the Rasa action server are started, as `carebridge up` and the tests do."""

import os
from pathlib import Path
from urllib.parse import urlencode

from app.cli.process_group import ProcessSpec
from app.core.settings import Settings
from knowledge import onnx


def rasa_env(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of Rasa's processes: its own venv first, no telemetry, quiet TensorFlow, and
    the MiniLM files its NLU featurizer reads (bot/components/minilm.py), exported first if need be."""
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    env.pop("CAREBRIDGE_RASA_TOKEN", None)  # only the Rasa server is given it
    env.update(
        PATH=f"{settings.rasa_venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONWARNINGS="ignore",
        CAREBRIDGE_MINILM_ONNX=str(onnx.prepared(settings.embedding_model_dir)),
        CAREBRIDGE_MINILM_TOKENIZER=str(onnx.model_dir() / "tokenizer.json"),
    )
    env.update(extra or {})
    return env


def rasa_server(settings: Settings, model: Path) -> ProcessSpec:
    token = settings.rasa_api_token()
    env = rasa_env(
        settings,
        {
            # Read by bot/endpoints.yml.
            "CAREBRIDGE_ACTION_ENDPOINT_URL": f"http://127.0.0.1:{settings.action_port}/webhook",
            "CAREBRIDGE_RASA_TRACKER_URL": settings.rasa_tracker_url,
            "CAREBRIDGE_RASA_TOKEN": token,
        },
    )
    argv = [
        # bot/serve.py: `rasa run` with the token from the environment, not the command line.
        str(settings.rasa_venv / "bin" / "python"), "serve.py", "run",
        "--enable-api",
        "--interface", "127.0.0.1",
        "--port", str(settings.rasa_port),
        "--model", str(model),
        "--endpoints", "endpoints.yml",
        "--credentials", "credentials.yml",
    ]  # fmt: skip
    return ProcessSpec(
        name="rasa",
        argv=argv,
        cwd=settings.bot_dir,
        env=env,
        ready_url=f"http://127.0.0.1:{settings.rasa_port}/status?{urlencode({'token': token})}",
        restart=True,
    )


def action_server(settings: Settings) -> ProcessSpec:
    # CAREBRIDGE_API_URL is read by bot/actions/service_client.py: where the knowledge API lives.
    # SANIC_HOST: the action server has no option for its interface and would listen on all of them;
    # only Rasa, on this machine, calls it.
    env = rasa_env(settings, {"CAREBRIDGE_API_URL": settings.public_url, "SANIC_HOST": "127.0.0.1"})
    argv = [
        str(settings.rasa_venv / "bin" / "rasa"), "run", "actions",
        "--port", str(settings.action_port),
        "--actions", "actions",
    ]  # fmt: skip
    return ProcessSpec(
        name="rasa-actions",
        argv=argv,
        cwd=settings.bot_dir,
        env=env,
        ready_url=f"http://127.0.0.1:{settings.action_port}/health",
        restart=True,
    )

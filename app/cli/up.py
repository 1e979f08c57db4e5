"""`carebridge up`: everything a demo needs, started together and stopped together."""

import os
import sys
import time

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from app.cli import rasa_processes
from app.cli.process_group import ProcessGroup, ProcessSpec
from app.cli.rasa_training import TrainingFailed, ensure_model
from app.core.db import make_engine, migrate, session_factory, unit_of_work
from app.core.settings import PROJECT_ROOT, Settings
from app.seed import seed_demo
from knowledge import onnx

READY_TIMEOUT_SECONDS = 300.0


def prepare(settings: Settings) -> None:
    """Schema migrated, demo data seeded, and Rasa's tracker database present."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            seed_demo(
                session=session,
                agent_token=settings.demo_agent_token,
                fallback_team=settings.fallback_team,
                password=settings.demo_password,
            )
    finally:
        engine.dispose()
    if not settings.is_sqlite:
        ensure_postgres_database(settings.rasa_tracker_url)
    # The first run exports the embedding model to ONNX here, rather than inside the API's start-up.
    onnx.prepared(settings.embedding_model_dir)


def ensure_postgres_database(url: str) -> None:
    """Create the database named in `url` on its server unless it exists."""
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(str(parsed.database))))


def api_server(settings: Settings) -> ProcessSpec:
    return ProcessSpec(
        name="api",
        argv=[sys.executable, "-m", "app.cli.main", "serve"],
        cwd=PROJECT_ROOT,
        env=dict(os.environ),
        ready_url=f"{settings.public_url}/healthz",
    )


def up(settings: Settings) -> int:
    started = time.monotonic()
    print("Preparing the database, demo data and embedding model...", flush=True)
    prepare(settings)
    log_dir = settings.var_dir / "logs"
    print("Checking the Rasa model...", flush=True)
    try:
        model, trained = ensure_model(settings, log_dir / "rasa-train.log")
    except TrainingFailed as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"  {'trained' if trained else 'up to date'}: {model}", flush=True)
    specs = [rasa_processes.action_server(settings), rasa_processes.rasa_server(settings, model), api_server(settings)]

    def announce() -> None:
        url = settings.public_url
        print(
            f"\nCarebridge is running (ready in {time.monotonic() - started:.1f} s).\n"
            f"  Customer chat:  {url}/chat\n"
            f"  Agent console:  {url}/agent   (sign in as maria@kestrel.example, password {settings.demo_password})\n"
            f"  Supervisor:     {url}/supervisor   (sam@kestrel.example; the same password)\n"
            f"  Knowledge base: {url}/kb      (kim@kestrel.example)\n"
            f"  People (admin): {url}/admin   (ada@kestrel.example)\n"
            f"  API token of the demo agent: {settings.demo_agent_token}\n"
            f"  API docs:       {url}/docs\n"
            f"  Rasa server:    http://127.0.0.1:{settings.rasa_port}   "
            f"action server: http://127.0.0.1:{settings.action_port}\n"
            f"Logs are in {log_dir}. Press Ctrl-C to stop.",
            flush=True,
        )

    print("Starting the Rasa action server, the Rasa server and the API...", flush=True)
    group = ProcessGroup(
        specs, log_dir=log_dir, run_dir=settings.var_dir / "run", say=lambda text: print(text, flush=True)
    )
    return group.run(on_ready=announce, ready_timeout=READY_TIMEOUT_SECONDS)

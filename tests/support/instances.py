"""The service in this process on a real port, as the app tests use it: demo data seeded, and no Rasa
listening where it looks for one. Several instances may share one database."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.cli.background import LiveServer, free_port, serve
from app.core.db import make_engine, session_factory, unit_of_work
from app.core.settings import DEMO_AGENT_TOKEN, DEMO_PASSWORD, Settings
from app.main import create_app
from app.seed import seed_demo
from knowledge import OnnxEmbedder


def seed(database_url: str) -> None:
    """Maria, and Sam, Kim and Ada who sign in with the demo password; the demo FAQ."""
    engine = make_engine(database_url)
    with unit_of_work(session_factory(engine)) as session:
        seed_demo(session=session, agent_token=DEMO_AGENT_TOKEN, fallback_team="overflow", password=DEMO_PASSWORD)
    engine.dispose()


@contextmanager
def instance(database_url: str, var_dir: Path, embedder: OnnxEmbedder | None, **overrides: Any) -> Iterator[LiveServer]:
    """The service with `embedder` (shared with other instances in the process); with None, it loads
    the model its settings choose, and follows a change of it, as a deployed service does. Rasa is
    looked for where nothing listens unless `overrides` names a `rasa_url`."""
    chosen: dict[str, Any] = {"rasa_url": f"http://127.0.0.1:{free_port()}", "rasa_timeout_seconds": 2.0, **overrides}
    settings = Settings(environment="test", database_url=database_url, var_dir=var_dir, **chosen)
    with serve(create_app(settings, embedder=embedder)) as server:
        yield server

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli.background import LiveServer, free_port, serve
from app.db import make_engine, session_factory, unit_of_work
from app.main import create_app
from app.seed import seed_demo
from app.settings import DEMO_AGENT_TOKEN, DEMO_PASSWORD, Settings
from knowledge import OnnxEmbedder


@pytest.fixture
def extra_settings() -> dict[str, Any]:
    """Settings a whole module needs (overridden there), as the social channels' stand-in URLs."""
    return {}


@pytest.fixture
def live(
    request: pytest.FixtureRequest,
    sqlite_url: str,
    tmp_path: Path,
    embedder: OnnxEmbedder,
    extra_settings: dict[str, Any],
) -> Iterator[LiveServer]:
    """The service on a real port with the demo data (Maria, and Sam, Kim and Ada who sign in with the
    demo password); no Rasa is listening where it looks for one.

    A test changes settings with `@pytest.mark.settings(offer_timeout_seconds=1, ...)`.
    """
    engine = make_engine(sqlite_url)
    with unit_of_work(session_factory(engine)) as session:
        seed_demo(session=session, agent_token=DEMO_AGENT_TOKEN, fallback_team="overflow", password=DEMO_PASSWORD)
    engine.dispose()
    marker = request.node.get_closest_marker("settings")
    settings = Settings(
        environment="test",
        database_url=sqlite_url,
        var_dir=tmp_path,
        rasa_url=f"http://127.0.0.1:{free_port()}",
        rasa_timeout_seconds=2.0,
        **{**extra_settings, **(marker.kwargs if marker else {})},
    )
    with serve(create_app(settings, embedder=embedder)) as server:
        yield server


@pytest.fixture
async def http(live: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live.http_url, timeout=10) as client:
        yield client

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli.background import LiveServer
from knowledge import OnnxEmbedder
from tests.support.instances import instance, seed


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
    seed(sqlite_url)
    marker = request.node.get_closest_marker("settings")
    overrides = {**extra_settings, **(marker.kwargs if marker else {})}
    with instance(sqlite_url, tmp_path, embedder, **overrides) as server:
        yield server


@pytest.fixture
async def http(live: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live.http_url, timeout=10) as client:
        yield client

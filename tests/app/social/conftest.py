"""The social channels' fixtures: both platforms stood in for by a local fake, and the service
pointed at it, on SQLite alone (`live`) or on each database (`service`)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.cli.background import LiveServer, serve
from bench import platform_payloads as p
from bench.platform_standin import GRAPH_PREFIX, X_PREFIX, FakePlatforms
from knowledge import OnnxEmbedder
from tests.support.instances import instance, seed


@pytest.fixture
def platforms() -> Iterator[tuple[FakePlatforms, str]]:
    fake = FakePlatforms()
    with serve(fake.app) as server:
        yield fake, server.http_url


@pytest.fixture
def extra_settings(platforms: tuple[FakePlatforms, str]) -> dict[str, Any]:
    _, url = platforms
    return {
        "meta_app_secret": p.META_SECRET,
        "meta_verify_token": "verify-me",
        "meta_page_token": "page-token",
        "meta_graph_url": url + GRAPH_PREFIX,
        "x_consumer_secret": p.X_SECRET,
        "x_bearer_token": "x-token",
        "x_api_url": url + X_PREFIX,
        "x_brand_user_id": p.BRAND_X_ID,
        "inbox_settle_seconds": 0.2,
        "outbox_retry_seconds": 0.2,
    }


@pytest.fixture
def fake(platforms: tuple[FakePlatforms, str]) -> FakePlatforms:
    return platforms[0]


@pytest.fixture
def service(
    database_url: str, tmp_path: Path, embedder: OnnxEmbedder, extra_settings: dict[str, Any]
) -> Iterator[LiveServer]:
    """The service with the demo data, as `live`, once on SQLite and once on PostgreSQL."""
    seed(database_url)
    with instance(database_url, tmp_path, embedder, **extra_settings) as server:
        yield server

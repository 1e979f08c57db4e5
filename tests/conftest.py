"""Fixtures shared by the whole suite: the embedding model, fresh databases, the running service."""

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from app import tables  # noqa: F401  (the whole schema, for foreign keys)
from app.cli.background import Stack, running_stack
from app.core.db import make_engine, migrate, session_factory
from app.core.settings import get_settings
from knowledge import OnnxEmbedder, onnx
from tests.support import databases

# The suite runs offline, like users do: nothing may reach a model hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def embedder() -> OnnxEmbedder:
    """The embedder the service runs: all-MiniLM-L6-v2 exported to ONNX (once per checkout)."""
    return OnnxEmbedder(onnx.prepared(get_settings().embedding_model_dir))


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    with databases.postgres_template() as template:
        yield template


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'carebridge.db'}"
    migrate(url)
    return url


@pytest.fixture
def postgres_url(postgres_template: str) -> Iterator[str]:
    with databases.postgres_database(postgres_template) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs twice: on SQLite and on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    with session_factory(engine)() as opened:
        yield opened
    engine.dispose()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The real thing, shared by the end-to-end and browser tests: Rasa, actions and the API.

    Its Rasa token begins with "-", as one made by `secrets.token_urlsafe` does one time in 64: Rasa's
    argument parser once took such a token for an option and never started.
    """
    var_dir = tmp_path_factory.mktemp("stack")
    descriptor = os.open(var_dir / "rasa-token", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("-3E" + secrets.token_urlsafe(32))
    with running_stack(var_dir) as running:
        yield running

"""A model `carebridge kb tune` writes while the service runs answers customers within seconds, with
no restart, and `--reset` goes back to the stock one; the unanswered questions are grouped with the
vectors of the model in use, never a mix of two."""

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlmodel import select

from app.agents.models import Role
from app.cli.background import LiveServer
from app.db import make_engine, session_factory, unit_of_work
from app.kb import insights
from app.kb.models import UnansweredQuestion
from app.settings import get_settings
from knowledge import OnnxEmbedder, onnx, tuning
from knowledge.demo import load_demo_articles
from tests.support import factories
from tests.support.instances import instance, seed

pytestmark = pytest.mark.slow

QUESTION = "do you sell bike helmets for kids"


@pytest.fixture
def service(sqlite_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The service choosing its own model from a folder holding only the stock graph."""
    stock = onnx.prepared(get_settings().embedding_model_dir)
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(stock, models / stock.name)
    seed(sqlite_url)
    with instance(sqlite_url, tmp_path, None, embedding_model_dir=models) as server:
        yield server


async def model_becomes(http: httpx.AsyncClient, expected: str, seconds: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while (await http.get("/healthz")).json()["embedding_model"] != expected:
        assert asyncio.get_running_loop().time() < deadline, f"the service never took up model {expected}"
        await asyncio.sleep(0.2)


def kept_vector(service: LiveServer) -> tuple[str | None, np.ndarray]:
    engine = make_engine(service.app.state.settings.database_url)
    with session_factory(engine)() as session:
        question = session.exec(select(UnansweredQuestion)).one()
    engine.dispose()
    return question.embedding_model, np.frombuffer(question.embedding or b"", dtype=np.float32)


async def test_a_tuned_model_takes_over_without_a_restart_and_a_reset_goes_back(
    service: LiveServer, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    stock = OnnxEmbedder(onnx.for_knowledge(models))
    engine = make_engine(service.app.state.settings.database_url)
    with unit_of_work(session_factory(engine)) as session:
        insights.record_unanswered(
            session=session,
            conversation_id=None,
            question=QUESTION,
            reason="no_answer",
            best_slug=None,
            best_score=None,
        )
        _, token = factories.agent(session, role=Role.knowledge_manager, capacity={})
    engine.dispose()
    headers = {"Authorization": f"Bearer {token}"}
    demo = load_demo_articles()
    asked = demo[0].questions[0]
    async with httpx.AsyncClient(base_url=service.http_url, timeout=30) as http:
        assert (await http.get("/healthz")).json()["embedding_model"] == stock.model
        assert (await http.get("/api/kb/unanswered", headers=headers)).status_code == 200
        assert kept_vector(service)[0] == stock.model

        # What `carebridge kb tune` does, kept short: a few steps on the demo articles.
        target = onnx.tuned(models)
        await asyncio.to_thread(tuning.tune_to_onnx, demo, target, tuning.Plan(steps=5, articles_per_batch=8))
        tuned = OnnxEmbedder(target)
        deadline = asyncio.get_running_loop().time() + 60
        while (await http.get("/healthz")).json()["embedding_model"] != tuned.model:
            assert asyncio.get_running_loop().time() < deadline, "the tuned model never took over"
            found = await http.post("/api/knowledge/search", json={"query": asked})
            assert found.status_code == 200 and found.json()["answer"]["slug"] == demo[0].slug
        after = await http.post("/api/knowledge/search", json={"query": asked})
        groups = (await http.get("/api/kb/unanswered", headers=headers)).json()

        assert after.json()["answer"]["slug"] == demo[0].slug
        assert groups[0]["samples"] == [QUESTION]
        model, vector = kept_vector(service)
        assert model == tuned.model
        assert np.allclose(vector, tuned.encode([QUESTION])[0], atol=1e-5)
        assert not np.allclose(vector, stock.encode([QUESTION])[0], atol=1e-3), "tuning moved the vector"

        target.unlink()  # `carebridge kb tune --reset`
        await model_becomes(http, stock.model)

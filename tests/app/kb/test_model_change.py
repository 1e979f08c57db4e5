"""A model `carebridge kb tune` makes while the service runs answers customers within seconds, with
no restart, on every instance sharing the database, and `--reset` goes back to the stock one; the
unanswered questions are grouped with the vectors of the model in use, never a mix of two."""

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlmodel import select

from app.cli.background import LiveServer
from app.core.db import SessionFactory, make_engine, session_factory, unit_of_work
from app.core.settings import get_settings
from app.kb import tuned_models
from app.kb.models import KnowledgeModel, UnansweredQuestion
from app.people.models import Role
from knowledge import OnnxEmbedder, onnx, tuning
from knowledge.demo import load_demo_articles
from tests.support import factories
from tests.support.instances import instance, seed

pytestmark = pytest.mark.slow

QUESTION = "do you sell bike helmets for kids"


@pytest.fixture(scope="module")
def tuned_graph(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `carebridge kb tune` makes, kept short: a few steps on the demo articles."""
    target = tmp_path_factory.mktemp("tuned") / onnx.TUNED
    tuning.tune_to_onnx(load_demo_articles(), target, tuning.Plan(steps=5, articles_per_batch=8))
    return target


@pytest.fixture(scope="module")
def tuned_bytes(tuned_graph: Path) -> bytes:
    return tuned_graph.read_bytes()


def stock_models(folder: Path) -> Path:
    """A models folder holding only the stock graph, as a new instance's does."""
    stock = onnx.prepared(get_settings().embedding_model_dir)
    folder.mkdir()
    shutil.copy(stock, folder / stock.name)
    return folder


@pytest.fixture
def service(sqlite_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The service choosing its own model from a folder holding only the stock graph."""
    models = stock_models(tmp_path / "models")
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
    service: LiveServer, tmp_path: Path, tuned_graph: Path
) -> None:
    # No choice is recorded in the database: the models folder decides, as before there was one.
    models = tmp_path / "models"
    stock = OnnxEmbedder(onnx.for_knowledge(models))
    engine = make_engine(service.app.state.settings.database_url)
    with unit_of_work(session_factory(engine)) as session:
        factories.unanswered_question(session, QUESTION)
        _, token = factories.agent(session, role=Role.knowledge_manager, capacity={})
    engine.dispose()
    headers = {"Authorization": f"Bearer {token}"}
    demo = load_demo_articles()
    asked = demo[0].questions[0]
    async with httpx.AsyncClient(base_url=service.http_url, timeout=30) as http:
        assert (await http.get("/healthz")).json()["embedding_model"] == stock.model
        assert (await http.get("/api/kb/unanswered", headers=headers)).status_code == 200
        assert kept_vector(service)[0] == stock.model

        target = onnx.tuned(models)
        shutil.copy(tuned_graph, models / "incoming")
        (models / "incoming").replace(target)
        tuned = OnnxEmbedder(target)
        deadline = asyncio.get_running_loop().time() + 60
        while (await http.get("/healthz")).json()["embedding_model"] != tuned.model:
            assert asyncio.get_running_loop().time() < deadline, "the tuned model never took over"
            found = await http.post("/api/kb/search", json={"query": asked})
            assert found.status_code == 200 and found.json()["answer"]["slug"] == demo[0].slug
        after = await http.post("/api/kb/search", json={"query": asked})
        groups = (await http.get("/api/kb/unanswered", headers=headers)).json()

        assert after.json()["answer"]["slug"] == demo[0].slug
        assert groups[0]["samples"] == [QUESTION]
        model, vector = kept_vector(service)
        assert model == tuned.model
        assert np.allclose(vector, tuned.encode([QUESTION])[0], atol=1e-5)
        assert not np.allclose(vector, stock.encode([QUESTION])[0], atol=1e-3), "tuning moved the vector"

        target.unlink()
        await model_becomes(http, stock.model)


@pytest.mark.postgres
async def test_every_instance_sharing_the_database_follows_the_recorded_model(
    postgres_url: str, tmp_path: Path, tuned_graph: Path, tuned_bytes: bytes
) -> None:
    seed(postgres_url)
    folders = [stock_models(tmp_path / name) for name in ("a-models", "b-models", "c-models")]
    stock = OnnxEmbedder(onnx.prepared(folders[0]))
    tuned = onnx.fingerprint(tuned_graph)
    engine = make_engine(postgres_url)
    open_session = session_factory(engine)
    with (
        instance(postgres_url, tmp_path / "a", None, embedding_model_dir=folders[0]) as a,
        instance(postgres_url, tmp_path / "b", None, embedding_model_dir=folders[1]) as b,
    ):
        async with (
            httpx.AsyncClient(base_url=a.http_url, timeout=30) as http_a,
            httpx.AsyncClient(base_url=b.http_url, timeout=30) as http_b,
        ):
            assert (await http_a.get("/healthz")).json()["embedding_model"] == stock.model

            # `carebridge kb tune` ran on a third machine: only the database carries its graph.
            with unit_of_work(open_session) as session:
                tuned_models.record_tuned(session=session, graph=tuned_bytes)
            await model_becomes(http_a, tuned)
            await model_becomes(http_b, tuned)
            assert onnx.fingerprint(onnx.tuned(folders[1])) == tuned
            assert onnx.tuned(folders[1]).stat().st_mode & 0o777 == 0o644, "readable by a service of another user"

            # An instance started now answers with it from the first question.
            with instance(postgres_url, tmp_path / "c", None, embedding_model_dir=folders[2]) as c:
                async with httpx.AsyncClient(base_url=c.http_url, timeout=30) as http_c:
                    assert (await http_c.get("/healthz")).json()["embedding_model"] == tuned

            with unit_of_work(open_session) as session:  # `carebridge kb tune --reset`
                tuned_models.record_stock(session=session)
            await model_becomes(http_a, stock.model)
            await model_becomes(http_b, stock.model)
    engine.dispose()


async def test_a_damaged_model_in_the_database_neither_stops_the_service_nor_is_retried_every_check(
    sqlite_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    tuned_bytes: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A wait far longer than the test: whatever is taken up below was not waiting for it.
    monkeypatch.setattr(tuned_models, "RETRY_FIRST_SECONDS", 3600.0)
    looks: list[object] = []
    look = tuned_models.in_force

    def counted(open_session: SessionFactory) -> tuned_models.Choice | None:
        looks.append(None)
        return look(open_session)

    monkeypatch.setattr(tuned_models, "in_force", counted)
    seed(sqlite_url)
    models = stock_models(tmp_path / "models")
    stock = onnx.fingerprint(onnx.prepared(models))
    engine = make_engine(sqlite_url)
    # Its fingerprint is right, so it is copied out; it is simply not a graph ONNX Runtime can load.
    with unit_of_work(session_factory(engine)) as session:
        tuned_models.record_tuned(session=session, graph=b"not a graph")
    asked = load_demo_articles()[0]

    with instance(sqlite_url, tmp_path, None, embedding_model_dir=models) as server:
        async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as http:
            started_with = (await http.get("/healthz")).json()["embedding_model"]
            # The watcher finds the same choice in force and fails to load it; then it waits.
            deadline = asyncio.get_running_loop().time() + 60
            while not failures(caplog):
                assert asyncio.get_running_loop().time() < deadline, "the watcher never tried the recorded model"
                await asyncio.sleep(0.2)
            # Three more looks at the database, each naming the damaged model, are over once a fourth begins.
            looked = len(looks)
            while len(looks) < looked + 4:
                assert asyncio.get_running_loop().time() < deadline, "the watcher stopped looking"
                await asyncio.sleep(0.2)
            found = await http.post("/api/kb/search", json={"query": asked.questions[0]})
            still = (await http.get("/healthz")).json()["embedding_model"]
            tried = len(failures(caplog))

            # A good model recorded meanwhile is taken at once, not after the wait.
            with unit_of_work(session_factory(engine)) as session:
                tuned_models.record_tuned(session=session, graph=tuned_bytes)
            await model_becomes(http, onnx.fingerprint_of(tuned_bytes))
    engine.dispose()

    assert started_with == stock == still
    assert found.status_code == 200 and found.json()["answer"]["slug"] == asked.slug
    assert tried == 1, "tried once, then left for RETRY_FIRST_SECONDS"


def test_a_stored_graph_that_does_not_match_its_fingerprint_is_never_installed(sqlite_url: str, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url)
    with unit_of_work(session_factory(engine)) as session:
        session.add(KnowledgeModel(fingerprint="0123456789abcdef", graph=b"bytes of another graph"))
    choice = tuned_models.in_force(session_factory(engine))
    assert choice is not None
    models = tmp_path / "models"
    models.mkdir()

    with pytest.raises(ValueError, match="does not match its fingerprint"):
        tuned_models.graph_file(session_factory(engine), choice, models)
    engine.dispose()
    assert list(models.iterdir()) == []


def failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "knowledge_model_change_failed" in r.getMessage()]

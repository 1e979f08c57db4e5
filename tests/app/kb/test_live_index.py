"""The index customers are answered from follows the database: at once after a change, across
instances, across restarts, and never half-built."""

import asyncio
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from app.core.db import SessionFactory, make_engine, session_factory, unit_of_work
from app.kb import articles, publishing
from app.kb.content import Content
from app.kb.live import LiveIndex
from app.kb.models import ArticleRecord, ArticleVersion
from app.seed import seed_demo
from knowledge import LIMITS, OnnxEmbedder, Vectors


class CountingEmbedder:
    """The real model, counting how many texts it had to embed."""

    def __init__(self, model: OnnxEmbedder, name: str | None = None, reversed_dimensions: bool = False) -> None:
        self._model = model
        self.dimension = model.dimension
        # Another name stands for other weights (a tuned model) giving other vectors: with the
        # dimensions reversed, its vectors compare as the real model's among themselves, and
        # meaninglessly with the real model's.
        self.model = name or model.model
        self._reversed = reversed_dimensions
        self.embedded = 0

    def encode(self, texts: Sequence[str]) -> Vectors:
        self.embedded += len(texts)
        vectors = self._model.encode(texts)
        return np.ascontiguousarray(vectors[:, ::-1]) if self._reversed else vectors


@pytest.fixture
def open_session(database_url: str) -> Iterator[SessionFactory]:
    engine = make_engine(database_url)
    yield session_factory(engine)
    engine.dispose()


def publish(open_session: SessionFactory, slug: str, title: str, answer: str, questions: tuple[str, ...]) -> None:
    with unit_of_work(open_session) as session:
        new = Content(title=title, questions=questions, answer=answer)
        if session.get(ArticleRecord, slug) is None:
            articles.create(session=session, slug=slug, content=new, author=None)
        else:
            articles.update(session=session, slug=slug, content=new, author=None, base_version=None)
        publishing.publish(session=session, slug=slug)


def seed(open_session: SessionFactory) -> None:
    publish(open_session, "refunds", "When will I get my refund?", "Within 3 days.", ("where is my money back",))
    publish(open_session, "hours", "When are you open?", "9 to 5.", ("opening times",))


async def test_a_published_change_is_searchable_after_refresh(
    open_session: SessionFactory, tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    seed(open_session)
    live = LiveIndex(embedder, tmp_path)
    await live.start(open_session)

    publish(open_session, "parking", "Is there parking at the store?", "Yes, 40 spaces.", ("where can I park",))
    changed = await live.refresh(open_session)

    assert changed
    assert (await live.search("can I park my car there", 1))[0].article.slug == "parking"
    assert not await live.refresh(open_session), "nothing new the second time"


async def test_two_instances_on_one_database_converge(
    open_session: SessionFactory, tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    seed(open_session)
    first, second = LiveIndex(embedder, tmp_path / "a"), LiveIndex(embedder, tmp_path / "b")
    await first.start(open_session)
    await second.start(open_session)

    publish(open_session, "hours", "When are you open?", "8 to 8 now.", ("opening times",))
    await first.refresh(open_session)
    following = asyncio.create_task(second.follow(open_session, interval=0.05))
    for _ in range(100):
        if second.version == first.version:
            break
        await asyncio.sleep(0.05)
    following.cancel()

    assert (second.version, second.checksum) == (first.version, first.checksum)
    assert (await second.search("opening times", 1))[0].article.answer == "8 to 8 now."


async def test_a_restart_embeds_only_what_changed_since_the_last_run(
    open_session: SessionFactory, tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    seed(open_session)
    counting = CountingEmbedder(embedder)
    await LiveIndex(counting, tmp_path).start(open_session)
    assert counting.embedded == 4, "two articles: title and one phrasing each"

    unchanged = CountingEmbedder(embedder)
    await LiveIndex(unchanged, tmp_path).start(open_session)
    publish(open_session, "hours", "When are you open?", "9 to 6.", ("opening times", "are you open sunday"))
    changed = CountingEmbedder(embedder)
    restarted = LiveIndex(changed, tmp_path)
    await restarted.start(open_session)

    assert unchanged.embedded == 0
    assert changed.embedded == 1, "only the new phrasing"
    assert (await restarted.search("are you open on sundays", 1))[0].article.answer == "9 to 6."


async def test_a_restart_with_another_model_embeds_everything_again(
    open_session: SessionFactory, tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    seed(open_session)
    await LiveIndex(CountingEmbedder(embedder), tmp_path).start(open_session)

    tuned = CountingEmbedder(embedder, name="tuned-weights")
    await LiveIndex(tuned, tmp_path).start(open_session)
    again = CountingEmbedder(embedder, name="tuned-weights")
    await LiveIndex(again, tmp_path).start(open_session)

    assert tuned.embedded == 4, "the stock model's vectors are not the tuned model's"
    assert again.embedded == 0


async def test_another_model_takes_over_while_searches_go_on(
    open_session: SessionFactory, tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    seed(open_session)
    stock = CountingEmbedder(embedder)
    tuned = CountingEmbedder(embedder, name="tuned-weights", reversed_dimensions=True)
    live = LiveIndex(stock, tmp_path)
    await live.start(open_session)
    answers: list[tuple[str, float]] = []

    async def searching() -> None:
        for _ in range(40):
            found = await live.search("where is my money back", 1)
            # The question is one of the phrasings: similarity 1 unless two models' vectors met.
            answers.extend((m.article.slug, round(m.similarity, 3)) for m in found)
            await asyncio.sleep(0)

    await asyncio.gather(searching(), live.use_model(tuned))
    after_the_change = tuned.embedded
    await live.use_model(tuned)
    again = CountingEmbedder(embedder, name="tuned-weights", reversed_dimensions=True)
    await LiveIndex(again, tmp_path).start(open_session)

    assert answers == [("refunds", 1.0)] * 40, "every search answered by one model, before, during and after"
    assert live.model == "tuned-weights"
    assert (stock.embedded - 4) + (tuned.embedded - 4) == 40, "each question embedded once, by one model"
    assert tuned.embedded == after_the_change, "the same model again is no change"
    assert again.embedded == 0, "a restart finds the new model's vectors kept"


async def test_searches_during_edits_never_fail_nor_mix_two_versions(
    open_session: SessionFactory, tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    publish(open_session, "moving", "Version 0 moving target", "Answer 0", ("moving question 0",))
    live = LiveIndex(embedder, tmp_path)
    await live.start(open_session)
    seen: list[tuple[str, str]] = []

    async def searching() -> None:
        for _ in range(60):
            for match in await live.search("moving target", 1):
                seen.append((match.article.title, match.article.answer))
            await asyncio.sleep(0)

    async def editing() -> None:
        for n in range(1, 8):
            await asyncio.to_thread(
                publish, open_session, "moving", f"Version {n} moving target", f"Answer {n}", (f"moving question {n}",)
            )
            await live.refresh(open_session)

    await asyncio.gather(searching(), searching(), editing())

    assert len(seen) == 120
    for title, answer in seen:
        assert re.findall(r"\d+", title) == re.findall(r"\d+", answer)


def test_the_published_articles_carry_their_version(open_session: SessionFactory) -> None:
    seed(open_session)
    publish(open_session, "hours", "When are you open?", "9 to 6.", ("opening times",))

    with open_session() as session:
        versions = {a.slug: a.version for a in publishing.published_articles(session=session).articles}
    assert versions == {"hours": 2, "refunds": 1}


@pytest.mark.parametrize(
    ("stored", "problem"),
    [
        ({"answer": ""}, "answer is empty"),
        ({"questions": []}, "questions needs at least one phrasing"),
        ({"answer": "x" * (LIMITS.answer + 1)}, "answer has 20001 characters"),
        ({"questions": [7]}, "unreadable: AttributeError"),
    ],
)
async def test_a_bad_published_version_is_left_out_and_the_others_still_answer(
    open_session: SessionFactory,
    tmp_path: Path,
    embedder: OnnxEmbedder,
    caplog: pytest.LogCaptureFixture,
    stored: dict[str, object],
    problem: str,
) -> None:
    """As an older version of the code, or a hand-made fix, could have left the table."""
    seed(open_session)
    with unit_of_work(open_session) as session:
        written = session.get(ArticleVersion, ("refunds", 1))
        for name, value in stored.items():
            setattr(written, name, value)
        session.add(written)
    live = LiveIndex(embedder, tmp_path)

    await live.start(open_session)

    assert [(r.slug, r.version) for r in live.refused] == [("refunds", 1)]
    assert problem in live.refused[0].problem
    assert f"event=knowledge_article_refused slug=refunds version=1 problem='{problem}" in caplog.text
    assert [m.article.slug for m in await live.search("when are you open", 2)] == ["hours"]
    publish(open_session, "parking", "Is there parking at the store?", "Yes, 40 spaces.", ("where can I park",))
    assert await live.refresh(open_session), "other changes still go live"
    assert live.size == 2


async def test_a_graph_index_takes_changes_in_a_layer_then_folds_them_in(
    open_session: SessionFactory, tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    with unit_of_work(open_session) as session:
        seed_demo(session=session, agent_token="t", fallback_team="overflow")
    live = LiveIndex(embedder, tmp_path, exact_up_to=50, compact_after=5)
    await live.start(open_session)
    assert not live.exact

    publish(open_session, "store-hours", "When are your stores open?", "Now 8 to 10.", ("opening times",))
    await live.refresh(open_session)
    assert live.layered == 2
    assert (await live.search("what are your opening times", 1))[0].article.answer == "Now 8 to 10."

    for n in range(3):
        publish(open_session, f"extra-{n}", f"Extra {n}", "x", (f"extra question {n}",))
        await live.refresh(open_session)
    for _ in range(200):
        if live.layered <= 2:
            break
        await asyncio.sleep(0.05)

    # Folded into a fresh graph in the background; what changed meanwhile is layered on the new one.
    assert live.layered <= 2
    assert (await live.search("what are your opening times", 1))[0].article.answer == "Now 8 to 10."
    assert (await live.search("extra question 2", 1))[0].article.slug == "extra-2"

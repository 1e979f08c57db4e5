"""Whatever knowledge managers do, in whatever order, customers are answered from valid articles.

A stateful property test: hypothesis runs the knowledge base's public operations (create, edit,
review, publish, unpublish, archive, roll back, import) in random order with good, empty and
oversized content; after every step the published set is valid and the live index loads, and at the
end a fresh index starts on what the steps left, as the service does at start-up.
"""

import asyncio
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlmodel import Session, select

from app.core.db import make_engine, session_factory, unit_of_work
from app.core.errors import DomainError
from app.kb import articles, publishing
from app.kb.content import Content
from app.kb.importer import import_rows
from app.kb.live import LiveIndex
from app.kb.models import ArticleRecord, ArticleStatus
from knowledge import LIMITS, OnnxEmbedder, formats

SLUGS = st.sampled_from(["refunds", "parking"])
TOPICS = [
    ("When will I get my refund?", ("where is my money back", "refund time"), "Within 3 days."),
    ("When are you open?", ("opening times",), "9 to 5, Monday to Saturday."),
    ("Is there parking?", ("where can I park", "car park"), "Yes, 40 spaces."),
]
# What can be wrong with what a knowledge manager writes; None: nothing. A draft may lack its
# answer, so "no answer yet" is stored but cannot go live; the others are refused at once.
DEFECTS: dict[str | None, dict[str, Any]] = {
    None: {},
    "no answer yet": {"answer": ""},
    "no title": {"title": " "},
    "no phrasing": {"questions": (" ",)},
    "title too long": {"title": "t" * (LIMITS.title + 1)},
    "answer too long": {"answer": "a" * (LIMITS.answer + 1)},
    "too many phrasings": {"questions": tuple(f"phrasing {n}" for n in range(LIMITS.questions + 1))},
    "phrasing too long": {"questions": ("q" * (LIMITS.question + 1),)},
    "short answer too long": {"short_answer": "s" * (LIMITS.short_answer + 1)},
}


def written(topic: int, edition: int, defect: str | None) -> Content:
    title, questions, answer = TOPICS[topic]
    fields = {"title": title, "questions": questions, "answer": f"{answer} (edition {edition})"}
    return Content(**{**fields, **DEFECTS[defect]})


CONTENTS = st.builds(
    written,
    topic=st.integers(0, len(TOPICS) - 1),
    edition=st.integers(1, 3),
    # Half of what is written is fine, so that articles do go live and then change, and a quarter
    # lacks its answer, as drafts made from unanswered questions do.
    defect=st.sampled_from([None] * 8 + ["no answer yet"] * 4 + [d for d in DEFECTS if d and d != "no answer yet"]),
)
ROWS = st.lists(
    st.builds(
        lambda slug, content, status: {"slug": slug, **content.__dict__, "status": status},
        slug=SLUGS,
        content=CONTENTS,
        status=st.sampled_from(["draft", "in_review", "published", "archived"]),
    ),
    min_size=1,
    max_size=3,
)


class KnowledgeBase(RuleBasedStateMachine):
    def __init__(self, template: Path, embedder: OnnxEmbedder) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="kb-machine-"))
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{template}{suffix}").exists():
                shutil.copy(f"{template}{suffix}", self.folder / f"kb.db{suffix}")
        self.engine = make_engine(f"sqlite:///{self.folder / 'kb.db'}")
        self.open_session = session_factory(self.engine)
        self.embedder = embedder
        self.runner = asyncio.Runner()
        self.live = LiveIndex(embedder, self.folder / "index")
        self.runner.run(self.live.start(self.open_session))

    def change(self, step: Callable[[Session], object]) -> None:
        """Run one operation as the API does; a refusal (bad content, a step out of order) is fine."""
        try:
            with unit_of_work(self.open_session) as session:
                step(session)
        except DomainError:
            pass

    @rule(slug=SLUGS, content=CONTENTS)
    def create(self, slug: str, content: Content) -> None:
        self.change(lambda s: articles.create(session=s, slug=slug, content=content, author=None))

    @rule(slug=SLUGS, content=CONTENTS)
    def edit(self, slug: str, content: Content) -> None:
        self.change(lambda s: articles.update(session=s, slug=slug, content=content, author=None, base_version=None))

    @rule(slug=SLUGS)
    def review(self, slug: str) -> None:
        self.change(lambda s: publishing.submit_for_review(session=s, slug=slug))

    @rule(slug=SLUGS)
    def publish(self, slug: str) -> None:
        self.change(lambda s: publishing.publish(session=s, slug=slug))

    @rule(slug=SLUGS)
    def unpublish(self, slug: str) -> None:
        self.change(lambda s: publishing.unpublish(session=s, slug=slug))

    @rule(slug=SLUGS)
    def archive(self, slug: str) -> None:
        self.change(lambda s: publishing.archive(session=s, slug=slug))

    @rule(slug=SLUGS, number=st.integers(1, 4))
    def rollback(self, slug: str, number: int) -> None:
        self.change(lambda s: publishing.rollback(session=s, slug=slug, to_version=number, author=None))

    @rule(rows=ROWS, publish=st.booleans())
    def load(self, rows: list[dict[str, Any]], publish: bool) -> None:
        path = self.folder / "import.jsonl"
        path.write_text("\n".join(json.dumps(row) for row in rows))
        import_rows(self.open_session, formats.read(path), publish=publish, author=None)

    @invariant()
    def customers_get_valid_articles_only(self) -> None:
        with self.open_session() as session:
            records = list(session.exec(select(ArticleRecord)))
            published = publishing.published_articles(session=session)
        live = {r.slug for r in records if r.published_version is not None}
        assert published.refused == [], "every way of publishing let only valid articles through"
        assert {a.slug for a in published.articles} == live
        for record in records:
            if record.status == ArticleStatus.published:
                assert record.published_version is not None, record.slug
            if record.status == ArticleStatus.archived:
                assert record.published_version is None, record.slug
        self.runner.run(self.live.refresh(self.open_session))
        assert self.live.size == len(live)

    def teardown(self) -> None:
        try:
            with self.open_session() as session:
                expected = len(publishing.published_articles(session=session).articles)
            restarted = LiveIndex(self.embedder, self.folder / "index")
            self.runner.run(restarted.start(self.open_session))
            assert restarted.size == expected
        finally:
            self.runner.close()
            self.engine.dispose()
            shutil.rmtree(self.folder, ignore_errors=True)


def test_the_published_set_stays_valid_and_the_index_loads(sqlite_url: str, embedder: OnnxEmbedder) -> None:
    template = Path(sqlite_url.removeprefix("sqlite:///"))

    class OnTheTestDatabase(KnowledgeBase):
        def __init__(self) -> None:
            super().__init__(template, embedder)

    run_state_machine_as_test(
        OnTheTestDatabase,
        settings=settings(
            max_examples=50,
            stateful_step_count=30,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )

"""The index customers are answered from, kept in step with the database.

The database's knowledge state number grows with every change to what is published. This process
compares it with the number its index was built from: after its own changes at once, and every half
second for changes made by other instances. A rebuild happens off the event loop and replaces the
index whole, so a search sees the old index or the new one, never a mix, and never fails meanwhile.
Embeddings and the number they belong to are kept on disk, so a restart re-embeds only what changed.

The embedding model can change under a running service too (`carebridge kb tune`): every phrasing is
embedded with the new one off to the side, then the model, its vectors and the index change together.
"""

import asyncio
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread
from sqlmodel import Session

from app.core.db import SessionFactory, run_in_session
from app.kb import publishing
from app.kb.publishing import Refused
from knowledge import Article, Embedder, EmbeddingCache, KnowledgeIndex, Match, Vectors, phrasings_of
from knowledge.index import EXACT_UP_TO

log = logging.getLogger(__name__)

META = "index.json"
# Phrasings allowed in layers over a graph index before it is rebuilt whole in the background.
COMPACT_AFTER = 2_000


@dataclass(frozen=True)
class Snapshot:
    """What the database publishes, with the number and checksum that name it."""

    version: int
    checksum: str
    articles: list[Article]
    # Published versions that make no valid article, left out: see `publishing.published_articles`.
    refused: list[Refused]


def checksum(published: list[Article]) -> str:
    return hashlib.sha256(json.dumps([(a.slug, a.version) for a in published]).encode()).hexdigest()[:16]


def read_snapshot(session: Session) -> Snapshot:
    published = publishing.published_articles(session=session)
    return Snapshot(
        publishing.knowledge_version(session=session),
        checksum(published.articles),
        published.articles,
        published.refused,
    )


class LiveIndex:
    def __init__(
        self, embedder: Embedder, directory: Path, exact_up_to: int = EXACT_UP_TO, compact_after: int = COMPACT_AFTER
    ) -> None:
        self._embedder = embedder
        self._directory = directory
        self._cache = EmbeddingCache(embedder)
        self._index = KnowledgeIndex(embedder, [], exact_up_to=exact_up_to)
        self._exact_up_to = exact_up_to
        self._compact_after = compact_after
        self.version = -1
        self.checksum = ""
        self.refused: list[Refused] = []
        self._rebuilding = asyncio.Lock()
        self._compacting: asyncio.Task[None] | None = None

    @property
    def size(self) -> int:
        return len(self._index)

    @property
    def exact(self) -> bool:
        return self._index.exact

    @property
    def model(self) -> str:
        return self._embedder.model

    @property
    def layered(self) -> int:
        return self._index.layered

    async def start(self, open_session: SessionFactory) -> None:
        """Load what the last run kept, check it against the database, rebuild what differs."""
        await anyio.to_thread.run_sync(self._cache.load, self._directory)
        kept = await anyio.to_thread.run_sync(self._read_meta)
        snapshot = await run_in_session(open_session, read_snapshot)
        if kept == (snapshot.version, snapshot.checksum, self._embedder.model):
            log.info("event=knowledge_index_current version=%d", snapshot.version)
        else:
            log.info(
                "event=knowledge_index_stale kept=%s database=%d model=%s", kept, snapshot.version, self._embedder.model
            )
        await self._rebuild(snapshot)

    async def refresh(self, open_session: SessionFactory) -> bool:
        """Rebuild if the database moved on since the index was built; True if it did."""
        snapshot = await run_in_session(open_session, read_snapshot)
        if (snapshot.version, snapshot.checksum) == (self.version, self.checksum):
            return False
        await self._rebuild(snapshot)
        return True

    async def follow(self, open_session: SessionFactory, interval: float = 0.5) -> None:
        """Catch up with changes made by other service instances."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.refresh(open_session)
            except Exception:
                log.exception("event=knowledge_index_refresh_failed")

    async def _rebuild(self, snapshot: Snapshot) -> None:
        async with self._rebuilding:
            if (snapshot.version, snapshot.checksum) == (self.version, self.checksum):
                return
            self._index = await anyio.to_thread.run_sync(self._build, snapshot)
            self.version, self.checksum, self.refused = snapshot.version, snapshot.checksum, snapshot.refused
            await anyio.to_thread.run_sync(self._persist)
            for refused in snapshot.refused:
                log.error(
                    "event=knowledge_article_refused slug=%s version=%d problem=%r",
                    refused.slug,
                    refused.version,
                    refused.problem,
                )
            log.info(
                "event=knowledge_index_built version=%d articles=%d layered=%d",
                snapshot.version,
                len(snapshot.articles),
                self._index.layered,
            )
            if self._index.layered > self._compact_after and self._compacting is None:
                self._compacting = asyncio.create_task(self._compact())

    async def use_model(self, embedder: Embedder) -> None:
        """Answer with `embedder` from now on. Searches meanwhile keep the old model and its index: a
        question is only ever compared with phrasings embedded by the same model. Embedding takes
        long on a large knowledge base, so it happens before taking the rebuild lock: edits go live
        meanwhile, and the new index then takes in whatever changed."""
        if embedder.model == self._embedder.model:
            return
        log.info("event=knowledge_model_changing from=%s to=%s", self._embedder.model, embedder.model)
        cache, articles = EmbeddingCache(embedder), self._index.articles

        def build() -> KnowledgeIndex:
            vectors = cache.encode(phrasings_of(articles), progress=_log_progress)
            return KnowledgeIndex(embedder, articles, vectors, self._exact_up_to)

        index = await anyio.to_thread.run_sync(build)
        async with self._rebuilding:
            latest = self._index.articles
            if latest != articles:
                index = await anyio.to_thread.run_sync(lambda: index.updated(latest, cache.encode))
            cache.keep_only(phrasings_of(latest))
            self._embedder, self._cache, self._index = embedder, cache, index
            await anyio.to_thread.run_sync(self._persist)
        log.info("event=knowledge_model_changed model=%s articles=%d", embedder.model, len(latest))

    async def _compact(self) -> None:
        """Rebuild the graph with everything in it, off to the side, then swap it in: a large index
        takes its changes in layers at once and folds them in here, out of the customers' way."""
        try:
            articles, version, embedder, cache = self._index.articles, self.version, self._embedder, self._cache
            full = await anyio.to_thread.run_sync(
                lambda: KnowledgeIndex(embedder, articles, cache.encode(phrasings_of(articles)), self._exact_up_to)
            )
            async with self._rebuilding:
                if embedder is not self._embedder:
                    return  # built with a model no longer in use
                if self.version != version:
                    latest = self._index.articles
                    full = await anyio.to_thread.run_sync(lambda: full.updated(latest, self._cache.encode))
                self._index = full
            log.info("event=knowledge_index_compacted version=%d", self.version)
        finally:
            self._compacting = None

    def _build(self, snapshot: Snapshot) -> KnowledgeIndex:
        phrasings = phrasings_of(snapshot.articles)
        self._cache.encode(phrasings, progress=_log_progress)
        index = self._index.updated(snapshot.articles, self._cache.encode)
        self._cache.keep_only(phrasings)
        return index

    def _persist(self) -> None:
        self._cache.save(self._directory)
        meta = {"version": self.version, "checksum": self.checksum, "model": self._embedder.model}
        (self._directory / META).write_text(json.dumps(meta))

    def _read_meta(self) -> tuple[int, str, str] | None:
        try:
            meta = json.loads((self._directory / META).read_text())
            return int(meta["version"]), str(meta["checksum"]), str(meta["model"])
        except (OSError, ValueError, KeyError):
            return None

    async def search(self, query: str, limit: int) -> list[Match]:
        index = self._index
        return await anyio.to_thread.run_sync(index.search, query, limit)

    async def search_many(self, queries: Sequence[str], limit: int) -> list[list[Match]]:
        index = self._index
        return await anyio.to_thread.run_sync(index.search_many, list(queries), limit)

    async def embed(self, texts: Sequence[str]) -> tuple[str, Vectors]:
        """`texts` embedded, with the name of the model that did it: vectors kept elsewhere must say
        which model made them, since the model can change."""
        embedder = self._embedder
        return embedder.model, await anyio.to_thread.run_sync(embedder.encode, list(texts))

    async def preview(self, draft: Article, questions: Sequence[str]) -> list[list[Match]]:
        """How `questions` would be answered if `draft` replaced the article's live version."""
        live, embedder, cache = self._index, self._embedder, self._cache

        def search_with_draft() -> list[list[Match]]:
            articles = [a for a in live.articles if a.slug != draft.slug] + [draft]
            index = KnowledgeIndex(embedder, articles, cache.encode(phrasings_of(articles)))
            return index.search_many(list(questions), limit=2)

        return await anyio.to_thread.run_sync(search_with_draft)


def _log_progress(done: int, total: int) -> None:
    log.info("event=knowledge_index_embedding done=%d of=%d", done, total)

"""Search over every phrasing of every article, answering with the best article per query.

How an article is scored for a question, and how sure the answer is:

- similarity: the cosine similarity of the question to each of the article's phrasings;
- score: half the best similarity plus half the mean of the best three, so an article that several
  phrasings agree on beats one that a single stray phrasing happens to match;
- confidence (of the best article only): its score plus twice the margin to the second-best
  article's score. A question between two articles is a risky answer even when both are close.
- but a clear winner among weak matches is still a weak match: the margin counts only as far as
  the score stands above the knowledge base's floor, which is the typical score less 0.25. Typical
  is the median score of a phrasing against its own article's other phrasings, measured on the
  knowledge base itself, so the floor follows the model's scale: a tuned model puts an article's
  phrasings, and questions about it, much closer together than the stock one does. Without this,
  a tuned model answered 6 to 10 percent of CLINC150's out-of-scope questions ("why do we dream"
  matched "meaning of life" at 0.54, 0.2 ahead of the next article).

The bot answers only when the confidence reaches the threshold. `carebridge bench kb-quality`
measures the effect: on BANKING77 the margin lifts the share of questions answered at 95 percent
precision from about half to about nine in ten.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import faiss
import numpy as np

from knowledge.articles import Article
from knowledge.embedder import Embedder, Vectors

# How many phrasings of an article take part in its score besides the best one.
AGREEING_PHRASINGS = 3
MARGIN_WEIGHT = 2.0
# Where the floor lies under the knowledge base's typical score. Chosen on CLINC150's out-of-scope
# questions (oos_val, which the bench reports) and checked on its other out-of-scope set
# (oos_train): see docs/knowledge.md.
BELOW_TYPICAL = 0.25
OWN_SCORED = 256
# Articles scored exactly for each question: the ones whose phrasings came nearest.
CANDIDATES = 10
NEIGHBOURS = 64
# Up to this many phrasings the index compares a question with every one (exact, and fast enough);
# beyond, a graph (HNSW) over 8-bit vectors finds the nearest in a fraction of the time and memory.
EXACT_UP_TO = 20_000
GRAPH_NEIGHBOURS = 32


@dataclass(frozen=True)
class Match:
    article: Article
    score: float
    # The article's phrasing closest to the question, and how close (cosine).
    question: str
    similarity: float
    # How sure an answer with this article would be; see the module's description.
    confidence: float


class _Segment:
    """Articles and their phrasings in one FAISS index, built once and never changed."""

    def __init__(self, dimension: int, articles: Sequence[Article], vectors: Vectors, exact_up_to: int) -> None:
        self.articles = tuple(articles)
        self.phrasings = phrasings_of(self.articles)
        counts = [len(a.phrasings) for a in self.articles]
        self.owner = np.repeat(np.arange(len(self.articles)), counts)
        ends = np.cumsum(counts)
        self.rows = [range(int(end) - n, int(end)) for n, end in zip(counts, ends, strict=True)]
        self.index = _faiss_index(dimension, len(self.phrasings), exact_up_to)
        if vectors.shape != (len(self.phrasings), dimension):
            raise ValueError(f"{vectors.shape[0]} vectors given for {len(self.phrasings)} phrasings")
        self.own_scores = [_own_scores(vectors[span.start : span.stop]) for span in self.rows]
        if self.phrasings:
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            if not self.index.is_trained:
                self.index.train(vectors)
            self.index.add(vectors)

    @property
    def exact(self) -> bool:
        return isinstance(self.index, faiss.IndexFlat)


class KnowledgeIndex:
    """An immutable snapshot of the published articles.

    Changing the knowledge base means making a new index and swapping the reference, so a search
    never sees half of an edit. A graph index is costly to build, so `updated` keeps it and puts the
    changed and new articles in a small exact layer on top, hiding their old versions below.
    """

    def __init__(
        self,
        embedder: Embedder,
        articles: Sequence[Article],
        vectors: Vectors | None = None,
        exact_up_to: int = EXACT_UP_TO,
    ) -> None:
        """Index `articles`; `vectors` are their phrasings' embeddings (in `phrasings_of` order) if
        already at hand, as from an `EmbeddingCache`; otherwise `embedder` embeds them."""
        phrasings = phrasings_of(articles)
        if vectors is None:
            vectors = embedder.encode(phrasings) if phrasings else np.zeros((0, embedder.dimension), np.float32)
        segment = _Segment(embedder.dimension, articles, vectors, exact_up_to)
        self._init(embedder, articles, (segment,), (frozenset(),), exact_up_to)

    def _init(
        self,
        embedder: Embedder,
        articles: Sequence[Article],
        segments: tuple[_Segment, ...],
        hidden: tuple[frozenset[int], ...],
        exact_up_to: int,
    ) -> None:
        self._embedder = embedder
        self._articles = tuple(articles)
        slugs = [a.slug for a in self._articles]
        if len(set(slugs)) != len(slugs):
            duplicate = next(s for s in slugs if slugs.count(s) > 1)
            raise ValueError(f"article slug {duplicate!r} appears twice")
        self._segments = segments
        self._hidden = hidden
        self._exact_up_to = exact_up_to
        self._size = sum(len(segment.phrasings) for segment in segments)
        own = [
            scores
            for segment, hidden_here in zip(segments, hidden, strict=True)
            for position, scores in enumerate(segment.own_scores)
            if position not in hidden_here
        ]
        joined = np.concatenate(own) if own else np.zeros(0, np.float32)
        self.typical_score = float(np.median(joined)) if len(joined) else None

    @property
    def floor(self) -> float:
        """The score a margin counts from: see the module's description."""
        return -np.inf if self.typical_score is None else self.typical_score - BELOW_TYPICAL

    def updated(self, articles: Sequence[Article], vectors_of: Callable[[list[str]], Vectors]) -> "KnowledgeIndex":
        """The index for `articles`, built anew if exact (that is quick), else layered on this one's graph."""
        base = self._segments[0]
        total = len(phrasings_of(articles))
        if base.exact or total <= self._exact_up_to:
            return KnowledgeIndex(self._embedder, articles, vectors_of(phrasings_of(articles)), self._exact_up_to)
        kept = set(base.articles) & set(articles)
        layer = [a for a in articles if a not in kept]
        hidden = frozenset(position for position, a in enumerate(base.articles) if a not in kept)
        segment = _Segment(self._embedder.dimension, layer, vectors_of(phrasings_of(layer)), exact_up_to=total)
        index = KnowledgeIndex.__new__(KnowledgeIndex)
        index._init(self._embedder, articles, (base, segment), (hidden, frozenset()), self._exact_up_to)
        return index

    @property
    def layered(self) -> int:
        """Phrasings kept in layers over the graph; past a few thousand, time for a full rebuild."""
        return sum(len(segment.phrasings) for segment in self._segments[1:])

    @property
    def exact(self) -> bool:
        """Whether every phrasing is compared with the question (else a graph finds the nearest)."""
        return all(segment.exact for segment in self._segments)

    @property
    def articles(self) -> tuple[Article, ...]:
        return self._articles

    def __len__(self) -> int:
        return len(self._articles)

    def search(self, query: str, limit: int = 3) -> list[Match]:
        """The best `limit` articles for `query`, best first."""
        return self.search_many([query], limit)[0]

    def search_many(self, queries: Sequence[str], limit: int = 3) -> list[list[Match]]:
        """`search` for several queries at once, embedded in one batch."""
        if not queries:
            return []
        if not self._size or limit < 1:
            return [[] for _ in queries]
        return self.search_vectors(self._embedder.encode(queries), limit)

    def search_vectors(self, vectors: Vectors, limit: int = 3) -> list[list[Match]]:
        """`search` for questions already embedded (unit length)."""
        if not self._size or limit < 1:
            return [[] for _ in range(len(vectors))]
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        depth = max(NEIGHBOURS, limit * 8)
        found = self._neighbours(vectors, depth)
        return [self._rank(vectors[q], found, q, limit, depth) for q in range(len(vectors))]

    def _neighbours(self, vectors: Vectors, depth: int) -> list[tuple[int, tuple[np.ndarray, np.ndarray]]]:
        """Each segment's `depth` phrasings nearest to each question, as (segment, FAISS result)."""
        found = []
        for s, segment in enumerate(self._segments):
            k = min(len(segment.phrasings), depth)
            if k:
                found.append((s, segment.index.search(vectors, k)))
        return found

    def _rank(
        self,
        vector: np.ndarray,
        found: list[tuple[int, tuple[np.ndarray, np.ndarray]]],
        query: int,
        limit: int,
        depth: int,
    ) -> list[Match]:
        closest: dict[tuple[int, int], float] = {}
        deeper_needed = False
        for s, (similarities, nearest) in found:
            segment, hidden = self._segments[s], self._hidden[s]
            seen = len(closest)
            for similarity, row in zip(similarities[query], nearest[query], strict=True):
                if row < 0:
                    continue
                position = int(segment.owner[row])
                if position not in hidden and (s, position) not in closest:
                    closest[(s, position)] = float(similarity)
            # Every neighbour this segment gave was one article's phrasing (an article with many,
            # close together) or a hidden one: the runner-up, from whom the margin is measured, may
            # lie just beyond, whatever the other segments hold. Look deeper.
            complete = len(nearest[query]) >= len(segment.phrasings)
            deeper_needed = deeper_needed or (not complete and len(closest) - seen < 2)
        if deeper_needed:
            deeper = depth * 4
            return self._rank(vector, self._neighbours(vector[None, :], deeper), 0, limit, deeper)
        candidates = sorted(closest, key=lambda key: -closest[key])[: max(CANDIDATES, limit)]
        scored = []
        for s, position in candidates:
            segment = self._segments[s]
            span = segment.rows[position]
            similarities = segment.index.reconstruct_n(span.start, len(span)) @ vector
            order = np.argsort(similarities)[::-1]
            best = float(similarities[order[0]])
            agreeing = float(similarities[order[:AGREEING_PHRASINGS]].mean())
            scored.append((0.5 * best + 0.5 * agreeing, best, s, position, span.start + int(order[0])))
        if not scored:
            return []
        scored.sort(reverse=True)
        best = scored[0][0]
        # With a single article in the index there is no second opinion to be clear of.
        margin = best - scored[1][0] if len(scored) > 1 else 0.0
        lead = max(0.0, min(margin, best - self.floor))
        return [
            Match(
                article=self._segments[s].articles[position],
                score=score,
                question=self._segments[s].phrasings[row],
                similarity=similarity,
                confidence=score + MARGIN_WEIGHT * (lead if rank == 0 else score - best),
            )
            for rank, (score, similarity, s, position, row) in enumerate(scored[:limit])
        ]


def _own_scores(vectors: Vectors) -> Vectors:
    """Each phrasing scored against its article's other phrasings, as a question would be: how close
    this knowledge base's phrasings of one thing are to each other, under this model. An article's
    first `OWN_SCORED` phrasings tell that well enough, and bound the memory it takes."""
    vectors = vectors[:OWN_SCORED]
    if len(vectors) < 2:
        return np.zeros(0, np.float32)
    similarities = vectors @ vectors.T
    np.fill_diagonal(similarities, -np.inf)
    ranked = -np.sort(-similarities, axis=1)[:, : min(AGREEING_PHRASINGS, len(vectors) - 1)]
    scores: Vectors = (0.5 * ranked[:, 0] + 0.5 * ranked.mean(axis=1)).astype(np.float32)
    return scores


def _faiss_index(dimension: int, size: int, exact_up_to: int) -> faiss.Index:
    if size <= exact_up_to:
        return faiss.IndexFlatIP(dimension)
    # faiss's stubs type the quantizer kind as the class, but SWIG takes the enum value.
    eight_bit: faiss.ScalarQuantizer = faiss.ScalarQuantizer.QT_8bit  # type: ignore[assignment]
    index = faiss.IndexHNSWSQ(dimension, eight_bit, GRAPH_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 80
    index.hnsw.efSearch = 128
    return index


def phrasings_of(articles: Sequence[Article]) -> list[str]:
    """Every phrasing the index embeds, article by article, in order."""
    return [phrasing for article in articles for phrasing in article.phrasings]


def top_answer(matches: Sequence[Match], threshold: float) -> Match | None:
    """The match sure enough to answer a customer with, if any."""
    if matches and matches[0].confidence >= threshold:
        return matches[0]
    return None

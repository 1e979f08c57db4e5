"""The knowledge index with the real MiniLM model: it finds the article a question is about."""

from collections.abc import Sequence

import numpy as np
import pytest

from knowledge import Article, KnowledgeIndex, Match, OnnxEmbedder, phrasings_of, top_answer
from knowledge.demo import load_demo_articles


@pytest.fixture(scope="module")
def demo_index(embedder: OnnxEmbedder) -> KnowledgeIndex:
    return KnowledgeIndex(embedder, load_demo_articles())


@pytest.mark.parametrize(
    ("question", "slug"),
    [
        ("how long until my refund shows up on my card", "refund-time"),
        ("I can't remember my password", "reset-password"),
        ("do you deliver to Norway", "international-shipping"),
        ("can I pay with apple pay", "payment-methods"),
        ("my boots are too small, can I get a bigger pair", "exchange-size"),
        ("what time do your shops close on saturday", "store-hours"),
    ],
)
def test_paraphrased_questions_find_their_article(demo_index: KnowledgeIndex, question: str, slug: str) -> None:
    matches = demo_index.search(question, limit=3)

    assert matches[0].article.slug == slug


def test_results_are_distinct_articles_best_first(demo_index: KnowledgeIndex) -> None:
    matches = demo_index.search("where is my parcel", limit=5)

    slugs = [m.article.slug for m in matches]
    assert len(slugs) == 5 == len(set(slugs))
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)


def test_unrelated_question_is_not_answered_at_the_default_threshold(demo_index: KnowledgeIndex) -> None:
    from app.core.settings import Settings

    threshold = Settings().kb_answer_threshold
    matches = demo_index.search("what is the capital of australia", limit=3)

    assert top_answer(matches, threshold) is None
    assert top_answer(demo_index.search("how do I return an item", limit=3), threshold) is not None


def test_an_empty_index_finds_nothing(embedder: OnnxEmbedder) -> None:
    assert KnowledgeIndex(embedder, []).search("anything", limit=3) == []


def test_duplicate_slugs_are_refused(embedder: OnnxEmbedder) -> None:
    article = Article(slug="same", title="Same", questions=("q",), answer="a")

    with pytest.raises(ValueError, match="'same' appears twice"):
        KnowledgeIndex(embedder, [article, article])


def test_a_large_index_finds_what_the_exact_one_finds(embedder: OnnxEmbedder) -> None:
    """Beyond `exact_up_to` phrasings a graph over 8-bit vectors replaces the exhaustive search."""
    rng = np.random.default_rng(3)
    articles = [Article(slug=f"a-{n}", title=f"t{n}", questions=(f"q{n}a", f"q{n}b"), answer="x") for n in range(1500)]
    vectors = rng.standard_normal((4500, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    exact = KnowledgeIndex(embedder, articles, vectors)
    graph = KnowledgeIndex(embedder, articles, vectors, exact_up_to=1000)
    questions = vectors[::45] + 0.3 * rng.standard_normal((100, 384)).astype(np.float32)
    questions /= np.linalg.norm(questions, axis=1, keepdims=True)

    found_exact = [m[0].article.slug for m in exact.search_vectors(questions, 1)]
    found_graph = [m[0].article.slug for m in graph.search_vectors(questions, 1)]

    assert exact.exact and not graph.exact
    assert sum(a == b for a, b in zip(found_exact, found_graph, strict=True)) >= 97


def test_changes_to_a_graph_index_go_in_a_layer_and_hide_what_they_replace(embedder: OnnxEmbedder) -> None:
    rng = np.random.default_rng(5)
    vectors_by_text: dict[str, np.ndarray] = {}

    def vectors_of(texts: list[str]) -> np.ndarray:
        for text in texts:
            if text not in vectors_by_text:
                v = rng.standard_normal(384).astype(np.float32)
                vectors_by_text[text] = v / np.linalg.norm(v)
        return np.stack([vectors_by_text[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)

    articles = [Article(slug=f"a-{n}", title=f"t{n}", questions=(f"q{n}",), answer="old") for n in range(1200)]
    base = KnowledgeIndex(embedder, articles, vectors_of(phrasings_of(articles)), exact_up_to=1000)
    edited = Article(slug="a-5", title="t5 new", questions=("q5 new",), answer="new", version=2)
    added = Article(slug="brand-new", title="fresh", questions=("fresh question",), answer="hello")
    changed = [edited if a.slug == "a-5" else a for a in articles if a.slug != "a-7"] + [added]

    layered = base.updated(changed, vectors_of)

    def best(text: str) -> Article:
        return layered.search_vectors(vectors_of([text]), 1)[0][0].article

    assert not layered.exact and layered.layered == 4, "two articles in the layer: title and one phrasing each"
    assert best("q5 new") == edited
    assert best("fresh question") == added
    assert best("q7").slug != "a-7", "a removed article is never found"
    assert best("q5").slug != "a-5" or best("q5").version == 2, "the old version of an edited one is hidden"
    assert best("q900").slug == "a-900"
    assert len(layered) == 1200 and set(layered.articles) == set(changed)


def test_an_exact_index_is_simply_rebuilt(embedder: OnnxEmbedder) -> None:
    articles = [Article(slug="one", title="One", questions=("first",), answer="1")]
    index = KnowledgeIndex(embedder, articles)

    updated = index.updated(
        [*articles, Article(slug="two", title="Two", questions=("second",), answer="2")], embedder.encode
    )

    assert updated.exact and updated.layered == 0 and len(updated) == 2


class _Fixed:
    """Only the dimension: the test hands the index its vectors itself."""

    dimension = 9
    model = "fixed"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        raise AssertionError("nothing is embedded")


def test_a_clear_winner_among_weak_matches_is_not_sure_enough_to_answer() -> None:
    from app.core.settings import Settings

    threshold = Settings().kb_answer_threshold
    # Phrasings 0.6 apart: this knowledge base's typical score is 0.6, its floor 0.35.
    index = _tight_or_loose(0.6)

    def asked(score: float) -> Match:
        return index.search_vectors(_question(score / 0.6**0.5, 0.05))[0][0]

    weak, strong = asked(0.45), asked(0.75)

    # Both about 0.4 and 0.7 ahead of the other article, but a margin counts only as far as the score
    # stands above the floor: 0.1 for the weak match, 0.4 for the strong one.
    assert index.floor == pytest.approx(0.35)
    assert weak.article.slug == strong.article.slug == "refunds"
    assert weak.confidence == pytest.approx(0.45 + 2 * 0.1, abs=1e-5)
    assert strong.confidence == pytest.approx(0.75 + 2 * 0.4, abs=1e-5)
    assert top_answer([weak], threshold) is None
    assert top_answer([strong], threshold) is strong


def _question(refunds: float, hours: float) -> np.ndarray:
    """A unit vector with these components along the refunds and the hours axes, the rest elsewhere."""
    vector = np.zeros((1, 9), np.float32)
    vector[0, 0], vector[0, 1], vector[0, 8] = refunds, hours, (1 - refunds**2 - hours**2) ** 0.5
    return vector


def _tight_or_loose(closeness: float) -> KnowledgeIndex:
    """Two articles of three phrasings each, every two phrasings of one article `closeness` apart."""
    articles = [
        Article(slug="refunds", title="Refunds", questions=("where is my refund", "refund status"), answer="a"),
        Article(slug="hours", title="Opening hours", questions=("when do you open", "hours"), answer="b"),
    ]
    vectors = np.zeros((6, 9), np.float32)
    for row in range(6):
        vectors[row, row // 3] = closeness**0.5
        vectors[row, 2 + row] = (1 - closeness) ** 0.5
    return KnowledgeIndex(_Fixed(), articles, vectors)


def test_what_is_a_weak_match_depends_on_how_close_the_knowledge_bases_own_phrasings_are() -> None:
    from app.core.settings import Settings

    threshold = Settings().kb_answer_threshold
    tight, loose = _tight_or_loose(0.95), _tight_or_loose(0.6)
    assert tight.typical_score == pytest.approx(0.95) and loose.typical_score == pytest.approx(0.6)

    # The same score, 0.72, far ahead of the other article: typical of the loose knowledge base, well
    # under what the tight one's questions score (0.95, so its margin counts from 0.70).
    in_tight = tight.search_vectors(_question(0.72 / 0.95**0.5, 0.1))[0][0]
    in_loose = loose.search_vectors(_question(0.72 / 0.6**0.5, 0.1))[0][0]

    assert in_tight.score == pytest.approx(0.72, abs=1e-5) and in_loose.score == pytest.approx(0.72, abs=1e-5)
    assert in_tight.confidence == pytest.approx(0.72 + 2 * (0.72 - 0.70), abs=1e-5)
    assert top_answer([in_tight], threshold) is None
    assert top_answer([in_loose], threshold) is in_loose


def test_what_is_typical_is_measured_on_the_published_versions_only() -> None:
    def pair(closeness: float, axis: int) -> list[np.ndarray]:
        """A title and a question this close to each other."""
        first, other = np.eye(9)[axis], np.eye(9)[axis + 1]
        return [first, closeness * first + (1 - closeness**2) ** 0.5 * other]

    def article(slug: str, version: int = 1) -> Article:
        return Article(slug=slug, title=slug, questions=(f"{slug} {version}?",), answer="x", version=version)

    vectors = {"a": pair(0.9, 0), "b": pair(0.5, 2), "c": pair(0.1, 4)}
    base = KnowledgeIndex(
        _Fixed(), [article(s) for s in "abc"], np.array([v for s in "abc" for v in vectors[s]]), exact_up_to=4
    )
    edited = [article("a"), article("b"), article("c", version=2)]

    layered = base.updated(edited, lambda texts: np.array(pair(0.95, 6), dtype=np.float32))

    assert not layered.exact and layered.layered == 2
    assert base.typical_score == pytest.approx(0.5)
    # Of 0.9, 0.5 and the new 0.95 (not the hidden 0.1) the median is 0.9.
    assert layered.typical_score == pytest.approx(0.9)


def test_an_article_whose_phrasings_fill_every_neighbour_is_still_measured_against_the_runner_up() -> None:
    from app.core.settings import Settings

    # "refunds" has 80 phrasings, each 0.9 along its axis: the 64 neighbours first looked at are all
    # its own. "hours" lies far off.
    questions = tuple(f"refund question {n}" for n in range(79))
    articles = [
        Article(slug="refunds", title="Refunds", questions=questions, answer="a"),
        Article(slug="hours", title="Opening hours", questions=("when do you open",), answer="b"),
    ]
    vectors = np.zeros((82, 90), np.float32)
    vectors[:80, 0] = 0.9
    vectors[np.arange(80), 2 + np.arange(80)] = (1 - 0.9**2) ** 0.5
    vectors[80:, 1] = 1.0
    wide = _Fixed()
    wide.dimension = 90
    index = KnowledgeIndex(wide, articles, vectors)
    question = np.zeros((1, 90), np.float32)
    question[0, 0], question[0, 1], question[0, 89] = 0.95, 0.1, (1 - 0.95**2 - 0.1**2) ** 0.5

    (best, runner_up) = index.search_vectors(question, limit=2)[0]

    assert (best.article.slug, runner_up.article.slug) == ("refunds", "hours")
    assert best.confidence > best.score + 2 * 0.25, "far ahead of the runner-up, found deeper"
    assert top_answer([best, runner_up], Settings().kb_answer_threshold) is best


def test_the_runner_up_is_looked_for_in_the_graph_even_when_a_layer_offers_another() -> None:
    # "refunds" fills the graph's first 64 neighbours; "refund-status" lies just beyond, close; the
    # edited "hours", far off, sits in the exact layer above.
    articles = [
        Article(slug="refunds", title="Refunds", questions=tuple(f"refund {n}" for n in range(79)), answer="a"),
        Article(slug="refund-status", title="Refund status", questions=("is my refund on its way",), answer="b"),
        Article(slug="hours", title="Opening hours", questions=("when do you open",), answer="c"),
    ]
    vectors = np.zeros((84, 90), np.float32)
    vectors[:80, 0] = 0.9
    vectors[np.arange(80), 2 + np.arange(80)] = (1 - 0.9**2) ** 0.5
    vectors[80:82, 0], vectors[80:82, 1] = 0.79, (1 - 0.79**2) ** 0.5
    vectors[82:, 1] = 1.0
    wide = _Fixed()
    wide.dimension = 90
    base = KnowledgeIndex(wide, articles, vectors, exact_up_to=50)
    edited = Article(slug="hours", title="Hours", questions=("when do you open", "hours"), answer="c", version=2)
    far = np.zeros((3, 90), np.float32)
    far[:, 88] = 1.0
    layered = base.updated([*articles[:2], edited], lambda texts: far[: len(texts)])
    question = np.zeros((1, 90), np.float32)
    question[0, 0], question[0, 89] = 0.95, (1 - 0.95**2) ** 0.5

    found = layered.search_vectors(question, limit=3)[0]

    assert not layered.exact and layered.layered == 3
    assert [m.article.slug for m in found] == ["refunds", "refund-status", "hours"]
    best, runner_up = found[0], found[1]
    assert best.confidence == pytest.approx(best.score + 2 * (best.score - runner_up.score), abs=1e-3)

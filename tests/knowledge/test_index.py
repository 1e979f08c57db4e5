"""The knowledge index with the real MiniLM model: it finds the article a question is about."""

import numpy as np
import pytest

from knowledge import Article, KnowledgeIndex, OnnxEmbedder, phrasings_of, top_answer
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
    from app.settings import Settings

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

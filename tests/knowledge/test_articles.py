"""What makes an article valid, and the demo knowledge base the service seeds."""

import pytest

from knowledge import Article, InvalidArticle
from knowledge.demo import load_demo_articles


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"slug": "Not A Slug"}, "'Not A Slug': slug must be lowercase"),
        ({"title": "  "}, "title is empty"),
        ({"answer": ""}, "answer is empty"),
        ({"questions": ("", " ")}, "questions needs at least one phrasing"),
        ({"short_answer": "x" * 281}, "short_answer has 281 characters; at most 280"),
    ],
)
def test_invalid_articles_are_refused_with_the_field_named(fields: dict[str, object], problem: str) -> None:
    valid: dict[str, object] = {"slug": "ok", "title": "Title", "questions": ("q?",), "answer": "A."}

    with pytest.raises(InvalidArticle, match=problem):
        Article(**{**valid, **fields})  # type: ignore[arg-type]


def test_phrasings_include_the_title_and_skip_blank_questions() -> None:
    article = Article(slug="a", title="How do I?", questions=("first", " ", "second"), answer="Like so.")

    assert article.phrasings == ("How do I?", "first", "second")


def test_demo_knowledge_base_has_thirty_articles_with_several_phrasings() -> None:
    articles = load_demo_articles()

    assert len(articles) >= 30
    assert len({a.slug for a in articles}) == len(articles)
    assert all(len(a.questions) >= 4 for a in articles)
    assert all(a.skill for a in articles)

"""Articles and their versions, on SQLite and PostgreSQL: the life a knowledge manager gives them."""

from typing import Any

import pytest
from sqlmodel import Session

from app.core.errors import Conflict, NotFound
from app.kb import articles, publishing
from app.kb.content import Content, InvalidArticleInput
from app.kb.models import ArticleStatus
from tests.support import factories


def content(title: str = "How do refunds work?", **fields: Any) -> Content:
    defaults: dict[str, object] = {
        "title": title,
        "questions": ("When do I get my money back?", "refund time"),
        "answer": "Within 3 working days.",
    }
    return Content(**{**defaults, **fields})


def published_titles(session: Session) -> dict[str, str]:
    return {a.slug: a.title for a in publishing.published_articles(session=session).articles}


def test_an_article_starts_as_a_draft_that_answers_nobody(session: Session) -> None:
    record = articles.create(session=session, slug="refunds", content=content(), author=None)

    assert (record.status, record.current_version, record.published_version) == (ArticleStatus.draft, 1, None)
    assert published_titles(session) == {}


def test_publishing_makes_the_newest_version_live_and_moves_the_knowledge_state_on(session: Session) -> None:
    articles.create(session=session, slug="refunds", content=content(), author=None)
    before = publishing.knowledge_version(session=session)

    publishing.publish(session=session, slug="refunds")

    assert published_titles(session) == {"refunds": "How do refunds work?"}
    assert publishing.knowledge_version(session=session) == before + 1


def test_an_edit_of_a_live_article_waits_for_its_own_publish(session: Session) -> None:
    author, _ = factories.agent(session)
    articles.create(session=session, slug="refunds", content=content(), author=author)
    publishing.publish(session=session, slug="refunds")
    state = publishing.knowledge_version(session=session)

    edited = articles.update(
        session=session, slug="refunds", content=content("Refunds, explained"), author=author, base_version=1
    )

    assert (edited.current_version, edited.published_version, edited.status) == (2, 1, ArticleStatus.draft)
    assert published_titles(session) == {"refunds": "How do refunds work?"}
    assert publishing.knowledge_version(session=session) == state, "a draft changes nothing customers see"
    publishing.publish(session=session, slug="refunds")
    assert published_titles(session) == {"refunds": "Refunds, explained"}
    newest, _ = articles.history(session=session, slug="refunds")
    assert (newest.author_name, newest.note) == (author.name, "title changed")


def test_an_edit_from_a_stale_version_is_refused_and_nothing_changes(session: Session) -> None:
    articles.create(session=session, slug="refunds", content=content(), author=None)
    articles.update(session=session, slug="refunds", content=content("Second"), author=None, base_version=1)

    with pytest.raises(Conflict, match="saved as version 2 since you opened version 1"):
        articles.update(session=session, slug="refunds", content=content("Third"), author=None, base_version=1)
    assert articles.head(session=session, slug="refunds").current_version == 2


def test_saving_the_same_content_writes_no_version(session: Session) -> None:
    articles.create(session=session, slug="refunds", content=content(), author=None)

    again = articles.update(session=session, slug="refunds", content=content(), author=None, base_version=1)

    assert again.current_version == 1


def test_rollback_writes_a_new_version_and_a_live_article_goes_live_with_it(session: Session) -> None:
    articles.create(session=session, slug="refunds", content=content("Good"), author=None)
    publishing.publish(session=session, slug="refunds")
    articles.update(session=session, slug="refunds", content=content("Bad"), author=None, base_version=None)
    publishing.publish(session=session, slug="refunds")

    record = publishing.rollback(session=session, slug="refunds", to_version=1, author=None)

    assert (record.current_version, record.published_version) == (3, 3)
    assert published_titles(session) == {"refunds": "Good"}
    assert articles.history(session=session, slug="refunds")[0].note == "rolled back to version 1"


def test_a_live_article_is_not_rolled_back_to_a_version_that_could_not_be_published(session: Session) -> None:
    articles.create(session=session, slug="refunds", content=content(answer=""), author=None)
    articles.update(session=session, slug="refunds", content=content(), author=None, base_version=1)
    publishing.publish(session=session, slug="refunds")
    state = publishing.knowledge_version(session=session)

    with pytest.raises(InvalidArticleInput, match="answer is empty") as refused:
        publishing.rollback(session=session, slug="refunds", to_version=1, author=None)

    assert refused.value.field == "answer"
    record = articles.head(session=session, slug="refunds")
    assert (record.current_version, record.published_version, record.status) == (2, 2, ArticleStatus.published)
    assert len(articles.history(session=session, slug="refunds")) == 2
    assert publishing.knowledge_version(session=session) == state


def test_a_draft_may_be_rolled_back_to_a_version_without_an_answer(session: Session) -> None:
    articles.create(session=session, slug="refunds", content=content(answer=""), author=None)
    articles.update(session=session, slug="refunds", content=content(), author=None, base_version=1)

    record = publishing.rollback(session=session, slug="refunds", to_version=1, author=None)

    assert (record.current_version, record.published_version, record.status) == (3, None, ArticleStatus.draft)


def test_rolling_back_to_a_version_that_does_not_exist_changes_nothing(session: Session) -> None:
    articles.create(session=session, slug="refunds", content=content(), author=None)

    with pytest.raises(NotFound, match="article 'refunds' has no version 7"):
        publishing.rollback(session=session, slug="refunds", to_version=7, author=None)
    assert articles.head(session=session, slug="refunds").current_version == 1


def test_unpublish_and_archive_take_the_article_away_from_customers(session: Session) -> None:
    for slug in ("refunds", "shipping"):
        articles.create(session=session, slug=slug, content=content(slug.title()), author=None)
        publishing.publish(session=session, slug=slug)

    publishing.unpublish(session=session, slug="refunds")
    publishing.archive(session=session, slug="shipping")

    assert published_titles(session) == {}
    assert [r.slug for r, _ in articles.listing(session=session)] == ["refunds"]
    assert [r.slug for r, _ in articles.listing(session=session, status=ArticleStatus.archived)] == ["shipping"]
    with pytest.raises(Conflict, match="'refunds' is not published"):
        publishing.unpublish(session=session, slug="refunds")


def test_review_only_from_a_draft(session: Session) -> None:
    articles.create(session=session, slug="refunds", content=content(), author=None)

    assert publishing.submit_for_review(session=session, slug="refunds").status == ArticleStatus.in_review
    with pytest.raises(Conflict, match="only a draft goes to review"):
        publishing.submit_for_review(session=session, slug="refunds")


def test_diff_shows_phrasings_added_and_removed_and_the_answer_line_by_line(session: Session) -> None:
    articles.create(session=session, slug="refunds", content=content(), author=None)
    articles.update(
        session=session,
        slug="refunds",
        content=content(questions=("refund time", "where is my refund"), answer="Within 5 working days."),
        author=None,
        base_version=1,
    )

    changes = articles.diff(session=session, slug="refunds", old=1, new=2)["changes"]

    assert changes["questions"] == {"added": ["where is my refund"], "removed": ["When do I get my money back?"]}
    assert "-Within 3 working days." in changes["answer"] and "+Within 5 working days." in changes["answer"]
    assert "title" not in changes


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": " "}, "title", "title is empty"),
        ({"questions": (" ",)}, "questions", "needs at least one phrasing"),
        ({"short_answer": "x" * 281}, "short_answer", "has 281 characters"),
        ({"answer": "x" * 20_001}, "answer", "answer has 20001 characters; at most 20000 fit"),
        ({"questions": tuple(f"phrasing {n}" for n in range(501))}, "questions", "has 501 entries; at most 500"),
        ({"tags": tuple(f"tag-{n}" for n in range(51))}, "tags", "has 51 entries; at most 50"),
        ({"locale": "x" * 17}, "locale", "has 17 characters; at most 16 fit"),
    ],
)
def test_bad_content_is_refused_naming_the_field(
    session: Session, fields: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(InvalidArticleInput, match=message) as refused:
        articles.create(session=session, slug="refunds", content=content(**fields), author=None)

    assert refused.value.field == field
    assert articles.count(session=session) == 0


def test_a_draft_may_wait_for_its_answer_but_cannot_be_published_without_one(session: Session) -> None:
    articles.create(session=session, slug="new-topic", content=content(answer=""), author=None)

    with pytest.raises(InvalidArticleInput, match="answer is empty"):
        publishing.publish(session=session, slug="new-topic")


def test_slugs_are_unique_and_well_formed(session: Session) -> None:
    articles.create(session=session, slug="refunds", content=content(), author=None)

    with pytest.raises(Conflict, match="'refunds' exists already"):
        articles.create(session=session, slug="refunds", content=content(), author=None)
    with pytest.raises(InvalidArticleInput, match="slug must be lowercase"):
        articles.create(session=session, slug="Refunds Now", content=content(), author=None)


def test_overlong_fields_are_refused_before_the_database_sees_them(session: Session) -> None:
    with pytest.raises(InvalidArticleInput, match="title has 301 characters; at most 300") as refused:
        articles.create(session=session, slug="long", content=content("x" * 301), author=None)

    assert refused.value.field == "title"

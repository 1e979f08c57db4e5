"""What a knowledge manager writes in an article version, and the checks it passes on its way in.

Nothing here reads or writes the database: the same content is checked whether it comes from the
API, an import or a rollback.
"""

from dataclasses import dataclass

from app.core.errors import InvalidInput
from app.kb.models import ArticleVersion
from knowledge import Article, InvalidArticle


class InvalidArticleInput(InvalidInput):
    """An article the knowledge base refuses, naming the field."""

    def __init__(self, error: InvalidArticle) -> None:
        super().__init__(str(error), field=error.field)


@dataclass(frozen=True)
class Content:
    """What a knowledge manager writes; everything an article version holds but its bookkeeping."""

    title: str
    questions: tuple[str, ...]
    answer: str
    short_answer: str = ""
    tags: tuple[str, ...] = ()
    skill: str | None = None
    locale: str = "en"

    def checked(self, slug: str) -> "Content":
        """The content tidied (blank phrasings dropped, duplicates once), or InvalidArticleInput.

        Held to every rule of an article (knowledge.Article: the limits included) but one: a draft
        may have no answer yet (one made from unanswered questions starts that way); `publishable`
        refuses it until it has one.
        """
        questions = tuple(dict.fromkeys(q.strip() for q in self.questions if q.strip()))
        tidy = Content(
            title=self.title.strip(),
            questions=questions,
            answer=self.answer.strip(),
            short_answer=self.short_answer.strip(),
            tags=tuple(dict.fromkeys(t.strip() for t in self.tags if t.strip())),
            skill=(self.skill or "").strip() or None,
            locale=self.locale.strip() or "en",
        )
        Content(**{**tidy.__dict__, "answer": tidy.answer or "-"}).publishable(slug, version=1)
        return tidy

    def publishable(self, slug: str, version: int) -> Article:
        """The article customers would get, or InvalidArticleInput: the one check that every way
        of putting a version live (publish, rollback, import) passes through."""
        try:
            return self.as_article(slug, version)
        except InvalidArticle as exc:
            raise InvalidArticleInput(exc) from exc

    def as_article(self, slug: str, version: int) -> Article:
        return Article(
            slug=slug,
            title=self.title,
            questions=self.questions,
            answer=self.answer,
            tags=self.tags,
            skill=self.skill,
            short_answer=self.short_answer,
            locale=self.locale,
            version=version,
        )

    @classmethod
    def of_article(cls, article: Article) -> "Content":
        return cls(
            title=article.title,
            questions=article.questions,
            answer=article.answer,
            short_answer=article.short_answer,
            tags=article.tags,
            skill=article.skill,
            locale=article.locale,
        )

    @classmethod
    def of(cls, version: ArticleVersion) -> "Content":
        return cls(
            title=version.title,
            questions=tuple(version.questions),
            answer=version.answer,
            short_answer=version.short_answer,
            tags=tuple(version.tags),
            skill=version.skill,
            locale=version.locale,
        )


def summarize(before: Content, after: Content) -> str:
    """A one-line note of what changed, for the history."""
    parts = []
    added = [q for q in after.questions if q not in before.questions]
    removed = [q for q in before.questions if q not in after.questions]
    if added:
        parts.append(f"{len(added)} phrasing{'s' if len(added) > 1 else ''} added")
    if removed:
        parts.append(f"{len(removed)} phrasing{'s' if len(removed) > 1 else ''} removed")
    for name in ("title", "answer", "short_answer", "tags", "skill", "locale"):
        if getattr(before, name) != getattr(after, name):
            parts.append(f"{name.replace('_', ' ')} changed")
    return "; ".join(parts) or "no change"

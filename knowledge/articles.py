"""An FAQ article: one answer and the several ways customers ask for it."""

import re
from dataclasses import dataclass, field

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# X allows 280 characters in a public reply; the short form has to fit.
SHORT_ANSWER_MAX = 280


class InvalidArticle(ValueError):
    """An article that cannot be stored or indexed, naming the article and the field at fault."""

    def __init__(self, slug: str, field: str, problem: str) -> None:
        super().__init__(f"article {slug!r}: {field} {problem}")
        self.slug = slug
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    questions: tuple[str, ...]
    answer: str
    tags: tuple[str, ...] = field(default=())
    skill: str | None = None
    # For public replies where the full answer does not fit (X's 280 characters).
    short_answer: str = ""
    locale: str = "en"
    # Which version of the article this is; only a published version is ever indexed.
    version: int = 1

    def __post_init__(self) -> None:
        if not SLUG.match(self.slug):
            raise InvalidArticle(self.slug, "slug", "must be lowercase words and digits joined by hyphens")
        if not self.title.strip():
            raise InvalidArticle(self.slug, "title", "is empty")
        if not self.answer.strip():
            raise InvalidArticle(self.slug, "answer", "is empty")
        if not any(q.strip() for q in self.questions):
            raise InvalidArticle(self.slug, "questions", "needs at least one phrasing")
        if len(self.short_answer) > SHORT_ANSWER_MAX:
            raise InvalidArticle(
                self.slug,
                "short_answer",
                f"has {len(self.short_answer)} characters; at most {SHORT_ANSWER_MAX} fit a public reply",
            )

    @property
    def phrasings(self) -> tuple[str, ...]:
        """What the index embeds: the title reads like a question too."""
        return (self.title, *(q for q in self.questions if q.strip()))

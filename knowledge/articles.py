"""An FAQ article: one answer and the several ways customers ask for it."""

import re
from dataclasses import dataclass, field

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Limits:
    """How long an article's texts and how many its phrasings and tags may be. Every way in (the
    API, the imports, the service, the index) holds articles to these, so what one way stores the
    others can show, save and answer with."""

    slug: int = 120
    title: int = 300
    question: int = 500
    questions: int = 500
    answer: int = 20_000
    # X allows 280 characters in a public reply; the short form has to fit.
    short_answer: int = 280
    tag: int = 64
    tags: int = 50
    skill: int = 64
    locale: int = 16


LIMITS = Limits()


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
        if len(self.slug) > LIMITS.slug:
            raise InvalidArticle(self.slug[:40] + "...", "slug", _too_long(len(self.slug), LIMITS.slug))
        if not SLUG.match(self.slug):
            raise InvalidArticle(self.slug, "slug", "must be lowercase words and digits joined by hyphens")
        if not self.title.strip():
            raise InvalidArticle(self.slug, "title", "is empty")
        if not self.answer.strip():
            raise InvalidArticle(self.slug, "answer", "is empty")
        if not any(q.strip() for q in self.questions):
            raise InvalidArticle(self.slug, "questions", "needs at least one phrasing")
        if len(self.short_answer) > LIMITS.short_answer:
            raise InvalidArticle(
                self.slug,
                "short_answer",
                f"has {len(self.short_answer)} characters; at most {LIMITS.short_answer} fit a public reply",
            )
        for name, text, limit in (
            ("title", self.title, LIMITS.title),
            ("answer", self.answer, LIMITS.answer),
            ("skill", self.skill or "", LIMITS.skill),
            ("locale", self.locale, LIMITS.locale),
        ):
            if len(text) > limit:
                raise InvalidArticle(self.slug, name, _too_long(len(text), limit))
        for name, entries, count, length in (
            ("questions", self.questions, LIMITS.questions, LIMITS.question),
            ("tags", self.tags, LIMITS.tags, LIMITS.tag),
        ):
            if len(entries) > count:
                raise InvalidArticle(self.slug, name, f"has {len(entries)} entries; at most {count} are kept")
            longest = max(map(len, entries), default=0)
            if longest > length:
                raise InvalidArticle(self.slug, name, f"has an entry of {longest} characters; at most {length} fit")

    @property
    def phrasings(self) -> tuple[str, ...]:
        """What the index embeds: the title reads like a question too."""
        return (self.title, *(q for q in self.questions if q.strip()))


def _too_long(length: int, limit: int) -> str:
    return f"has {length} characters; at most {limit} fit"

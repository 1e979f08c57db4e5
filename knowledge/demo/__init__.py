"""The demo FAQ of Kestrel Outdoor, a fictional brand, used by `carebridge up` and the tests."""

from importlib import resources
from typing import Any

import yaml

from knowledge.articles import Article


def load_demo_articles() -> list[Article]:
    text = resources.files(__package__).joinpath("faq.yml").read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return [
        Article(
            slug=entry["slug"],
            title=entry["title"],
            questions=tuple(entry["questions"]),
            answer=entry["answer"].strip(),
            tags=tuple(entry.get("tags", ())),
            skill=entry.get("skill"),
        )
        for entry in document["articles"]
    ]

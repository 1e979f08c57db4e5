"""`carebridge bot faq-examples`: the bot's FAQ training examples from the knowledge base."""

import argparse
import sys
from pathlib import Path

from app.core.db import make_engine, session_factory
from app.core.settings import Settings
from app.kb.live import read_snapshot
from knowledge import Article, formats
from knowledge.demo import load_demo_articles

GENERATED = Path("data") / "nlu_faq.yml"


def add_parsers(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    bot = commands.add_parser("bot", help="the Rasa bot's training data")
    actions = bot.add_subparsers(dest="bot_command", required=True)
    faq = actions.add_parser(
        "faq-examples",
        help="write bot/data/nlu_faq.yml from the published articles' question phrasings",
        description="Rasa retrains on the next `carebridge up` (or `carebridge train`) when the file changed.",
    )
    source = faq.add_mutually_exclusive_group()
    source.add_argument("--articles", type=Path, help="read articles from a file in any import format")
    source.add_argument("--demo", action="store_true", help="use the demo knowledge base (as committed)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from app.cli import faq_examples

    try:
        articles = _articles(args, settings)
    except (OSError, ValueError) as exc:
        print(f"cannot read the articles: {exc}", file=sys.stderr)
        return 2
    target = settings.bot_dir / GENERATED
    count = faq_examples.write(articles, settings.bot_dir / "data", target)
    print(f"wrote {count} FAQ examples from {len(articles)} articles to {target}")
    return 0


def _articles(args: argparse.Namespace, settings: Settings) -> list[Article]:
    if args.demo:
        return load_demo_articles()
    if args.articles is not None:
        return [row.article for row in formats.read(args.articles, None) if row.article is not None]
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            return list(read_snapshot(session).articles)
    finally:
        engine.dispose()

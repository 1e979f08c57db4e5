"""The bot's FAQ examples follow the knowledge base: made from its phrasings by a command."""

import os
import shutil
import subprocess
from pathlib import Path

import yaml

from app.cli import faq_examples
from app.cli.background import CAREBRIDGE
from app.core.db import make_engine, migrate, session_factory, unit_of_work
from app.core.settings import DEMO_AGENT_TOKEN, PROJECT_ROOT
from app.seed import seed_demo
from knowledge import Article
from knowledge.demo import load_demo_articles

BOT = PROJECT_ROOT / "bot"


def test_the_committed_examples_are_the_demo_knowledge_base_s() -> None:
    generated = BOT / "data" / "nlu_faq.yml"
    expected = faq_examples.examples_of(load_demo_articles(), faq_examples.other_examples(BOT / "data", generated))

    assert generated.read_text() == faq_examples.render(expected)


def test_examples_leave_out_duplicates_other_intents_and_annotation_brackets() -> None:
    article = Article(
        slug="talk",
        title="Talk to us",
        questions=("I want to talk to a person", "Talk to us", "What is [the] fee?"),
        answer="...",
    )
    examples = faq_examples.examples_of([article], taken=["I WANT TO TALK TO A PERSON"])

    assert examples == ["Talk to us", "What is the fee?"]


def test_the_command_writes_the_published_articles_phrasings(tmp_path: Path) -> None:
    bot_dir = tmp_path / "bot"
    shutil.copytree(BOT / "data", bot_dir / "data")
    database = f"sqlite:///{tmp_path / 'kb.db'}"
    migrate(database)
    engine = make_engine(database)
    with unit_of_work(session_factory(engine)) as session:
        seed_demo(session=session, agent_token=DEMO_AGENT_TOKEN, fallback_team="overflow")
    engine.dispose()

    done = subprocess.run(
        [str(CAREBRIDGE), "bot", "faq-examples"],
        env={**os.environ, "CAREBRIDGE_DATABASE_URL": database, "CAREBRIDGE_BOT_DIR": str(bot_dir)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip

    assert "from 37 articles" in done.stdout
    written = yaml.safe_load((bot_dir / "data" / "nlu_faq.yml").read_text())["nlu"][0]
    assert written["intent"] == "faq"
    assert "How long does delivery take?" in written["examples"]

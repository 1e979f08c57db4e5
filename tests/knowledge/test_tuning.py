"""Fine-tuning on the knowledge base: phrasings of one article end nearer each other than to other
articles', and the exported graph embeds exactly as the tuned weights do."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.core.db import make_engine, session_factory
from app.kb import tuned_models
from knowledge import Article, OnnxEmbedder, formats, onnx, tuning

CAREBRIDGE = Path(sys.executable).parent / "carebridge"

# Two pairs of articles a general model finds alike: a card that has not come vs one that was
# declined, and a refund's state vs its amount.
ARTICLES = [
    Article(
        "card-arrival",
        "Card not arrived",
        ("my new card has not come yet", "when will my card be delivered", "still waiting for the card in the post"),
        "Cards arrive within 5 working days.",
    ),
    Article(
        "card-declined",
        "Card declined",
        ("my card was declined at the shop", "why did my card payment fail", "the card got refused at checkout"),
        "A card is declined when...",
    ),
    Article(
        "refund-status",
        "Refund status",
        ("where is my refund", "has my refund been processed", "refund still not on my account"),
        "Refunds take 3 to 5 days.",
    ),
    Article(
        "refund-amount",
        "Refund amount wrong",
        ("the refund is less than I paid", "I was refunded the wrong amount", "refund missing some money"),
        "If a refund is short...",
    ),
]


def separation(vectors: np.ndarray, owner: np.ndarray) -> float:
    """Mean similarity of phrasings of one article minus that of phrasings of different articles."""
    similarities = vectors @ vectors.T
    same = owner[:, None] == owner[None, :]
    np.fill_diagonal(same, False)
    different = owner[:, None] != owner[None, :]
    return float(similarities[same].mean() - similarities[different].mean())


@pytest.mark.slow
def test_tuning_pulls_an_articles_phrasings_together_and_the_export_keeps_it(
    tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    texts = [p for a in ARTICLES for p in a.phrasings]
    owner = np.repeat(np.arange(len(ARTICLES)), [len(a.phrasings) for a in ARTICLES])

    target = tuning.tune_to_onnx(ARTICLES, tmp_path / onnx.TUNED, tuning.Plan(steps=30, articles_per_batch=4))
    tuned = OnnxEmbedder(target)

    before, after = separation(embedder.encode(texts), owner), separation(tuned.encode(texts), owner)
    assert after > before + 0.1, f"separation {before:.3f} before tuning, {after:.3f} after"
    assert tuned.model != embedder.model
    assert np.allclose(np.linalg.norm(tuned.encode(texts), axis=1), 1.0, atol=1e-5)


def test_an_article_needs_two_phrasings_to_train_on() -> None:
    lone = Article("lone", "Lone", ("Lone",), "Only its title and the same text again.")

    assert tuning.trainable([lone, *ARTICLES[:1]]) == [list(ARTICLES[0].phrasings)]
    with pytest.raises(ValueError, match="at least two articles"):
        tuning.tune([lone, *ARTICLES[:1]], onnx.model_dir())


def test_the_plan_grows_with_the_phrasings_within_bounds() -> None:
    small = tuning.Plan.for_articles([["a", "b"]] * 3)
    large = tuning.Plan.for_articles([["q"] * 100] * 77)

    assert (small.steps, small.articles_per_batch) == (50, 3)
    assert large.articles_per_batch == 32 and 50 < large.steps <= tuning.MAX_STEPS


@pytest.mark.slow
def test_the_tune_command_writes_the_model_the_knowledge_base_then_uses(tmp_path: Path, sqlite_url: str) -> None:
    demo = tmp_path / "cards.jsonl"
    formats.write(demo, [(a, "published") for a in ARTICLES], "jsonl")
    env = {"CAREBRIDGE_DATABASE_URL": sqlite_url, "CAREBRIDGE_EMBEDDING_MODEL_DIR": str(tmp_path / "models")}
    env |= {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}

    def carebridge(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(CAREBRIDGE), *args], env=env, capture_output=True, text=True, timeout=600)

    assert carebridge("kb", "import", str(demo), "--publish").returncode == 0
    refused = carebridge("kb", "tune", "--steps", "0")
    tuned = carebridge("kb", "tune", "--steps", "5")
    assert refused.returncode == 2 and "'0' is not a whole number of steps from 1" in refused.stderr
    assert tuned.returncode == 0, tuned.stderr
    assert f"tuned on {len(ARTICLES)} published articles" in tuned.stdout
    assert "5/5 (100%)" in tuned.stderr
    assert onnx.for_knowledge(tmp_path / "models") == tmp_path / "models" / onnx.TUNED
    engine = make_engine(sqlite_url)
    recorded = tuned_models.in_force(session_factory(engine))
    assert recorded is not None and recorded.fingerprint == onnx.fingerprint(tmp_path / "models" / onnx.TUNED)

    reset = carebridge("kb", "tune", "--reset")
    again = carebridge("kb", "tune", "--reset")
    assert reset.returncode == 0 and "recorded the stock model" in reset.stdout
    assert not (tmp_path / "models" / onnx.TUNED).exists()
    after = tuned_models.in_force(session_factory(engine))
    assert after is not None and after.fingerprint is None
    assert again.returncode == 0 and "already uses the stock one" in again.stdout
    engine.dispose()


@pytest.mark.slow
def test_eval_can_tune_on_the_articles_it_is_given_first(tmp_path: Path) -> None:
    articles = tmp_path / "cards.jsonl"
    formats.write(articles, [(a, "published") for a in ARTICLES], "jsonl")
    queries = tmp_path / "queries.csv"
    queries.write_text("text,article_id\nmy card still has not turned up,card-arrival\nwhat is the time in Lima,\n")

    command = ["kb", "eval", "--articles", str(articles), "--queries", str(queries), "--json", "--tune", "--steps", "5"]
    done = subprocess.run(
        [str(CAREBRIDGE), *command],
        capture_output=True,
        text=True,
        timeout=600,
        env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "CAREBRIDGE_EMBEDDING_MODEL_DIR": str(tmp_path / "m")},
    )

    assert done.returncode == 0, done.stderr
    assert "fine-tuning on 4 articles: 5 steps" in done.stderr
    result = json.loads(done.stdout)
    assert (result["in_scope"], result["out_of_scope"], result["top1_accuracy"]) == (1, 1, 1.0)
    assert not (tmp_path / "m" / onnx.TUNED).exists(), "a trial tuning leaves the service's model alone"

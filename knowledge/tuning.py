"""Fine-tuning MiniLM on the knowledge base's own phrasings, so questions land nearer their article.

The general-purpose model places "my card has not arrived" and "when will my card be delivered"
close together, but also close to "my card was declined": it never learnt which distinctions this
brand's customers make. The published phrasings say exactly that, article by article. Training pulls
two phrasings of one article together and pushes them from every other article's phrasings in the
same batch (a contrastive loss with in-batch negatives). Each batch holds one pair per article, so
no "negative" is secretly a phrasing of the same article.

Needs PyTorch: it runs as a one-off command (`carebridge kb tune`), never in the serving process,
which loads the result as an ONNX graph like the stock model.
"""

import random
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge import onnx
from knowledge.articles import Article

Progress = Callable[[int, int], None]

# Cosine similarities scaled before the softmax, as sentence-transformers' ranking loss does.
SCALE = 20.0
LEARNING_RATE = 6e-5
WARMUP = 0.1
MAX_TOKENS = 64
# Times each phrasing is seen, on average, and the most steps a run takes whatever the size (a step
# of 32 pairs takes 2.5 to 3.5 seconds on two cores). On BANKING77 with 10 phrasings per article,
# 8 passes gave as much as 20 did; with all of them (about 100), 300 steps reach 93 percent top-1.
PASSES = 8.0
MAX_STEPS = 300


@dataclass(frozen=True)
class Plan:
    """How long to train: enough passes over the phrasings to learn, few enough to keep it general."""

    steps: int
    articles_per_batch: int

    @classmethod
    def for_articles(cls, groups: Sequence[Sequence[str]], passes: float = PASSES, batch: int = 32) -> "Plan":
        per_batch = max(2, min(batch, len(groups)))
        phrasings = sum(len(g) for g in groups)
        steps = int(passes * phrasings / (2 * per_batch))
        return cls(steps=max(50, min(steps, MAX_STEPS)), articles_per_batch=per_batch)


def trainable(articles: Sequence[Article]) -> list[list[str]]:
    """Each article's distinct phrasings; an article needs two to make a pair."""
    groups = [list(dict.fromkeys(a.phrasings)) for a in articles]
    return [g for g in groups if len(g) >= 2]


def tune(
    articles: Sequence[Article],
    source: Path,
    plan: Plan | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> Any:
    """The model in `source`, fine-tuned on `articles`; returns the transformers model, in eval mode."""
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    # Our own progress is reported through `progress`; the library's bars would only interleave.
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    groups = trainable(articles)
    if len(groups) < 2:
        raise ValueError("tuning needs at least two articles with two or more phrasings each")
    plan = plan or Plan.for_articles(groups)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    tokenizer = AutoTokenizer.from_pretrained(str(source), local_files_only=True)
    model = AutoModel.from_pretrained(str(source), local_files_only=True)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    warmup = max(1, int(plan.steps * WARMUP))

    def rate(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (plan.steps - step) / max(1, plan.steps - warmup))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)

    def embed(texts: list[str]) -> torch.Tensor:
        batch = tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
        hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=1)

    targets = torch.arange(plan.articles_per_batch)
    for step in range(plan.steps):
        chosen = rng.sample(groups, plan.articles_per_batch)
        pairs = [rng.sample(group, 2) for group in chosen]
        anchors = embed([a for a, _ in pairs])
        positives = embed([p for _, p in pairs])
        similarities = SCALE * anchors @ positives.T
        loss = (
            torch.nn.functional.cross_entropy(similarities, targets)
            + torch.nn.functional.cross_entropy(similarities.T, targets)
        ) / 2
        torch.autograd.backward(loss)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        if progress is not None:
            progress(step + 1, plan.steps)
    return model.eval()


def save(model: Any, source: Path, target: Path) -> Path:
    """Write the tuned weights with the source's tokenizer and configuration, as a model folder."""
    from transformers import AutoTokenizer

    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(target))
    AutoTokenizer.from_pretrained(str(source), local_files_only=True).save_pretrained(str(target))
    return target


def tune_to_onnx(
    articles: Sequence[Article], target: Path, plan: Plan | None = None, progress: Progress | None = None
) -> Path:
    """Tune the shipped model on `articles` and write its ONNX graph to `target`, replaced whole."""
    source = onnx.model_dir()
    model = tune(articles, source, plan, progress=progress)
    with tempfile.TemporaryDirectory(prefix="carebridge-tuned-") as folder:
        return onnx.export(target, save(model, source, Path(folder)))

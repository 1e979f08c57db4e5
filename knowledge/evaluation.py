"""How well a knowledge base answers labelled questions, at one threshold and across a sweep.

A labelled question names the article that answers it, or none when it is out of scope (then the
right thing is not to answer). The measures:

- top-1 accuracy: in-scope questions whose best article is the right one, answered or not;
- answer precision: of the answers given (confidence at or above the threshold), the share that were
  right; an answer to an out-of-scope question counts as wrong;
- coverage: in-scope questions answered;
- out-of-scope answered: out-of-scope questions answered anyway.
"""

import csv
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from knowledge.index import KnowledgeIndex

SWEEP = tuple(round(0.6 + 0.02 * step, 3) for step in range(25))
# What a threshold is suggested for: the bar for answers the bot gives on its own.
TARGET_PRECISION = 0.95
MOST_OUT_OF_SCOPE = 0.02


@dataclass(frozen=True)
class LabelledQuestion:
    text: str
    # None: out of scope.
    slug: str | None


@dataclass(frozen=True)
class AtThreshold:
    threshold: float
    precision: float
    coverage: float
    out_of_scope_answered: float
    answers: int


@dataclass
class Evaluation:
    in_scope: int
    out_of_scope: int
    top1_accuracy: float
    at_threshold: AtThreshold
    sweep: list[AtThreshold] = field(default_factory=list)
    # The threshold that would have answered most of these questions within the targets, if any does.
    suggested: AtThreshold | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Outcome:
    """The best article for one question and how sure an answer with it would be."""

    expected: str | None
    best: str | None
    score: float


def read_questions(path: Path, known: set[str]) -> tuple[list[LabelledQuestion], list[tuple[str, str]]]:
    """Questions from a CSV with columns text,article_id; returns them and the problems by line."""
    questions: list[LabelledQuestion] = []
    problems: list[tuple[str, str]] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not {"text", "article_id"} <= set(reader.fieldnames or []):
            return [], [("line 1", "the header needs the columns text,article_id")]
        for fields in reader:
            where = f"line {reader.line_num}"
            text = (fields.get("text") or "").strip()
            slug = (fields.get("article_id") or "").strip() or None
            if not text:
                problems.append((where, "text is empty"))
            elif slug is not None and slug not in known:
                problems.append((where, f"article_id {slug!r} is not among the articles"))
            else:
                questions.append(LabelledQuestion(text, slug))
    return questions, problems


def outcomes(index: KnowledgeIndex, questions: Sequence[LabelledQuestion], batch: int = 256) -> list[Outcome]:
    found: list[Outcome] = []
    for start in range(0, len(questions), batch):
        chunk = questions[start : start + batch]
        for question, matches in zip(chunk, index.search_many([q.text for q in chunk], limit=1), strict=True):
            best = matches[0] if matches else None
            found.append(Outcome(question.slug, best.article.slug if best else None, best.confidence if best else 0.0))
    return found


def at(threshold: float, results: Sequence[Outcome]) -> AtThreshold:
    in_scope = [r for r in results if r.expected is not None]
    out_of_scope = [r for r in results if r.expected is None]
    answered = [r for r in results if r.best is not None and r.score >= threshold]
    right = [r for r in answered if r.best == r.expected]
    answered_in_scope = [r for r in answered if r.expected is not None]
    return AtThreshold(
        threshold=threshold,
        precision=len(right) / len(answered) if answered else 1.0,
        coverage=len(answered_in_scope) / len(in_scope) if in_scope else 0.0,
        out_of_scope_answered=(len(answered) - len(answered_in_scope)) / len(out_of_scope) if out_of_scope else 0.0,
        answers=len(answered),
    )


def suggest(
    results: Sequence[Outcome], precision: float = TARGET_PRECISION, out_of_scope: float = MOST_OUT_OF_SCOPE
) -> AtThreshold | None:
    """The lowest threshold whose answers are at least `precision` right and include at most
    `out_of_scope` of the out-of-scope questions; a lower threshold answers everything a higher one
    does, so this one answers the most in-scope questions. None when no threshold gets there.

    Chosen in hindsight on these very questions: a knowledge manager should check it on others."""
    answerable = sorted((r for r in results if r.best is not None), key=lambda r: -r.score)
    in_scope_total = sum(r.expected is not None for r in results)
    out_total = len(results) - in_scope_total
    answered = right = out_answered = 0
    lowest: float | None = None
    for position, result in enumerate(answerable):
        answered += 1
        right += result.best == result.expected
        out_answered += result.expected is None
        # Only where the scores step down: a threshold takes every question at its score or over.
        if position + 1 < len(answerable) and answerable[position + 1].score == result.score:
            continue
        if right / answered >= precision and (not out_total or out_answered / out_total <= out_of_scope):
            lowest = result.score
    return at(lowest, results) if lowest is not None else None


def evaluate(results: Sequence[Outcome], threshold: float, sweep: Sequence[float] = SWEEP) -> Evaluation:
    in_scope = [r for r in results if r.expected is not None]
    return Evaluation(
        in_scope=len(in_scope),
        out_of_scope=len(results) - len(in_scope),
        top1_accuracy=sum(r.best == r.expected for r in in_scope) / len(in_scope) if in_scope else 0.0,
        at_threshold=at(threshold, results),
        sweep=[at(t, results) for t in sweep],
        suggested=suggest(results),
    )


def report(evaluation: Evaluation) -> str:
    """The evaluation as a person reads it."""
    chosen = evaluation.at_threshold
    lines = [
        f"questions: {evaluation.in_scope} in scope, {evaluation.out_of_scope} out of scope",
        f"top-1 accuracy (in scope): {evaluation.top1_accuracy:.1%}",
        f"at threshold {chosen.threshold:.3f}: answer precision {chosen.precision:.1%}, "
        f"coverage {chosen.coverage:.1%}, out-of-scope answered {chosen.out_of_scope_answered:.1%}",
        _suggestion(evaluation.suggested),
        "",
        "threshold  precision  coverage  out-of-scope answered",
    ]
    lines += [
        f"{s.threshold:9.3f}  {s.precision:9.1%}  {s.coverage:8.1%}  {s.out_of_scope_answered:21.1%}"
        for s in evaluation.sweep
    ]
    return "\n".join(lines)


def _suggestion(suggested: AtThreshold | None) -> str:
    bar = (
        f"answer precision {TARGET_PRECISION:.0%} with at most {MOST_OUT_OF_SCOPE:.0%} of out-of-scope questions "
        "answered"
    )
    if suggested is None:
        return f"no threshold reaches {bar} on these questions"
    # Rounded up: a threshold rounded down would also answer what the suggestion leaves out.
    shown = math.ceil(suggested.threshold * 1000 - 1e-9) / 1000
    return (
        f"suggested threshold {shown:.3f}, the lowest to reach {bar} on these questions: "
        f"coverage {suggested.coverage:.1%}, precision {suggested.precision:.1%}, "
        f"out-of-scope answered {suggested.out_of_scope_answered:.1%}"
    )

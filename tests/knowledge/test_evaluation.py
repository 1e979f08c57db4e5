"""The quality measures, computed on outcomes whose right answers are known."""

import json
import subprocess
import sys
from pathlib import Path

from knowledge import formats
from knowledge.demo import load_demo_articles
from knowledge.evaluation import Outcome, at, evaluate, report, suggest

CAREBRIDGE = Path(sys.executable).parent / "carebridge"

OUTCOMES = [
    Outcome("refunds", "refunds", 0.9),  # right, answered
    Outcome("refunds", "hours", 0.8),  # wrong, answered
    Outcome("hours", "hours", 0.5),  # right, not answered at 0.6
    Outcome(None, "hours", 0.7),  # out of scope, answered (wrong)
    Outcome(None, "refunds", 0.4),  # out of scope, declined
]


def test_measures_at_one_threshold() -> None:
    measured = at(0.6, OUTCOMES)

    assert measured.answers == 3
    assert measured.precision == 1 / 3
    assert measured.coverage == 2 / 3
    assert measured.out_of_scope_answered == 1 / 2


def test_top1_counts_in_scope_questions_whatever_the_threshold() -> None:
    evaluation = evaluate(OUTCOMES, threshold=0.95, sweep=[0.3, 0.85])

    assert evaluation.top1_accuracy == 2 / 3
    assert (evaluation.in_scope, evaluation.out_of_scope) == (3, 2)
    assert evaluation.at_threshold.answers == 0 and evaluation.at_threshold.precision == 1.0
    assert [s.answers for s in evaluation.sweep] == [5, 1]


def test_the_suggested_threshold_is_the_lowest_within_the_targets() -> None:
    # Scores 0.9 right, 0.8 wrong, 0.7 out of scope, 0.5 right, 0.4 out of scope.
    assert suggest(OUTCOMES) == at(0.9, OUTCOMES)
    assert suggest(OUTCOMES, precision=0.5) == at(0.8, OUTCOMES)
    # 0.5 answers half right, but also one of the two out-of-scope questions.
    assert suggest(OUTCOMES, precision=0.5, out_of_scope=0.5) == at(0.5, OUTCOMES)
    assert suggest([Outcome("a", "b", 0.9), Outcome(None, "a", 0.8)]) is None


def test_questions_with_the_same_score_are_answered_together() -> None:
    tied = [Outcome("a", "a", 0.9), Outcome("a", "b", 0.7), Outcome("b", "b", 0.7)]

    # At 0.7 both tied answers count: 2 of 3 right, under the target; 0.9 stays the suggestion.
    assert suggest(tied, precision=0.9) == at(0.9, tied)
    assert suggest(tied, precision=0.6) == at(0.7, tied)


def test_the_report_says_when_no_threshold_reaches_the_targets() -> None:
    reached = report(evaluate(OUTCOMES, threshold=0.6, sweep=()))
    missed = report(evaluate([Outcome("a", "b", 0.9)], threshold=0.6, sweep=()))

    assert "suggested threshold 0.900, the lowest to reach answer precision 95%" in reached
    assert "coverage 33.3%" in reached
    assert "no threshold reaches answer precision 95%" in missed
    # Rounded up, never down: 0.873 would also answer the question at 0.8731, which is wrong.
    close = [Outcome("a", "a", 0.87349), Outcome("a", "b", 0.8731)]
    assert "suggested threshold 0.874," in report(evaluate(close, threshold=0.6, sweep=()))


def test_the_eval_command_reads_any_format_and_prints_json(tmp_path: Path) -> None:
    articles = tmp_path / "kb.jsonl"
    formats.write(articles, [(a, "published") for a in load_demo_articles()], "jsonl")
    queries = tmp_path / "queries.csv"
    queries.write_text(
        "text,article_id\n"
        "how long until my money is back on my card,refund-time\n"
        "I can't remember my password,reset-password\n"
        "what's the capital of Peru,\n"
        "something,no-such-article\n"
    )

    done = subprocess.run(
        [str(CAREBRIDGE), "kb", "eval", "--articles", str(articles), "--queries", str(queries), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"},
    )

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["in_scope"], result["out_of_scope"], result["top1_accuracy"]) == (2, 1, 1.0)
    assert result["at_threshold"]["out_of_scope_answered"] == 0.0
    assert len(result["sweep"]) == 25
    assert result["suggested"]["precision"] >= 0.95 and result["suggested"]["out_of_scope_answered"] == 0.0
    assert "queries.csv, line 5: article_id 'no-such-article' is not among the articles" in done.stderr
    untrained = subprocess.run(
        [str(CAREBRIDGE), "kb", "eval", "--articles", str(articles), "--queries", str(queries), "--steps", "5"],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"},
    )
    assert untrained.returncode == 2 and "--steps is for --tune" in untrained.stderr

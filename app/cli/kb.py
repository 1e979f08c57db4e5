"""`carebridge kb import|export|eval|tune`: the knowledge base from and to files, its answer quality,
and the embedding model fine-tuned on it."""

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

from sqlmodel import col, select

from app.core.db import SessionFactory, make_engine, session_factory, unit_of_work
from app.core.settings import Settings
from app.kb import publishing, tuned_models
from app.kb.importer import import_rows
from app.kb.models import ArticleRecord, ArticleVersion
from knowledge import Article, KnowledgeIndex, OnnxEmbedder, formats, onnx, tuning
from knowledge import evaluation as quality


def add_parsers(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    kb = commands.add_parser("kb", help="import, export or evaluate the knowledge base")
    actions = kb.add_subparsers(dest="kb_command", required=True)
    load = actions.add_parser("import", help="add or update articles from a file or a folder of .md files")
    load.add_argument("path", type=Path)
    load.add_argument("--format", choices=formats.FORMATS, help="guessed from the name if not given")
    load.add_argument("--publish", action="store_true", help="publish every imported article")
    save = actions.add_parser("export", help="write every article (newest version, with its status)")
    save.add_argument("path", type=Path)
    save.add_argument("--format", choices=formats.FORMATS)
    check = actions.add_parser("eval", help="answer quality on labelled questions")
    check.add_argument("--articles", type=Path, required=True, help="articles in any import format")
    check.add_argument("--queries", type=Path, required=True, help="CSV with columns text,article_id")
    check.add_argument("--threshold", type=float, help="default: the service's CAREBRIDGE_KB_ANSWER_THRESHOLD")
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    check.add_argument("--tune", action="store_true", help="fine-tune the model on these articles first")
    check.add_argument("--steps", type=steps, help="with --tune: training steps (default: from the phrasings)")
    tune = actions.add_parser(
        "tune", help="fine-tune the embedding model on the published phrasings (a running service takes it up)"
    )
    tune.add_argument("--passes", type=float, default=tuning.PASSES, help="times each phrasing is seen, on average")
    tune.add_argument("--steps", type=steps, help="training steps, whatever the passes: a quicker, rougher run")
    tune.add_argument("--reset", action="store_true", help="remove the tuned model: answer with the stock one")


def steps(text: str) -> int:
    """A count of training steps, refused by argparse with a reason unless it is a whole number from 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of steps from 1")
    return int(text)


class ProgressBar:
    """A one-line progress bar on a terminal, a line per tenth elsewhere."""

    def __init__(self, total: int, out: TextIO = sys.stderr, width: int = 30) -> None:
        self._total = max(total, 1)
        self._out = out
        self._width = width
        self._started = time.monotonic()
        self._shown = -1

    def __call__(self, done: int) -> None:
        share = min(done / self._total, 1.0)
        if self._out.isatty():
            filled = round(share * self._width)
            bar = "#" * filled + "." * (self._width - filled)
            self._out.write(f"\r[{bar}] {done}/{self._total} ({time.monotonic() - self._started:.0f} s)")
            if done >= self._total:
                self._out.write("\n")
        elif int(share * 10) > self._shown:
            self._shown = int(share * 10)
            self._out.write(f"{done}/{self._total} ({share:.0%})\n")
        self._out.flush()


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.kb_command == "eval":
        return evaluate(args, settings)
    engine = make_engine(settings.database_url)
    open_session = session_factory(engine)
    try:
        if args.kb_command == "import":
            return load(args, open_session)
        if args.kb_command == "tune":
            return reset(open_session, settings) if args.reset else tune(args, open_session, settings)
        return save(args, open_session)
    finally:
        engine.dispose()


def load(args: argparse.Namespace, open_session: SessionFactory) -> int:
    try:
        rows = list(formats.read(args.path, args.format))
    except (OSError, ValueError) as exc:
        print(f"cannot read {args.path}: {exc}", file=sys.stderr)
        return 2
    readable = len({row.article.slug for row in rows if row.article is not None})
    print(f"importing {readable} articles from {args.path}", file=sys.stderr)
    report = import_rows(open_session, rows, publish=args.publish, author=None, progress=ProgressBar(readable))
    for where, problem in report.problems:
        print(f"{args.path.name}, {where}: {problem}", file=sys.stderr)
    print(
        f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.published} published, {len(report.problems)} refused"
    )
    return 1 if report.problems else 0


def save(args: argparse.Namespace, open_session: SessionFactory) -> int:
    fmt = args.format or formats.guess_format(args.path)
    with unit_of_work(open_session) as session:
        statement = select(ArticleRecord, ArticleVersion).join(
            ArticleVersion,
            (col(ArticleVersion.slug) == ArticleRecord.slug)
            & (col(ArticleVersion.version) == ArticleRecord.current_version),
        )
        found = list(session.exec(statement.order_by(col(ArticleRecord.slug))))
    rows: list[tuple[Article, str]] = []
    unanswered = left_out = 0
    for record, version in found:
        if not version.answer:
            unanswered += 1
            continue
        article = publishing.stored_article(version)
        if isinstance(article, publishing.Refused):
            # Stored before a check existed, or by hand: the file would not import again.
            print(f"left out {article.slug!r} version {article.version}: {article.problem}", file=sys.stderr)
            left_out += 1
        else:
            rows.append((article, str(record.status)))
    written = formats.write(args.path, rows, fmt)
    print(
        f"{written} articles written to {args.path}"
        + (f"; {unanswered} drafts without an answer left out" if unanswered else "")
    )
    return 1 if left_out else 0


def evaluate(args: argparse.Namespace, settings: Settings) -> int:
    if args.steps is not None and not args.tune:
        print("--steps is for --tune: without it nothing is trained", file=sys.stderr)
        return 2
    rows = list(formats.read(args.articles))
    problems = [(row.where, row.error) for row in rows if row.article is None]
    for where, problem in problems:
        print(f"{args.articles.name}, {where}: {problem}", file=sys.stderr)
    loaded = [row.article for row in rows if row.article is not None]
    questions, question_problems = quality.read_questions(args.queries, {a.slug for a in loaded})
    for where, problem in question_problems:
        print(f"{args.queries.name}, {where}: {problem}", file=sys.stderr)
    if not loaded or not questions:
        print("nothing to evaluate: no readable articles or questions", file=sys.stderr)
        return 2
    if args.tune:
        with tempfile.TemporaryDirectory(prefix="carebridge-eval-") as folder:
            model = tuned_model(loaded, Path(folder) / onnx.TUNED, tuning.PASSES, args.steps)
            if model is None:
                return 2
            embedder = OnnxEmbedder(model)
    else:
        embedder = OnnxEmbedder(onnx.for_knowledge(settings.embedding_model_dir))
    index = KnowledgeIndex(embedder, loaded)
    threshold = settings.kb_answer_threshold if args.threshold is None else args.threshold
    result = quality.evaluate(quality.outcomes(index, questions), threshold)
    print(json.dumps(result.as_dict(), indent=2) if args.json else quality.report(result))
    return 0


def tune(args: argparse.Namespace, open_session: SessionFactory, settings: Settings) -> int:
    with unit_of_work(open_session) as session:
        found = publishing.published_articles(session=session)
    for refused in found.refused:
        print(f"left out {refused.slug!r} version {refused.version}: {refused.problem}", file=sys.stderr)
    published = found.articles
    target = onnx.tuned(settings.embedding_model_dir)
    started = time.monotonic()
    # Made aside, recorded, and only then put where this host's service looks: a service that
    # follows the database meanwhile never finds a graph the database does not hold.
    with tempfile.TemporaryDirectory(prefix="carebridge-tune-") as folder:
        made = tuned_model(published, Path(folder) / onnx.TUNED, args.passes, args.steps)
        if made is None:
            return 2
        graph = made.read_bytes()
    with unit_of_work(open_session) as session:
        choice = tuned_models.record_tuned(session=session, graph=graph)
    tuned_models.install(graph, target)
    print(
        f"tuned on {len(published)} published articles in {time.monotonic() - started:.0f} s; "
        f"recorded as model {choice.fingerprint} and written to {target}. Every running service sharing the "
        "database answers with it within seconds (it embeds every phrasing again first); "
        "`carebridge kb tune --reset` undoes it."
    )
    return 0


def tuned_model(published: list[Article], target: Path, passes: float, steps: int | None = None) -> Path | None:
    """Fine-tune on `published` into `target`, with a progress bar; None (and why) if it cannot."""
    groups = tuning.trainable(published)
    if len(groups) < 2:
        print("tuning needs at least two published articles with two or more phrasings each", file=sys.stderr)
        return None
    plan = tuning.Plan.for_articles(groups, passes=passes)
    if steps is not None:
        plan = dataclasses.replace(plan, steps=steps)
    print(f"fine-tuning on {len(groups)} articles: {plan.steps} steps", file=sys.stderr)
    bar = ProgressBar(plan.steps)
    return tuning.tune_to_onnx(published, target, plan, progress=lambda done, _total: bar(done))


def reset(open_session: SessionFactory, settings: Settings) -> int:
    """Records the stock model, so every instance goes back to it, whatever its own folder holds."""
    was = tuned_models.in_force(open_session)
    if was is None or was.fingerprint is not None:
        with unit_of_work(open_session) as session:
            tuned_models.record_stock(session=session)
    onnx.tuned(settings.embedding_model_dir).unlink(missing_ok=True)
    if was is not None and was.fingerprint is None:
        print("no tuned model: the knowledge base already uses the stock one")
    else:
        print("recorded the stock model: every running service sharing the database goes back to it within seconds.")
    return 0

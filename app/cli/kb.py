"""`carebridge kb import|export|eval`: the knowledge base from and to files, and its answer quality."""

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TextIO

from sqlmodel import col, select

from app.db import SessionFactory, make_engine, session_factory, unit_of_work
from app.kb import service as articles
from app.kb.importer import import_rows
from app.kb.models import ArticleRecord, ArticleVersion
from app.settings import Settings
from knowledge import KnowledgeIndex, OnnxEmbedder, formats, onnx
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
    rows = [
        (articles.Content.of(version).as_article(record.slug, version.version), str(record.status))
        for record, version in found
        if version.answer
    ]
    written = formats.write(args.path, rows, fmt)
    unanswered = len(found) - len(rows)
    print(
        f"{written} articles written to {args.path}"
        + (f"; {unanswered} drafts without an answer left out" if unanswered else "")
    )
    return 0


def evaluate(args: argparse.Namespace, settings: Settings) -> int:
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
    index = KnowledgeIndex(OnnxEmbedder(onnx.prepared(settings.embedding_model_dir)), loaded)
    threshold = settings.kb_answer_threshold if args.threshold is None else args.threshold
    result = quality.evaluate(quality.outcomes(index, questions), threshold)
    print(json.dumps(result.as_dict(), indent=2) if args.json else quality.report(result))
    return 0

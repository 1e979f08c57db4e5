"""Articles from and to files: every good row in, every bad one named with its place, nothing half-written."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session

from app.core.db import SessionFactory, make_engine, session_factory, unit_of_work
from app.kb import articles
from app.kb.importer import import_rows
from knowledge import formats
from knowledge.demo import load_demo_articles

CAREBRIDGE = Path(sys.executable).parent / "carebridge"


def command_env(database_url: str) -> dict[str, str]:
    """Only the database from the settings; PYTHONPATH kept, so the command runs the code under test."""
    return {
        "CAREBRIDGE_DATABASE_URL": database_url,
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }


@pytest.fixture
def open_session(sqlite_url: str) -> SessionFactory:
    return session_factory(make_engine(sqlite_url))


def stored(session: Session) -> dict[str, tuple[str, tuple[str, ...], str, str | None]]:
    return {
        record.slug: (version.title, tuple(version.questions), version.answer, version.skill)
        for record, version in articles.listing(session=session)
    }


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_every_format_carries_articles_there_and_back(
    fmt: formats.Format, tmp_path: Path, open_session: SessionFactory
) -> None:
    demo = load_demo_articles()
    path = tmp_path / ("articles" if fmt == "md" else f"articles.{fmt}")
    formats.write(path, [(a, "published") for a in demo], fmt)

    report = import_rows(open_session, formats.read(path), publish=False, author=None)

    assert (report.created, report.published, report.problems) == (len(demo), len(demo), [])
    with open_session() as session:
        assert stored(session) == {a.slug: (a.title, a.questions, a.answer, a.skill) for a in demo}
    again = import_rows(open_session, formats.read(path), publish=False, author=None)
    assert (again.created, again.updated, again.unchanged, again.published) == (0, 0, len(demo), 0)


def test_bad_json_lines_are_named_and_the_good_ones_imported(tmp_path: Path, open_session: SessionFactory) -> None:
    path = tmp_path / "mixed.jsonl"
    good = {"slug": "good", "title": "Good", "questions": ["q?"], "answer": "A."}
    path.write_text(
        "\n".join(
            [
                json.dumps(good),
                json.dumps({**good, "slug": "Bad Slug"}),
                "{not json",
                json.dumps({**good, "title": "again"}),
                json.dumps({**good, "slug": "long", "short_answer": "x" * 281}),
                json.dumps(["a", "list"]),
                json.dumps({**good, "slug": "odd-status", "status": "live"}),
            ]
        )
    )

    report = import_rows(open_session, formats.read(path), publish=False, author=None)

    assert report.created == 1
    assert report.problems == [
        ("line 2", "slug must be lowercase words and digits joined by hyphens"),
        ("line 3", "not JSON: Expecting property name enclosed in double quotes at column 2"),
        ("line 4", "slug 'good' appears again (first at line 1)"),
        ("line 5", "short_answer has 281 characters; at most 280 fit a public reply"),
        ("line 6", "expected an object, got list"),
        ("line 7", "status 'live' is not one of draft, in_review, published, archived"),
    ]


def test_csv_rows_are_named_by_the_line_they_start_on(tmp_path: Path, open_session: SessionFactory) -> None:
    path = tmp_path / "articles.csv"
    path.write_text('slug,title,questions,answer\nfirst,First,"one\ntwo\nthree",A.\nsecond,,q,A.\n')

    report = import_rows(open_session, formats.read(path), publish=False, author=None)

    assert report.problems == [("line 5", "title is empty")]
    (header_only := tmp_path / "wrong.csv").write_text("name,text\nx,y\n")
    assert [row.error for row in formats.read(header_only)] == [
        "the header lacks the columns answer, questions, slug, title"
    ]


def test_imports_hold_articles_to_the_limits_the_api_does(tmp_path: Path, open_session: SessionFactory) -> None:
    """An imported article the /kb page could not save again was created before."""
    good = {"slug": "good", "title": "Good", "questions": ["q?"], "answer": "A."}
    path = tmp_path / "large.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps(good),
                json.dumps({**good, "slug": "huge", "answer": "x" * 1_000_000}),
                json.dumps({**good, "slug": "many", "questions": [f"phrasing {n}" for n in range(3000)]}),
                json.dumps({**good, "slug": "tagged", "tags": [f"tag-{n}" for n in range(51)]}),
                json.dumps({**good, "slug": "last"}),
            ]
        )
    )

    report = import_rows(open_session, formats.read(path), publish=True, author=None)

    assert report.problems == [
        ("line 2", "answer has 1000000 characters; at most 20000 fit"),
        ("line 3", "questions has 3000 entries; at most 500 are kept"),
        ("line 4", "tags has 51 entries; at most 50 are kept"),
    ]
    with open_session() as session:
        assert set(stored(session)) == {"good", "last"}


def test_deeply_nested_or_unreadable_json_lines_are_row_errors(tmp_path: Path, open_session: SessionFactory) -> None:
    good = {"slug": "good", "title": "Good", "questions": ["q?"], "answer": "A."}
    path = tmp_path / "hostile.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps(good),
                "[" * 100_000 + "]" * 100_000,
                '{"slug": "nested", "title": ' + "[" * 500 + "]" * 500 + "}",
                '{"slug": "listed", "title": "T", "answer": "A.", "questions": [["q"]]}',
                '{"slug": "number", "title": ' + "1" * 5000 + "}",
                '{"slug": "half", "title": "T", "answer": "A.", "questions": ["q\\ud800"]}',
                json.dumps({**good, "slug": "last"}),
            ]
        )
    )

    report = import_rows(open_session, formats.read(path), publish=True, author=None)

    assert report.problems == [
        ("line 2", "not an article: nested too deeply to read"),
        ("line 3", "title: expected text, got list"),
        ("line 4", "questions: expected a list of texts, got a list holding more than text"),
        ("line 5", "not readable: Exceeds the limit (4300 digits) for integer string conversion"),
        ("line 6", "questions: character 2 ('\\ud800') is half a surrogate pair, not text"),
    ]
    with open_session() as session:
        assert set(stored(session)) == {"good", "last"}


def test_a_csv_cell_over_the_csv_modules_limit_is_that_rows_error(tmp_path: Path, sqlite_url: str) -> None:
    """Python's csv module stops at a cell of 131,072 characters; the command named no row then,
    printed a traceback and imported nothing."""
    path = tmp_path / "big.csv"
    many = "\n".join(f"phrasing {n}" for n in range(3000))
    path.write_text(
        "slug,title,questions,answer\n"
        "first,First,q,A.\n"
        f'huge,Huge,q,"{"x" * 140_000}"\n'
        f'many,Many,"{many}",A.\n'
        "last,Last,q,A.\n"
    )

    done = subprocess.run(
        [str(CAREBRIDGE), "kb", "import", str(path)],
        env=command_env(sqlite_url),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert "Traceback" not in done.stderr
    assert done.returncode == 1
    assert "big.csv, line 3: answer has 140000 characters; at most 20000 fit" in done.stderr
    assert "big.csv, line 4: questions has 3000 entries; at most 500 are kept" in done.stderr
    assert done.stdout.strip() == "2 created, 0 updated, 0 unchanged, 0 published, 2 refused"


def test_export_leaves_out_a_stored_version_over_the_limits_and_names_it(tmp_path: Path, sqlite_url: str) -> None:
    """Imports before the limits created such versions; exporting them wrote a file that would not import."""
    open_session = session_factory(make_engine(sqlite_url))
    source = tmp_path / "in.jsonl"
    formats.write(source, [(a, "published") for a in load_demo_articles()[:2]], "jsonl")
    import_rows(open_session, formats.read(source), publish=False, author=None)
    first = load_demo_articles()[0].slug
    with unit_of_work(open_session) as session:
        stored_version = articles.version(session=session, slug=first, number=1)
        stored_version.answer = "x" * 1_000_000
        session.add(stored_version)

    done = subprocess.run(
        [str(CAREBRIDGE), "kb", "export", str(tmp_path / "out.jsonl")],
        env=command_env(sqlite_url),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert "Traceback" not in done.stderr
    assert done.returncode == 1
    assert f"left out {first!r} version 1: answer has 1000000 characters; at most 20000 fit" in done.stderr
    assert done.stdout.startswith("1 articles written")


def test_markdown_files_without_front_matter_are_named(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text('---\ntitle: Good\nquestions: ["q?"]\n---\nThe answer.\n')
    (tmp_path / "plain.md").write_text("Just text\n")
    (tmp_path / "open.md").write_text("---\ntitle: x\n")
    (tmp_path / "deep.md").write_text("---\ntitle: " + "[" * 5000 + "]" * 5000 + "\n---\nThe answer.\n")

    rows = {row.where: row for row in formats.read(tmp_path)}

    assert rows["good.md"].article is not None and rows["good.md"].article.slug == "good"
    assert rows["plain.md"].error == "has no front matter (a first line of ---)"
    assert rows["open.md"].error == "front matter is not closed by a line of ---"
    assert rows["deep.md"].error == "front matter is nested too deeply to read"


@pytest.mark.postgres
def test_an_article_the_database_refuses_halfway_leaves_nothing_behind(tmp_path: Path, postgres_url: str) -> None:
    """PostgreSQL refuses text with a NUL character: the article's head row is written before its
    version row fails, and the savepoint takes the head row back out."""
    open_session = session_factory(make_engine(postgres_url))
    path = tmp_path / "articles.jsonl"
    path.write_text(
        json.dumps({"slug": "fine", "title": "Fine", "questions": ["q"], "answer": "A."})
        + "\n"
        + json.dumps({"slug": "broken", "title": "Broken", "questions": ["q"], "answer": "A\u0000B"})
    )

    report = import_rows(open_session, formats.read(path), publish=True, author=None)

    assert [where for where, _ in report.problems] == ["line 2"]
    assert "the database refused it" in report.problems[0][1]
    with open_session() as session:
        assert set(stored(session)) == {"fine"}
        assert articles.count(session=session) == 1, "no head row without a version"


def test_the_command_shows_progress_and_names_problems(tmp_path: Path, sqlite_url: str) -> None:
    path = tmp_path / "many.jsonl"
    lines = [json.dumps({"slug": f"a-{n}", "title": f"T {n}", "questions": ["q"], "answer": "A."}) for n in range(450)]
    path.write_text("\n".join([*lines, "oops"]))

    done = subprocess.run(
        [str(CAREBRIDGE), "kb", "import", str(path), "--publish"],
        env=command_env(sqlite_url),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 1
    assert "450/450 (100%)" in done.stderr
    assert "many.jsonl, line 451: not JSON" in done.stderr
    assert done.stdout.strip() == "450 created, 0 updated, 0 unchanged, 450 published, 1 refused"

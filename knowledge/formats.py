"""Articles in and out of files: CSV, JSON Lines, and a folder of Markdown files with front matter.

Reading never stops at a bad row: every row comes back either as an article or as the reason it is
not one, with the line (or file) where it stands, so an import can take the good ones and report
the others.

CSV columns: slug, title, questions (one per line in the cell), answer, short_answer, tags (comma
separated), skill, locale, status. JSON Lines: one object per line with the same keys, questions
and tags as lists. Markdown: one `<slug>.md` per article, the answer as the body, everything else in
YAML front matter between `---` lines (the slug defaults to the file name).
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from knowledge.articles import Article, InvalidArticle

Format = Literal["csv", "jsonl", "md"]
FORMATS: tuple[Format, ...] = ("csv", "jsonl", "md")
STATUSES = ("draft", "in_review", "published", "archived")
CSV_COLUMNS = ("slug", "title", "questions", "answer", "short_answer", "tags", "skill", "locale", "status")


@dataclass(frozen=True)
class Row:
    """One article read from a file, or why it could not be read; `where` is "line 12" or a file name."""

    where: str
    article: Article | None = None
    status: str | None = None
    error: str | None = None


def guess_format(path: Path) -> Format:
    if path.is_dir():
        return "md"
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("csv", "jsonl"):
        return suffix  # type: ignore[return-value]
    if suffix == "ndjson":
        return "jsonl"
    raise ValueError(f"cannot tell the format of {path.name!r}: use .csv, .jsonl or a folder of .md files")


def read(path: Path, fmt: Format | None = None) -> Iterator[Row]:
    fmt = fmt or guess_format(path)
    if fmt == "csv":
        yield from _read_csv(path)
    elif fmt == "jsonl":
        yield from _read_jsonl(path)
    else:
        yield from _read_markdown(path)


def _row(where: str, fields: dict[str, Any]) -> Row:
    """Build the article from loosely typed fields, turning every problem into a reason."""
    try:
        slug = _text(fields, "slug")
        if not slug:
            return Row(where, error="slug is missing")
        status = _text(fields, "status") or None
        if status is not None and status not in STATUSES:
            return Row(where, error=f"status {status!r} is not one of {', '.join(STATUSES)}")
        article = Article(
            slug=slug,
            title=_text(fields, "title"),
            questions=tuple(_strings(fields, "questions", "\n")),
            answer=_text(fields, "answer"),
            short_answer=_text(fields, "short_answer"),
            tags=tuple(_strings(fields, "tags", ",")),
            skill=_text(fields, "skill") or None,
            locale=_text(fields, "locale") or "en",
        )
    except InvalidArticle as exc:
        return Row(where, error=f"{exc.field} {exc.problem}")
    except (TypeError, ValueError) as exc:
        return Row(where, error=str(exc))
    return Row(where, article=article, status=status)


# What a file may hold where text is expected: numbers read as text, nothing nested.
SCALARS = (str, int, float, bool)


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    if value is None:
        return ""
    if not isinstance(value, SCALARS):
        raise TypeError(f"{name}: expected text, got {type(value).__name__}")
    return _unicode(name, str(value)).strip()


def _unicode(name: str, text: str) -> str:
    """`text` if it is Unicode text; JSON's escapes can spell half a surrogate pair, which no
    database takes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{name}: character {exc.start + 1} ({text[exc.start]!r}) is half a surrogate pair, not text"
        ) from None
    return text


def _strings(fields: dict[str, Any], name: str, separator: str) -> list[str]:
    value = fields.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in _unicode(name, value).split(separator) if part.strip()]
    if isinstance(value, list):
        if not all(isinstance(part, SCALARS) for part in value):
            raise TypeError(f"{name}: expected a list of texts, got a list holding more than text")
        return [_unicode(name, str(part)).strip() for part in value if str(part).strip()]
    raise TypeError(f"{name}: expected text or a list, got {type(value).__name__}")


def _read_csv(path: Path) -> Iterator[Row]:
    # The csv module refuses a cell over 131,072 characters by default, and after refusing one it
    # cannot tell where the next row starts. A cell can be no larger than its file, so allowing that
    # reads every row whole; the article's limits then refuse an oversized cell as that row's error.
    csv.field_size_limit(max(csv.field_size_limit(), min(path.stat().st_size, 2**31 - 1)))
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"slug", "title", "questions", "answer"} - set(reader.fieldnames or [])
        if missing:
            yield Row("line 1", error=f"the header lacks the columns {', '.join(sorted(missing))}")
            return
        for fields in reader:
            # The line where the row starts: a quoted cell may span several lines.
            yield _row(f"line {reader.line_num - _extra_lines(fields)}", fields)


def _extra_lines(fields: dict[str, Any]) -> int:
    return sum(str(value).count("\n") for value in fields.values() if value)


def _read_jsonl(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                fields = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Row(f"line {number}", error=f"not JSON: {exc.msg} at column {exc.colno}")
                continue
            except RecursionError:
                yield Row(f"line {number}", error="not an article: nested too deeply to read")
                continue
            except ValueError as exc:
                # Python refuses to read an integer of more than 4,300 digits.
                yield Row(f"line {number}", error=f"not readable: {str(exc).partition(':')[0]}")
                continue
            if not isinstance(fields, dict):
                yield Row(f"line {number}", error=f"expected an object, got {type(fields).__name__}")
                continue
            yield _row(f"line {number}", fields)


def _read_markdown(folder: Path) -> Iterator[Row]:
    if not folder.is_dir():
        yield Row(str(folder), error="is not a folder of .md files")
        return
    for path in sorted(folder.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        if not text.startswith("---\n"):
            yield Row(path.name, error="has no front matter (a first line of ---)")
            continue
        head, separator, body = text[4:].partition("\n---\n")
        if not separator:
            yield Row(path.name, error="front matter is not closed by a line of ---")
            continue
        try:
            fields = yaml.safe_load(head) or {}
        except yaml.YAMLError as exc:
            yield Row(path.name, error=f"front matter is not YAML: {exc}")
            continue
        except RecursionError:
            yield Row(path.name, error="front matter is nested too deeply to read")
            continue
        if not isinstance(fields, dict):
            yield Row(path.name, error="front matter is not a mapping of fields")
            continue
        yield _row(path.name, {"slug": path.stem, **fields, "answer": body.strip()})


def write(path: Path, rows: Iterable[tuple[Article, str]], fmt: Format) -> int:
    """Write articles with their status; returns how many."""
    written = 0
    if fmt == "md":
        path.mkdir(parents=True, exist_ok=True)
        for article, status in rows:
            front = {
                "title": article.title,
                "questions": list(article.questions),
                "short_answer": article.short_answer,
                "tags": list(article.tags),
                "skill": article.skill,
                "locale": article.locale,
                "status": status,
            }
            matter = yaml.safe_dump(front, sort_keys=False, allow_unicode=True)
            (path / f"{article.slug}.md").write_text(f"---\n{matter}---\n{article.answer}\n", encoding="utf-8")
            written += 1
        return written
    buffer = io.StringIO()
    if fmt == "csv":
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
        writer.writeheader()
    for article, status in rows:
        fields = {
            "slug": article.slug,
            "title": article.title,
            "questions": list(article.questions),
            "answer": article.answer,
            "short_answer": article.short_answer,
            "tags": list(article.tags),
            "skill": article.skill or "",
            "locale": article.locale,
            "status": status,
        }
        if fmt == "csv":
            writer.writerow({**fields, "questions": "\n".join(article.questions), "tags": ",".join(article.tags)})
        else:
            buffer.write(json.dumps(fields, ensure_ascii=False) + "\n")
        written += 1
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return written

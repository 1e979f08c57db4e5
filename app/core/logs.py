"""Structured logs: one event per line as key=value pairs, and never a customer's words."""

import logging
import sys
import traceback
from pathlib import Path
from types import TracebackType

FORMAT = "ts=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"
ROOT = Path(__file__).resolve().parents[2]
# How many causes of an exception are followed: enough for a wrapped database error.
CAUSES = 5

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


class Formatter(logging.Formatter):
    """One line per event. An exception is written as its kind and the lines it passed through,
    with its causes, never its message: a database error's message quotes the row it refused, and
    so a customer's words."""

    def format(self, record: logging.LogRecord) -> str:
        plain = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None, "stack_info": None})
        line = super().format(plain)
        if record.exc_info and record.exc_info[1] is not None:
            line += " " + self.formatException(record.exc_info)
        return line

    def formatException(self, ei: ExcInfo) -> str:
        exc, described = ei[1], list[str]()
        while exc is not None and len(described) < CAUSES:
            frames = traceback.extract_tb(exc.__traceback__)
            where = ">".join(f"{_short(frame.filename)}:{frame.lineno}" for frame in frames)
            described.append(f"{type(exc).__name__}@{where}")
            exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        return "exception=" + "<-".join(described)


def _short(filename: str) -> str:
    """A frame's file within the checkout or its installed package: no home directories."""
    path = Path(filename)
    if path.is_relative_to(ROOT) and "site-packages" not in path.parts:
        return path.relative_to(ROOT).as_posix()
    parts = path.parts
    return "/".join(parts[parts.index("site-packages") + 1 :]) if "site-packages" in parts else path.name


def configure_logging(level: int = logging.INFO) -> None:
    root = logging.getLogger()
    if any(getattr(handler, "_carebridge", False) for handler in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(Formatter(FORMAT))
    handler._carebridge = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request's URL at INFO: query strings hold tokens (Rasa's API), and the
    # service logs its own events instead.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)

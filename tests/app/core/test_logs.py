"""An exception is logged as its kinds and where they were raised, never its message, which for a
database error quotes the row it refused: a customer's words."""

import io
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.core.db import make_engine
from app.core.logs import FORMAT, Formatter

WORDS = "my card is 4111 1111 1111 1111"


@pytest.fixture
def written() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(Formatter(FORMAT))
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    yield logger, stream
    logger.removeHandler(handler)


def _refused_row(database_url: str) -> IntegrityError:
    """What the database says when it refuses a customer's words: on PostgreSQL, it quotes the row."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE said (words VARCHAR(100) NOT NULL CHECK (length(words) < 5))"))
            connection.execute(text("INSERT INTO said (words) VALUES (:words)"), {"words": WORDS})
    except IntegrityError as refused:
        return refused
    finally:
        engine.dispose()
    raise AssertionError("the database took the row")


def test_a_database_error_is_logged_without_the_row_it_quotes(
    database_url: str, written: tuple[logging.Logger, io.StringIO]
) -> None:
    logger, stream = written
    refused = _refused_row(database_url)

    try:
        raise RuntimeError("handling failed") from refused
    except RuntimeError:
        logger.exception("event=message_handling_failed conversation=c1")

    line = stream.getvalue()
    assert "4111" not in line and "handling failed" not in line
    assert line.count("\n") == 1 and "event=message_handling_failed" in line
    assert "exception=RuntimeError@tests/app/core/test_logs.py:" in line and "<-IntegrityError@" in line

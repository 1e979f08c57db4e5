"""Fresh, migrated databases for each test: a SQLite file, or a PostgreSQL database from a template."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from app.core.db import migrate

# Trust authentication on loopback, as the machine (and .ci/run) sets PostgreSQL up.
ADMIN_URL = os.environ.get("CAREBRIDGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TEMPLATE = f"carebridge_test_template_{os.getpid()}"


def _admin() -> psycopg.Connection:
    return psycopg.connect(make_url(ADMIN_URL).set(drivername="postgresql").render_as_string(False), autocommit=True)


def _url(database: str) -> str:
    return make_url(ADMIN_URL).set(database=database).render_as_string(hide_password=False)


def _drop(connection: psycopg.Connection, database: str) -> None:
    connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))


@contextmanager
def postgres_template() -> Iterator[str]:
    """A migrated database that per-test databases are copied from (copying beats migrating each time)."""
    with _admin() as admin:
        _drop(admin, TEMPLATE)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
    migrate(_url(TEMPLATE))
    try:
        yield TEMPLATE
    finally:
        with _admin() as admin:
            _drop(admin, TEMPLATE)


@contextmanager
def postgres_database(template: str | None) -> Iterator[str]:
    """A database of its own: a copy of `template`, or empty (unmigrated) when there is none."""
    name = f"carebridge_test_{uuid.uuid4().hex[:12]}"
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with _admin() as admin:
        admin.execute(statement)
    try:
        yield _url(name)
    finally:
        with _admin() as admin:
            _drop(admin, name)

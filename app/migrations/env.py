"""Alembic's entry point: runs migrations against the URL `app.core.db.alembic_config` sets."""

from alembic import context

from app.core.db import make_engine
from app.tables import metadata

url = context.config.get_main_option("sqlalchemy.url")
assert url, "app.core.db.alembic_config sets sqlalchemy.url"
engine = make_engine(url)
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite changes a table by copying it; foreign keys must be off meanwhile, and the pragma only
        # takes effect outside a transaction, so it goes straight to the driver before ours begins.
        connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            assert not problems, f"the migration broke foreign keys: {problems}"
engine.dispose()

"""Knowledge base for knowledge managers: article versions and status, the knowledge state number,
answers with their provenance and feedback, unanswered questions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from app.core.timestamps import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC)
    op.create_table(
        "article_versions",
        sa.Column("slug", sa.String(120), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("short_answer", sa.String(280), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("skill", sa.String(64), nullable=True),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("author_name", sa.String(200), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["slug"], ["articles.slug"]),
    )
    # The walking skeleton's articles become version 1 of each.
    old = sa.table(
        "articles",
        sa.column("slug", sa.String()),
        sa.column("title", sa.String()),
        sa.column("questions", sa.JSON()),
        sa.column("answer", sa.Text()),
        sa.column("tags", sa.JSON()),
        sa.column("skill", sa.String()),
        sa.column("published", sa.Boolean()),
    )
    versions = sa.table(
        "article_versions",
        *(sa.column(name, sa.String()) for name in ("slug", "title", "answer", "short_answer", "skill", "locale")),
        sa.column("version", sa.Integer()),
        sa.column("questions", sa.JSON()),
        sa.column("tags", sa.JSON()),
        sa.column("author_name", sa.String()),
        sa.column("note", sa.String()),
        sa.column("created_at", UTCDateTime()),
    )
    existing = bind.execute(sa.select(old)).mappings().all()
    for row in existing:
        bind.execute(
            versions.insert().values(
                slug=row["slug"], version=1, title=row["title"], questions=row["questions"], answer=row["answer"],
                short_answer="", tags=row["tags"], skill=row["skill"], locale="en", author_name="",
                note="carried over from the first knowledge base", created_at=now,
            )
        )  # fmt: skip
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="draft"))
        batch.add_column(sa.Column("current_version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("published_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("created_at", UTCDateTime(), nullable=True))
    bind.execute(
        sa.text(
            "UPDATE articles SET status = CASE WHEN published THEN 'published' ELSE 'draft' END, "
            "published_version = CASE WHEN published THEN 1 ELSE NULL END, created_at = updated_at"
        )
    )
    with op.batch_alter_table("articles") as batch:
        for column in ("title", "questions", "answer", "tags", "skill", "published"):
            batch.drop_column(column)
        batch.alter_column("status", server_default=None)
        batch.alter_column("current_version", server_default=None)
        batch.alter_column("created_at", nullable=False)
        batch.create_index("ix_articles_status", ["status"])

    op.create_table(
        "knowledge_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
    )
    state = sa.table(
        "knowledge_state", sa.column("id", sa.Integer()), sa.column("version", sa.Integer()),
        sa.column("changed_at", UTCDateTime()),
    )  # fmt: skip
    bind.execute(state.insert().values(id=1, version=1 if existing else 0, changed_at=now))

    op.create_table(
        "answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.Uuid(), sa.ForeignKey("conversations.id"), nullable=False, index=True),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("messages.id"), nullable=False, unique=True),
        sa.Column("slug", sa.String(120), nullable=False, index=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("handed_off", sa.Boolean(), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=True),
        sa.Column("feedback_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["slug", "version"], ["article_versions.slug", "article_versions.version"]),
    )
    op.create_table(
        "unanswered_questions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.Uuid(), sa.ForeignKey("conversations.id"), nullable=True),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.Column("masked", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("best_slug", sa.String(120), nullable=True),
        sa.Column("best_score", sa.Float(), nullable=True),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_slug", sa.String(120), nullable=True),
    )


def downgrade() -> None:
    for table in ("unanswered_questions", "answers", "knowledge_state"):
        op.drop_table(table)
    with op.batch_alter_table("articles") as batch:
        batch.drop_index("ix_articles_status")
        batch.add_column(sa.Column("title", sa.String(300), nullable=False, server_default=""))
        batch.add_column(sa.Column("questions", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("answer", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("tags", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("skill", sa.String(64), nullable=True))
        batch.add_column(sa.Column("published", sa.Boolean(), nullable=False, server_default=sa.false()))
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "UPDATE articles SET title = v.title, questions = v.questions, answer = v.answer, tags = v.tags, "
            "skill = v.skill, published = (articles.published_version IS NOT NULL) "
            "FROM article_versions v WHERE v.slug = articles.slug AND v.version = articles.current_version"
        )
    )
    with op.batch_alter_table("articles") as batch:
        for column in ("status", "current_version", "published_version", "created_at"):
            batch.drop_column(column)
    op.drop_table("article_versions")

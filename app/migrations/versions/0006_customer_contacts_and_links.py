"""One customer across channels: contact details, whether they were verified, and links.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as table:
        table.add_column(sa.Column("email", sa.String(320), nullable=True))
        table.add_column(sa.Column("email_verified", sa.Boolean(), nullable=False, server_default=sa.false()))
        table.add_column(sa.Column("phone", sa.String(32), nullable=True))
        table.add_column(sa.Column("phone_verified", sa.Boolean(), nullable=False, server_default=sa.false()))
        table.add_column(sa.Column("merged_into", sa.Uuid(), nullable=True))
        table.create_foreign_key("fk_customers_merged_into", "customers", ["merged_into"], ["id"])
        table.create_index("ix_customers_email", ["email"])
        table.create_index("ix_customers_phone", ["phone"])
    with op.batch_alter_table("customers") as table:
        table.alter_column("email_verified", server_default=None)
        table.alter_column("phone_verified", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("customers") as table:
        table.drop_index("ix_customers_phone")
        table.drop_index("ix_customers_email")
        table.drop_constraint("fk_customers_merged_into", type_="foreignkey")
        table.drop_column("merged_into")
        table.drop_column("phone_verified")
        table.drop_column("phone")
        table.drop_column("email_verified")
        table.drop_column("email")

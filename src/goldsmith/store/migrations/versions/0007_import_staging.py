"""Imports that never block annotators: an import writes in short chunks and its records stay
hidden until it is published (``imports.status``); ``owner`` and ``heartbeat`` let the next
open find and remove an import whose process died.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("imports") as batch:
        batch.add_column(
            sa.Column("status", sa.String(16), nullable=False, server_default="published")
        )
        batch.add_column(sa.Column("owner", sa.Text, nullable=True))
        batch.add_column(sa.Column("heartbeat", sa.Float, nullable=True))
    op.create_index("ix_records_import", "records", ["import_id"])


def downgrade() -> None:
    op.drop_index("ix_records_import", table_name="records")
    with op.batch_alter_table("imports") as batch:
        batch.drop_column("heartbeat")
        batch.drop_column("owner")
        batch.drop_column("status")

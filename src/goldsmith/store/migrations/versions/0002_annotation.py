"""Annotation server: queue columns on records, users, API keys, sessions, leases, meta.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("n_submitted", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("queue_done", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("queue_rank", sa.Float, nullable=False, server_default="0"))
    op.create_index("ix_records_queue", "records", ["queue_done", "queue_rank", "id"])
    # stores from 0001 may hold submitted responses already: count them
    op.execute(
        "UPDATE records SET n_submitted = (SELECT count(*) FROM responses"
        " WHERE responses.record_id = records.id AND responses.status = 'submitted')"
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", Json, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "sessions",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_table(
        "leases",
        sa.Column(
            "record_id",
            sa.Integer,
            sa.ForeignKey("records.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("user", sa.String(128), primary_key=True),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_leases_user", "leases", ["user", "expires_at"])


def downgrade() -> None:
    for name in ("leases", "sessions", "api_keys", "users", "meta"):
        op.drop_table(name)
    op.drop_index("ix_records_queue", "records")
    with op.batch_alter_table("records") as batch:
        for col in ("queue_rank", "queue_done", "n_submitted"):
            batch.drop_column(col)

"""Initial store: imports, records, guidelines, suggestions, responses, final labels.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def _created() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("options", Json, nullable=False),
        sa.Column("n_read", sa.Integer, nullable=False),
        sa.Column("n_inserted", sa.Integer, nullable=False),
        sa.Column("n_duplicates", sa.Integer, nullable=False),
        sa.Column("n_rejected", sa.Integer, nullable=False),
        _created(),
    )
    op.create_table(
        "records",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("external_id", sa.Text, nullable=True),
        sa.Column("fields", Json, nullable=False),
        sa.Column("metadata", Json, nullable=False),
        sa.Column("source_file", sa.Text, nullable=True),
        sa.Column("source_row", sa.Integer, nullable=True),
        sa.Column("content_hash", sa.String(32), nullable=False),
        sa.Column("dup_group", sa.Integer, nullable=True),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id"), nullable=True),
        _created(),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_records_content_hash", "records", ["content_hash"], unique=True)
    op.create_index("ix_records_external_id", "records", ["external_id"])
    op.create_table(
        "guidelines",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("sha", sa.String(64), nullable=False),
        _created(),
    )
    op.create_table(
        "suggestions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "record_id",
            sa.Integer,
            sa.ForeignKey("records.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("question", sa.String(128), nullable=False),
        sa.Column("value", Json, nullable=False),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("agent", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        _created(),
    )
    op.create_index("ix_suggestions_record", "suggestions", ["record_id", "question"])
    op.create_table(
        "responses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "record_id",
            sa.Integer,
            sa.ForeignKey("records.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user", sa.String(128), nullable=False),
        sa.Column("values", Json, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column(
            "guideline_version", sa.Integer, sa.ForeignKey("guidelines.version"), nullable=True
        ),
        sa.Column("time_spent", sa.Float, nullable=True),
        _created(),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("record_id", "user", name="uq_responses_record_user"),
    )
    op.create_table(
        "final_labels",
        sa.Column(
            "record_id",
            sa.Integer,
            sa.ForeignKey("records.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("question", sa.String(128), primary_key=True),
        sa.Column("value", Json, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("provenance", sa.String(16), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    for table in ("final_labels", "responses", "suggestions", "guidelines", "records", "imports"):
        op.drop_table(table)

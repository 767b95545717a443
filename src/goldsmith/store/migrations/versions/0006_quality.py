"""Quality assurance: rounds and their batches, honeypots, the review queue, feedback, and
paused annotators.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def _record_fk() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "record_id", sa.Integer, sa.ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )


def upgrade() -> None:
    now = sa.func.now()
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table(
        "rounds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False, unique=True),
        sa.Column("guideline_version", sa.Integer, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("gold_rate", sa.Float, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report", JSON, nullable=True),
    )
    op.create_table(
        "round_records",
        sa.Column(
            "round_id", sa.Integer, sa.ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True
        ),
        _record_fk(),
    )
    op.create_table("honeypots", _record_fk())
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "record_id", sa.Integer, sa.ForeignKey("records.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("question", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("priority", sa.Float, nullable=False, server_default="0"),
        sa.Column("detail", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("reviewer", sa.String(128), nullable=True),
        sa.Column("value", JSON, nullable=True),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column(
            "round_id", sa.Integer, sa.ForeignKey("rounds.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_reviews_queue", "reviews", ["status", "priority", "id"])
    op.create_index("ix_reviews_record", "reviews", ["record_id", "question", "kind"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user", sa.String(128), nullable=False),
        sa.Column(
            "record_id", sa.Integer, sa.ForeignKey("records.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "review_id", sa.Integer, sa.ForeignKey("reviews.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_feedback_user", "feedback", ["user", "seen_at"])


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_table("reviews")
    op.drop_table("honeypots")
    op.drop_table("round_records")
    op.drop_table("rounds")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("paused")

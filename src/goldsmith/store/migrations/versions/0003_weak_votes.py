"""Weak supervision: labeling-function runs and their votes, one sparse column per LF.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "lf_runs",
        sa.Column("lf", sa.String(128), primary_key=True),
        sa.Column("question", sa.String(128), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("last_record_id", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "lf_votes",
        sa.Column(
            "lf",
            sa.String(128),
            sa.ForeignKey("lf_runs.lf", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("chunk", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("labels", Json, nullable=False),
        sa.Column("record_ids", sa.LargeBinary, nullable=False),
        sa.Column("votes", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lf_votes")
    op.drop_table("lf_runs")

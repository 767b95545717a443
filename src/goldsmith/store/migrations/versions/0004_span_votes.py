"""Weak supervision: the spans of span labeling functions, packed per chunk like lf_votes.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "lf_spans",
        sa.Column(
            "lf",
            sa.String(128),
            sa.ForeignKey("lf_runs.lf", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("chunk", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("labels", Json, nullable=False),
        sa.Column("record_ids", sa.LargeBinary, nullable=False),
        sa.Column("starts", sa.LargeBinary, nullable=False),
        sa.Column("ends", sa.LargeBinary, nullable=False),
        sa.Column("votes", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lf_spans")

"""The records browser: what owners did to records from it, background jobs, and two indexes
for its sorts.

``record_events`` keeps each owner action on a record (sent to the front of the queue or to
review, gold set or cleared: who, when, and the provenance a gold label replaced, so clearing
gold restores it). ``jobs`` holds background work started from the server (an export of a
filtered set) with its progress, so any worker process can answer for it.
``ix_final_labels_confidence`` serves the sort by final-label confidence and
``ix_records_submitted`` the sort by submitted responses, page by page at any size.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    now = sa.func.now()
    op.create_table(
        "record_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "record_id", sa.Integer, sa.ForeignKey("records.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("question", sa.String(128), nullable=True),
        sa.Column("detail", JSON, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=now),
    )
    op.create_index("ix_record_events_record", "record_events", ["record_id", "id"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("user", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("done", sa.Integer, nullable=False, server_default="0"),
        sa.Column("total", sa.Integer, nullable=True),
        sa.Column("params", JSON, nullable=False),
        sa.Column("result", JSON, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("heartbeat", sa.Float, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_final_labels_confidence", "final_labels", ["question", "confidence", "record_id"]
    )
    op.create_index("ix_records_submitted", "records", ["n_submitted", "id"])


def downgrade() -> None:
    op.drop_index("ix_records_submitted", table_name="records")
    op.drop_index("ix_final_labels_confidence", table_name="final_labels")
    op.drop_table("jobs")
    op.drop_index("ix_record_events_record", table_name="record_events")
    op.drop_table("record_events")

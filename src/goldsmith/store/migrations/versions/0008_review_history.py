"""Review decisions that can be undone, and annotators' own record numbers.

``review_history`` keeps every decision and undo (who, when, the final label before and
after). ``responses.seq`` numbers each user's responses 1, 2, 3... in the order they were
first saved ("#37 in your queue", what annotators see instead of a record id); existing
responses are numbered here. ``ix_responses_user`` serves one user's responses in order (the
next number, and the Back key).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "review_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "review_id", sa.Integer, sa.ForeignKey("reviews.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("before", JSON, nullable=True),
        sa.Column("after", JSON, nullable=True),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_review_history_review", "review_history", ["review_id", "id"])
    with op.batch_alter_table("responses") as batch:
        batch.add_column(sa.Column("seq", sa.Integer, nullable=True))
    op.create_index("ix_responses_user", "responses", ["user", "id"])
    _number_existing_responses()


def _number_existing_responses() -> None:
    """Number each user's responses 1, 2, 3... in id order, in one pass (bounded memory)."""
    conn = op.get_bind()
    table = sa.table("responses", sa.column("id", sa.Integer), sa.column("user", sa.String))
    seq = sa.table("responses", sa.column("id", sa.Integer), sa.column("seq", sa.Integer))
    update = seq.update().where(seq.c.id == sa.bindparam("rid")).values(seq=sa.bindparam("number"))
    page = sa.select(table.c.id, table.c.user).order_by(table.c.user, table.c.id).limit(10_000)
    user: str | None = None
    number = last = 0
    while True:  # pages by (user, id), each read in full before it is written
        after = (
            page
            if user is None
            else page.where(
                sa.tuple_(table.c.user, table.c.id) > sa.tuple_(sa.literal(user), sa.literal(last))
            )
        )
        rows = conn.execute(after).all()
        if not rows:
            return
        batch = []
        for rid, who in rows:
            number = number + 1 if who == user else 1
            user, last = who, int(rid)
            batch.append({"rid": last, "number": number})
        conn.execute(update, batch)


def downgrade() -> None:
    op.drop_index("ix_responses_user", table_name="responses")
    with op.batch_alter_table("responses") as batch:
        batch.drop_column("seq")
    op.drop_table("review_history")

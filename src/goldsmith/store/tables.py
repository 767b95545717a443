"""Table definitions (SQLAlchemy Core). Migrations in ``migrations/`` create the same shape."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()
Json = JSON().with_variant(JSONB(), "postgresql")

imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", Text, nullable=False),
    Column("format", String(32), nullable=False),
    Column("options", Json, nullable=False),
    Column("n_read", Integer, nullable=False, default=0),
    Column("n_inserted", Integer, nullable=False, default=0),
    Column("n_duplicates", Integer, nullable=False, default=0),
    Column("n_rejected", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # writing -> published: a writing import's records are hidden from every read
    Column("status", String(16), nullable=False, server_default="published"),
    Column("owner", Text, nullable=True),  # "host:pid" of the writing process
    Column("heartbeat", Float, nullable=True),  # unix seconds of its last chunk
)

records = Table(
    "records",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("external_id", Text, nullable=True),
    Column("fields", Json, nullable=False),
    Column("metadata", Json, nullable=False),
    Column("source_file", Text, nullable=True),
    Column("source_row", Integer, nullable=True),
    Column("content_hash", String(32), nullable=False),
    Column("dup_group", Integer, nullable=True),
    Column("import_id", Integer, ForeignKey("imports.id"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # the annotation queue: submitted responses so far, whether overlap is reached, and the
    # order (lower first; ties by id, i.e. insertion order). Active learning rewrites the rank.
    Column("n_submitted", Integer, nullable=False, server_default="0"),
    Column("queue_done", Boolean, nullable=False, server_default=false()),
    Column("queue_rank", Float, nullable=False, server_default="0"),
    Index("ix_records_content_hash", "content_hash", unique=True),
    Index("ix_records_external_id", "external_id"),
    Index("ix_records_queue", "queue_done", "queue_rank", "id"),
    Index("ix_records_import", "import_id"),
    sqlite_autoincrement=True,
)

guidelines = Table(
    "guidelines",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("text", Text, nullable=False),
    Column("sha", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

suggestions = Table(
    "suggestions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("record_id", Integer, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("question", String(128), nullable=False),
    Column("value", Json, nullable=False),
    Column("score", Float, nullable=True),
    Column("agent", String(256), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_suggestions_record", "record_id", "question"),
)

responses = Table(
    "responses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("record_id", Integer, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("user", String(128), nullable=False),
    Column("values", Json, nullable=False),
    Column("status", String(16), nullable=False),
    Column("guideline_version", Integer, ForeignKey("guidelines.version"), nullable=True),
    Column("time_spent", Float, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # the record's number in its user's own sequence: "#37 in your queue" (0008)
    Column("seq", Integer, nullable=True),
    UniqueConstraint("record_id", "user", name="uq_responses_record_user"),
    Index("ix_responses_user", "user", "id"),  # one annotator's answers, in order (0008)
)

final_labels = Table(
    "final_labels",
    metadata,
    Column(
        "record_id",
        Integer,
        ForeignKey("records.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("question", String(128), primary_key=True),
    Column("value", Json, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("provenance", String(16), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Json, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=True),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("paused", Boolean, nullable=False, server_default=false()),  # gold accuracy too low
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("digest", String(64), nullable=False, unique=True),  # sha256 of the key
    Column("prefix", String(16), nullable=False),  # shown in listings to tell keys apart
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

sessions = Table(
    "sessions",
    metadata,
    Column("digest", String(64), primary_key=True),  # sha256 of the cookie token
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),  # unix seconds
)

leases = Table(
    "leases",
    metadata,
    Column("record_id", Integer, ForeignKey("records.id", ondelete="CASCADE"), primary_key=True),
    Column("user", String(128), primary_key=True),
    Column("expires_at", Float, nullable=False),  # unix seconds
    Index("ix_leases_user", "user", "expires_at"),
)

lf_runs = Table(
    "lf_runs",
    metadata,
    Column("lf", String(128), primary_key=True),
    Column("question", String(128), nullable=False),
    Column("version", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("last_record_id", Integer, nullable=False),  # votes cover records up to this id
    Column("position", Integer, nullable=False),  # column order in the label matrix
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

lf_votes = Table(
    "lf_votes",
    metadata,
    Column("lf", String(128), ForeignKey("lf_runs.lf", ondelete="CASCADE"), primary_key=True),
    Column("chunk", Integer, primary_key=True, autoincrement=False),
    Column("labels", Json, nullable=False),  # label names the indices below refer to
    Column("record_ids", LargeBinary, nullable=False),  # int64, ascending
    Column("votes", LargeBinary, nullable=False),  # int16 indices into ``labels``
)

lf_spans = Table(
    "lf_spans",
    metadata,
    Column("lf", String(128), ForeignKey("lf_runs.lf", ondelete="CASCADE"), primary_key=True),
    Column("chunk", Integer, primary_key=True, autoincrement=False),
    Column("labels", Json, nullable=False),  # label names the indices below refer to
    Column("record_ids", LargeBinary, nullable=False),  # int64 per span, ascending
    Column("starts", LargeBinary, nullable=False),  # int32 code-point offsets
    Column("ends", LargeBinary, nullable=False),  # int32, exclusive
    Column("votes", LargeBinary, nullable=False),  # int16 indices into ``labels``
)

embeddings = Table(
    "embeddings",
    metadata,
    Column("model_id", String(200), primary_key=True),  # the embedder's id: model + digest
    Column("record_id", Integer, ForeignKey("records.id", ondelete="CASCADE"), primary_key=True),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),  # float32 little-endian, ``dim`` values
)

# --------------------------------------------------------------------------- quality (0006)

rounds = Table(
    "rounds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", Integer, nullable=False, unique=True),
    Column("guideline_version", Integer, nullable=True),
    Column("status", String(16), nullable=False),  # open | closed
    Column("size", Integer, nullable=False),
    Column("gold_rate", Float, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("report", Json, nullable=True),  # the QA report's data, frozen at close
)

round_records = Table(
    "round_records",
    metadata,
    Column("round_id", Integer, ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True),
    Column("record_id", Integer, ForeignKey("records.id", ondelete="CASCADE"), primary_key=True),
)

honeypots = Table(  # gold records mixed into annotators' queues; never shown as gold
    "honeypots",
    metadata,
    Column("record_id", Integer, ForeignKey("records.id", ondelete="CASCADE"), primary_key=True),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("record_id", Integer, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("question", String(128), nullable=False),
    Column("kind", String(32), nullable=False),  # disagreement | low_confidence | gold | issue
    Column("priority", Float, nullable=False, server_default="0"),  # higher first
    Column("detail", Json, nullable=False),
    Column("status", String(16), nullable=False, server_default="open"),
    Column("reviewer", String(128), nullable=True),
    Column("value", Json, nullable=True),  # the reviewer's final value
    Column("comment", Text, nullable=True),
    Column("round_id", Integer, ForeignKey("rounds.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Index("ix_reviews_queue", "status", "priority", "id"),
    Index("ix_reviews_record", "record_id", "question", "kind"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user", String(128), nullable=False),
    Column("record_id", Integer, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("review_id", Integer, ForeignKey("reviews.id", ondelete="CASCADE"), nullable=False),
    Column("message", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("seen_at", DateTime(timezone=True), nullable=True),
    Index("ix_feedback_user", "user", "seen_at"),
)


# --------------------------------------------------------------------------- review history (0008)

review_history = Table(  # every review decision and undo: who, when, from what, to what
    "review_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("review_id", Integer, ForeignKey("reviews.id", ondelete="CASCADE"), nullable=False),
    Column("action", String(16), nullable=False),  # accept | edit | reject | undo
    Column("actor", String(128), nullable=False),
    Column("before", Json, nullable=True),  # the final label before: value, provenance, confidence
    Column("after", Json, nullable=True),  # the final label after (null: none)
    Column("comment", Text, nullable=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_review_history_review", "review_id", "id"),
)


# --------------------------------------------------------------------------- records browser (0009)

# the browser's sorts: by final-label confidence of one question, by submitted responses
Index("ix_final_labels_confidence", final_labels.c.question, final_labels.c.confidence,
      final_labels.c.record_id)  # fmt: skip
Index("ix_records_submitted", records.c.n_submitted, records.c.id)

record_events = Table(  # owners' actions on records from the browser: who, when, what
    "record_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("record_id", Integer, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("action", String(16), nullable=False),  # front | review | gold | ungold
    Column("actor", String(128), nullable=False),
    Column("question", String(128), nullable=True),
    Column("detail", Json, nullable=False),  # e.g. the provenance a gold label replaced
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_record_events_record", "record_id", "id"),
)

jobs = Table(  # background work started from the server (an export), with its progress
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # export
    Column("user", String(128), nullable=False),
    Column("status", String(16), nullable=False),  # running | done | failed
    Column("stage", Text, nullable=False),
    Column("done", Integer, nullable=False, server_default="0"),
    Column("total", Integer, nullable=True),
    Column("params", Json, nullable=False),
    Column("result", Json, nullable=True),
    Column("error", Text, nullable=True),
    Column("heartbeat", Float, nullable=False),  # unix seconds, while it runs
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True), nullable=True),
)

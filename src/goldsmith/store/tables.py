"""Table definitions (SQLAlchemy Core). Migrations in ``migrations/`` create the same shape."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
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
    Index("ix_records_content_hash", "content_hash", unique=True),
    Index("ix_records_external_id", "external_id"),
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
    UniqueConstraint("record_id", "user", name="uq_responses_record_user"),
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

"""One record's whole story for the records browser: what is stored about it, and its
history as one timeline, oldest first (added, suggested, answered, queued for review,
decided, labeled, and what owners did to it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def when(value: Any) -> str | None:
    """A stored time as ISO 8601 with its offset (SQLite keeps UTC without one)."""
    if not isinstance(value, datetime):
        return None if value is None else str(value)
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return str(aware.isoformat())


def _label(label: dict[str, Any] | None) -> dict[str, Any] | None:
    return (
        None if label is None else {k: label.get(k) for k in ("value", "provenance", "confidence")}
    )


def timeline(story: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of :func:`assemble`'s parts, oldest first (ties keep the order below)."""
    rec = story["record"]
    imp = story.get("import")
    events: list[dict[str, Any]] = [
        {
            "at": rec["created_at"],
            "event": "added",
            "actor": None,
            "detail": {"source": imp["source"], "format": imp["format"]} if imp else {},
        }
    ]
    for s in story["suggestions"]:
        events.append(
            {"at": s["created_at"], "event": "suggested", "actor": s["agent"],
             "detail": {"question": s["question"], "value": s["value"], "score": s["score"],
                        "kind": s["kind"]}}
        )  # fmt: skip
    for r in story["responses"]:
        events.append(
            {"at": r["created_at"], "event": "answered", "actor": r["user"],
             "detail": {"status": r["status"], "values": r["values"]}}
        )  # fmt: skip
        if r["updated_at"] is not None and r["updated_at"] != r["created_at"]:
            events.append(
                {"at": r["updated_at"], "event": "answer changed", "actor": r["user"],
                 "detail": {"status": r["status"], "values": r["values"]}}
            )  # fmt: skip
    for item in story["reviews"]:
        events.append(
            {"at": item["created_at"], "event": "queued for review", "actor": None,
             "detail": {"question": item["question"], "kind": item["kind"], "review": item["id"]}}
        )  # fmt: skip
        for h in item.get("history", []):
            events.append(
                {"at": h["at"], "event": f"review {h['action']}", "actor": h["actor"],
                 "detail": {"question": item["question"], "review": item["id"],
                            "before": _label(h["before"]), "after": _label(h["after"]),
                            "comment": h["comment"]}}
            )  # fmt: skip
    for e in story["events"]:
        events.append(
            {"at": e["at"], "event": e["action"], "actor": e["actor"],
             "detail": {"question": e["question"], **(e["detail"] or {})}}
        )  # fmt: skip
    for f in story["final"]:
        events.append(
            {"at": f["updated_at"], "event": "final label", "actor": None,
             "detail": {"question": f["question"], "value": f["value"],
                        "provenance": f["provenance"], "confidence": f["confidence"]}}
        )  # fmt: skip
    for e in events:
        e["at"] = when(e["at"])
    order = {id(e): i for i, e in enumerate(events)}
    return sorted(events, key=lambda e: (e["at"] or "", order[id(e)]))


def assemble(story: dict[str, Any]) -> dict[str, Any]:
    """The record's stored parts (times as ISO text) and its :func:`timeline`."""
    history = timeline(story)
    out: dict[str, Any] = {k: _times(v) for k, v in story.items()}
    out["history"] = history
    return out


def _times(value: Any) -> Any:
    """``value`` with every datetime inside turned into ISO text."""
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, dict):
        return {k: _times(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_times(v) for v in value]
    return value


def assemble_job(job: dict[str, Any]) -> dict[str, Any]:
    """A job row as JSON: times as ISO text."""
    out: dict[str, Any] = _times(job)
    return out

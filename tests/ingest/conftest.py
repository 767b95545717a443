"""Fixtures for the import tests: projects on real SQLite and a snapshot of a whole store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from goldsmith.project import Project

LABELS = ("neoplasms", "digestive", "nervous", "cardiovascular", "general")

Snapshot = Callable[[Project], dict[str, Any]]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    """A classification project whose labels are the five medical-abstract classes."""
    with Project.init(tmp_path / "p", template="classification", labels=list(LABELS)) as p:
        yield p


@pytest.fixture
def make_project(tmp_path: Path) -> Iterator[Callable[..., Project]]:
    """``make_project(template, labels)``: a further project in ``tmp_path``."""
    opened: list[Project] = []

    def make(template: str, labels: list[str] | None = None) -> Project:
        p = Project.init(tmp_path / f"p-{template}-{len(opened)}", template=template, labels=labels)
        opened.append(p)
        return p

    yield make
    for p in opened:
        p.close()


def _snapshot(project: Project) -> dict[str, Any]:
    """Everything an import can write: records, labels, responses, suggestions, imports."""
    with project.store.read() as tx:
        records = [
            (r.id, r.content_hash, r.fields, r.metadata, r.source_row)
            for batch in tx.iter_records()
            for r in batch
        ]
        ids = [r[0] for r in records]
        finals = sorted(
            (f.record_id, f.question, repr(f.value), str(f.provenance))
            for f in tx.final_labels_for(ids)
        )
        responses = sorted(
            (r.record_id, r.user, repr(r.values), str(r.status)) for r in tx.responses_for(ids)
        )
        suggestions = sorted(
            (s.record_id, s.question, repr(s.value), s.agent) for s in tx.suggestions_for(ids)
        )
        imports = tx.list_imports()
    return {
        "status": project.status(),
        "records": records,
        "finals": finals,
        "responses": responses,
        "suggestions": suggestions,
        "imports": imports,
    }


@pytest.fixture
def snapshot() -> Snapshot:
    """``snapshot(project)``: a comparable picture of the project's whole store."""
    return _snapshot

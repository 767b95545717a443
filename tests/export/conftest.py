"""Projects for the export tests: one per template, filled straight through the store.

Records and final labels are written with ``tx.insert_records`` and ``tx.set_final_labels``
(no import pipeline). Every template's data is deterministic, so tests can compute what each
exported line must say.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from goldsmith import FinalLabel, Project, Provenance, Record
from goldsmith.config import template_task, write_config
from goldsmith.schema import content_hash

LABELS = ("pos", "neg", "neu")
TAGS = ("a", "b", "c")
ENTITIES = ("PER", "LOC")
TEMPLATES = ("classification", "multilabel", "ner", "sft", "preference", "rating")
CYCLE = (Provenance.GOLD, Provenance.HUMAN, Provenance.CONSENSUS)


@dataclass
class Seeded:
    """A project and what was put in it, in insertion order."""

    project: Project
    template: str
    ids: list[int] = field(default_factory=list)
    fields: list[dict[str, Any]] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)

    def by_id(self, record_id: int) -> tuple[dict[str, Any], Any]:
        i = self.ids.index(record_id)
        return self.fields[i], self.values[i]


def example(template: str, i: int) -> tuple[dict[str, Any], Any]:
    """Fields and final value of record ``i`` of ``template``."""
    if template == "classification":
        return {"text": f"Review {i}: the product was fine."}, (
            "pos",
            "pos",
            "pos",
            "neg",
            "neg",
            "neu",
        )[i % 6]
    if template == "multilabel":
        tags = (["a"], ["a", "b"], ["c"], ["b", "c"])[i % 4]
        return {"text": f"Note {i} about several things."}, tags
    if template == "ner":
        text = f"Alice Smith visited Paris on day {i}."
        spans = [{"start": 0, "end": 11, "label": "PER"}]
        if i % 3:
            spans.append({"start": 20, "end": 25, "label": "LOC"})
        return {"text": text}, spans
    if template == "sft":
        return {"prompt": f"Question {i}: what is {i} plus {i}?"}, f"It is {2 * i}."
    if template == "preference":
        candidates = [f"Hello number {i}!", f"Hi {i}.", f"Hey {i}, what's up?"]
        return {"prompt": f"Greet user {i}", "candidates": candidates}, [
            i % 3,
            (i + 1) % 3,
            (i + 2) % 3,
        ]
    if template == "rating":
        return {"text": f"Essay {i} on rivers."}, 1 + i % 5
    raise AssertionError(template)


def question_name(template: str) -> str:
    return {
        "classification": "label",
        "multilabel": "labels",
        "ner": "spans",
        "sft": "response",
        "preference": "preference",
        "rating": "score",
    }[template]


def new_project(root: Path, template: str) -> Project:
    """``Project.init`` for a template; ``rating`` is a classification task with a rating."""
    if template == "rating":
        root.mkdir(parents=True)
        data = template_task(root.name, "classification", list(LABELS))
        data["questions"] = [{"name": "score", "kind": "rating", "min": 1, "max": 5}]
        write_config(root, data)
        return Project.open(root)
    labels = {"classification": LABELS, "multilabel": TAGS, "ner": ENTITIES}.get(template)
    return Project.init(root, template=template, labels=list(labels) if labels else None)


def add_labeled(
    project: Project,
    template: str,
    indices: Sequence[int],
    *,
    provenance: Sequence[Provenance] = CYCLE,
    confidence: float = 1.0,
    source_file: str | None = "data.csv",
) -> tuple[list[int], list[dict[str, Any]], list[Any]]:
    """Insert records ``indices`` of ``template`` with final labels; return ids, fields, values."""
    pairs = [example(template, i) for i in indices]
    records = [
        Record(
            fields=f,
            content_hash=content_hash(f),
            external_id=f"ext-{i}",
            metadata={"n": i},
            source_file=source_file,
            source_row=i,
        )
        for i, (f, _) in zip(indices, pairs, strict=True)
    ]
    q = question_name(template)
    with project.store.write() as tx:
        ids = tx.insert_records(records)
        tx.set_final_labels(
            FinalLabel(rid, q, value, provenance[k % len(provenance)], confidence)
            for k, (rid, (_, value)) in enumerate(zip(ids, pairs, strict=True))
        )
    return ids, [f for f, _ in pairs], [v for _, v in pairs]


@pytest.fixture
def blank(tmp_path: Path) -> Iterator[Callable[[str], Project]]:
    """``blank(template)``: a new, empty project of ``template`` (closed after the test)."""
    opened: list[Project] = []

    def make(template: str, name: str | None = None) -> Project:
        project = new_project(tmp_path / (name or f"{template}-{len(opened)}"), template)
        opened.append(project)
        return project

    yield make
    for project in opened:
        project.close()


@pytest.fixture
def seeded(blank: Callable[..., Project]) -> Callable[..., Seeded]:
    """``seeded(template, n=30)``: a project of ``template`` with ``n`` labeled records."""

    def make(template: str, n: int = 30) -> Seeded:
        project = blank(template)
        ids, fields, values = add_labeled(project, template, range(n))
        return Seeded(project, template, ids, fields, values)

    return make


@pytest.fixture
def fill() -> Callable[..., tuple[list[int], list[dict[str, Any]], list[Any]]]:
    """:func:`add_labeled`: ``fill(project, template, indices, provenance=..., ...)``."""
    return add_labeled

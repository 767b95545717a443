"""A project of real financial-phrasebank sentences with final labels of every provenance.

Records are written straight through the store (``insert_records``, ``set_final_labels``,
``set_dup_groups``) so each test knows exactly which label has which provenance, group and
confidence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from _ci import skip_or_fail
from goldsmith import FinalLabel, Project, Provenance, Record
from goldsmith.schema import content_hash

DATA = (
    Path(__file__).resolve().parents[3]
    / "shared/data/finance/financial_phrasebank/Sentences_AllAgree.txt"
)
LABELS = ("positive", "negative", "neutral")


def phrasebank(n: int) -> list[tuple[str, str]]:
    """The first ``n`` (sentence, label) pairs, interleaved by label so every class shows."""
    if not DATA.is_file():
        skip_or_fail(f"{DATA} is not here (see shared/data/README.md)")
    pairs, seen = [], set()
    for line in DATA.read_text("latin-1").splitlines():
        text, _, label = line.strip().rpartition("@")
        if text and label in LABELS and text.strip() not in seen:
            seen.add(text.strip())
            pairs.append((text.strip(), label))
    by = {lab: [p for p in pairs if p[1] == lab] for lab in LABELS}
    out: list[tuple[str, str]] = []
    i = 0
    while len(out) < n:
        for lab in LABELS:
            if i < len(by[lab]) and len(out) < n:
                out.append(by[lab][i])
        i += 1
    return out


@dataclass
class Bank:
    project: Project
    ids: list[int] = field(default_factory=list)
    labels: dict[int, str] = field(default_factory=dict)  # the true label per record id
    provenance: dict[int, Provenance] = field(default_factory=dict)


def seed_bank(
    project: Project,
    n: int,
    *,
    cycle: tuple[Provenance, ...] = (
        Provenance.GOLD,
        Provenance.HUMAN,
        Provenance.WEAK,
        Provenance.CONSENSUS,
        Provenance.LLM,
    ),
    confidence: float = 0.9,
) -> Bank:
    """``n`` phrasebank records whose true labels are final labels, provenance cycling."""
    pairs = phrasebank(n)
    records = [
        Record(fields={"text": t}, content_hash=content_hash({"text": t}), source_row=i)
        for i, (t, _) in enumerate(pairs)
    ]
    bank = Bank(project)
    with project.store.write() as tx:
        bank.ids = tx.insert_records(records)
        finals = []
        for k, (rid, (_, label)) in enumerate(zip(bank.ids, pairs, strict=True)):
            prov = cycle[k % len(cycle)]
            bank.labels[rid] = label
            bank.provenance[rid] = prov
            finals.append(FinalLabel(rid, "label", label, prov, confidence))
        tx.set_final_labels(finals)
    return bank


@pytest.fixture
def bank(tmp_path: Path) -> Iterator[Bank]:
    """300 labeled phrasebank sentences (60 gold) in a classification project."""
    project = Project.init(tmp_path / "fin", template="classification", labels=list(LABELS))
    try:
        yield seed_bank(project, 300)
    finally:
        project.close()


@pytest.fixture(scope="session")
def seed_phrasebank() -> Callable[..., Bank]:
    """``seed_phrasebank(project, n)``: :func:`seed_bank`, for fixtures of wider scope."""
    return seed_bank

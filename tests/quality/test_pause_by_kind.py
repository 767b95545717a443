"""Pausing scores gold answers with the question kind's own measure (issue 19 item 2): a
spans annotator who shifts one boundary now and then is not paused as if every answer were
wrong, and a careless one still is. The same holds for multi-label answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli_w

from goldsmith.config import CONFIG_NAME
from goldsmith.project import Project
from goldsmith.schema import FinalLabel, Provenance

TEXT = "BRCA1 mutations raise the risk of breast cancer in carriers."
GOLD = [
    {"start": 0, "end": 5, "label": "Gene"},
    {"start": 34, "end": 47, "label": "Disease"},
]
SHIFTED = [GOLD[0], {"start": 41, "end": 47, "label": "Disease"}]  # "cancer" only


def _project(root: Path, question: dict[str, Any]) -> Project:
    root.mkdir()
    task = {
        "name": "t",
        "fields": [{"name": "text", "kind": "text"}],
        "questions": [question],
        "settings": {"overlap": 3, "pause_below": 0.7, "pause_min_gold": 4},
    }
    (root / CONFIG_NAME).write_text(tomli_w.dumps({"task": task}), encoding="utf-8")
    return Project.open(root)


def _answer_gold(
    p: Project, name: str, gold: Any, answers: dict[str, list[Any]]
) -> dict[str, bool]:
    """Four honeypots with ``gold``; each user answers them in turn; returns who is paused."""
    texts = [f"{TEXT} Case {i}." for i in range(4)]  # the same text would be deduplicated
    ids = p.add_records([{"fields": {"text": t}, "id": f"g{i}"} for i, t in enumerate(texts)]).ids
    assert len(ids) == 4
    with p.store.write() as tx:
        tx.set_final_labels([FinalLabel(r, name, gold, Provenance.GOLD) for r in ids])
        tx.set_honeypots(ids)
    for user, values in answers.items():
        p.add_user(user, "annotator")
        for rid, value in zip(ids, values, strict=True):
            p.answer(user, rid, {name: value})
    with p.store.read() as tx:
        return {user: tx.is_paused(user) for user in answers}


def test_spans_pausing_uses_span_f1(tmp_path: Path) -> None:
    question = {"name": "ner", "kind": "spans", "field": "text", "labels": ["Gene", "Disease"]}
    with _project(tmp_path / "p", question) as p:
        paused = _answer_gold(
            p,
            "ner",
            GOLD,
            {
                # two of four answers differ from gold by one boundary: exact match 0.50,
                # micro span F1 0.75 (above the 0.7 floor)
                "close": [SHIFTED, GOLD, SHIFTED, GOLD],
                # finds the gene only: span F1 0.67, below the floor
                "careless": [[GOLD[0]]] * 4,
                "perfect": [GOLD] * 4,
            },
        )
    assert paused == {"close": False, "careless": True, "perfect": False}


def test_multilabel_pausing_uses_label_f1(tmp_path: Path) -> None:
    question = {"name": "codes", "kind": "multilabel", "labels": ["I10", "E11", "J45", "N18"]}
    gold = ["E11", "I10", "N18"]
    with _project(tmp_path / "p", question) as p:
        paused = _answer_gold(
            p,
            "codes",
            gold,
            {
                # misses one code of three on every record: exact 0, micro F1 0.8
                "close": [["I10", "E11"]] * 4,
                # one code of three, plus a wrong one: micro F1 0.4
                "careless": [["I10", "J45"]] * 4,
            },
        )
    assert paused == {"close": False, "careless": True}

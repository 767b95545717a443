"""A round on questions that are not single-label, on a real store (issue 19): spans from the
NCBI-Disease sentences and multi-label sets, three annotators at overlap with known errors,
gold records, then close: consensus final labels, review items and the report."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest

from goldsmith.project import Project
from goldsmith.schema import FinalLabel, Provenance, Response, ResponseStatus, Role

DONE = ResponseStatus.SUBMITTED

NCBI = Path(__file__).resolve().parents[3] / "shared/data/healthcare/ncbi_disease/conll/train.tsv"


def _sentences(n: int) -> list[tuple[str, list[dict[str, Any]]]]:
    """The first ``n`` NCBI sentences with an entity, an astral character in front."""
    out: list[tuple[str, list[dict[str, Any]]]] = []
    words: list[tuple[str, str]] = []
    for line in NCBI.read_text(encoding="utf-8").splitlines():
        if line.strip():
            words.append(tuple(line.split("\t")))  # type: ignore[arg-type]
            continue
        text, spans, start = "🧪 ", [], None
        for word, tag in words + [("", "O")]:
            if tag != "I-Disease" and start is not None:
                spans.append({"start": start, "end": len(text) - 1, "label": "Disease"})
                start = None
            if tag == "B-Disease":
                start = len(text)
            text += word + " "
        words = []
        if spans:
            out.append((text.rstrip(), spans))
        if len(out) == n:
            return out
    return out


def _miss_or_shift(spans: list[dict[str, Any]], rng: random.Random, err: float) -> list[Any]:
    out = []
    for s in spans:
        r = rng.random()
        if r < err / 2:
            continue  # missed
        if r < err:
            s = {**s, "end": s["end"] - 1}  # a boundary one character short
        out.append(s)
    return out


@pytest.fixture
def ner(tmp_path: Path) -> tuple[Project, dict[int, list[dict[str, Any]]]]:
    rows = _sentences(60)
    p = Project.init(tmp_path / "ner", template="ner", labels=["Disease"])
    p.add_records([{"fields": {"text": t}} for t, _ in rows])
    truth = {i + 1: spans for i, (_, spans) in enumerate(rows)}
    with p.store.write() as tx:  # 10 gold records
        tx.set_final_labels(
            [FinalLabel(i, "spans", truth[i], Provenance.GOLD) for i in range(51, 61)]
        )
    for name in ("ann", "ben", "cat", "rev"):
        p.add_user(name, Role.REVIEWER if name == "rev" else Role.ANNOTATOR)
    return p, truth


def test_a_spans_round_closes_with_a_consensus_span_set_reviews_and_scores(
    ner: tuple[Project, dict[int, list[dict[str, Any]]]],
) -> None:
    p, truth = ner
    rng = random.Random(0)
    p.start_round(size=50, gold_rate=0.0)
    errors = {"ann": 0.05, "ben": 0.2, "cat": 0.6}
    responses = [
        Response(
            rid, name, {"spans": _miss_or_shift(truth[rid], rng, err)}, ResponseStatus.SUBMITTED
        )
        for rid in range(1, 61)
        for name, err in errors.items()
        if rid > 50 or rid % 3 != list(errors).index(name)  # overlap 2 on the batch
    ]
    responses.append(Response(7, "rev", {"spans": []}, ResponseStatus.SUBMITTED))
    p.add_responses(responses)
    report = p.qa_report()
    assert report["question"] == "spans" and report["score_metric"] == "span F1"
    rows = {r["name"]: r for r in report["annotators"]}
    assert (
        rows["ann"]["gold_n"] == 10 and rows["ann"]["gold_accuracy"] > rows["cat"]["gold_accuracy"]
    )
    assert rows["rev"]["gold_accuracy"] is None  # a reviewer is never gold-scored
    assert rows["rev"]["gold_reason"] == "reviewers and owners are not gold-checked"
    for row in report["annotators"]:
        for value in row.values():
            assert not (isinstance(value, float) and math.isnan(value))
    (disease,) = report["span_types"]
    assert disease["label"] == "Disease" and disease["support"] > 0
    assert disease["precision"]["ann"] >= disease["precision"]["cat"]

    counts = p.close_round()
    assert counts["final_labels"] > 0 and counts["reviews"] > 0
    with p.store.read() as tx:
        finals = {f.record_id: f for f in tx.final_labels_for(list(range(1, 61)))}
        reviews = tx.list_reviews(status="open", limit=1000)
    assert all(finals[i].provenance == Provenance.GOLD for i in range(51, 61))
    agreed = [i for i in range(1, 51) if finals.get(i) and finals[i].provenance == "consensus"]
    right = sum(finals[i].value == truth[i] for i in agreed)
    assert right >= 0.8 * len(agreed)
    for item in reviews:
        detail = item["detail"]
        assert len(detail["answers"]) >= 2  # never a record nobody (or one person) answered
        if detail["model_proposed"]:
            assert item["record_id"] not in finals or finals[item["record_id"]].provenance == "gold"


def test_a_spans_round_at_overlap_three_uses_the_annotator_model(
    ner: tuple[Project, dict[int, list[dict[str, Any]]]],
) -> None:
    """Everyone answers every record: the span annotator model decides, through the store,
    the report and round close, and its skill estimates rank the team as it is."""
    p, truth = ner
    rng = random.Random(1)
    p.start_round(size=50, gold_rate=0.0)
    errors = {"ann": 0.05, "ben": 0.2, "cat": 0.6}
    p.add_responses(
        [
            Response(rid, name, {"spans": _miss_or_shift(truth[rid], rng, err)}, DONE)
            for rid in range(1, 61)
            for name, err in errors.items()
        ]
    )
    report = p.qa_report()
    assert report["consensus"]["methods"] == {"span_model": 50, "gold": 10}
    skill = {r["name"]: r["ds_accuracy"] for r in report["annotators"]}
    assert skill["ann"] > skill["ben"] > skill["cat"]
    assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in skill.values())
    p.close_round()
    with p.store.read() as tx:
        finals = {f.record_id: f for f in tx.final_labels_for(list(range(1, 51)))}
    agreed = [i for i in finals if finals[i].provenance == "consensus"]
    assert len(agreed) >= 35
    assert sum(finals[i].value == truth[i] for i in agreed) >= 0.9 * len(agreed)


def test_a_multilabel_round_uses_per_label_consensus(tmp_path: Path) -> None:
    p = Project.init(tmp_path / "ml", template="multilabel", labels=["a", "b", "c"])
    p.add_records([{"fields": {"text": f"note {i} 🩺"}} for i in range(40)])
    for name in ("x", "y", "z"):
        p.add_user(name, Role.ANNOTATOR)
    p.start_round(size=40, gold_rate=0.0)
    truth = {i: ["a", "c"] if i % 2 else ["b"] for i in range(1, 41)}
    answers = []
    for rid, true in truth.items():
        answers.append(Response(rid, "x", {"labels": true}, ResponseStatus.SUBMITTED))
        answers.append(Response(rid, "y", {"labels": true}, ResponseStatus.SUBMITTED))
        wrong = ["a"] if rid % 5 == 0 else true
        answers.append(Response(rid, "z", {"labels": wrong}, ResponseStatus.SUBMITTED))
    p.add_responses(answers)
    counts = p.close_round()
    assert counts["final_labels"] == 40
    with p.store.read() as tx:
        finals = {f.record_id: f.value for f in tx.final_labels_for(list(truth))}
    assert finals == truth
    report = p.qa_report()
    assert report["score_metric"] == "per-label F1"
    # the frozen report counts each label of the consensus sets the close just wrote
    assert report["label_distribution"]["consensus"] == {"a": 20, "b": 20, "c": 20}
    skill = {r["name"]: r["ds_accuracy"] for r in report["annotators"]}
    assert skill["x"] > skill["z"]

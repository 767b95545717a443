"""Label-error detection for multi-label sets and spans (issue 19, item 3): planted errors
on real NCBI-Disease sentences and on a multi-label set, found and sent to review."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from goldsmith.project import Project
from goldsmith.quality.label_issues_kinds import (
    multilabel_issues,
    multilabel_proba,
    span_issues,
    token_classes,
)
from goldsmith.schema import FinalLabel, Provenance

NCBI = Path(__file__).resolve().parents[3] / "shared/data/healthcare/ncbi_disease/conll/train.tsv"


def _ncbi(n: int) -> list[tuple[str, list[tuple[int, int, str]]]]:
    out: list[tuple[str, list[tuple[int, int, str]]]] = []
    words: list[list[str]] = []
    for line in NCBI.read_text(encoding="utf-8").splitlines():
        if line.strip():
            words.append(line.split("\t"))
            continue
        text, spans, start = "", [], None
        for word, tag in [*words, ["", "O"]]:
            if tag != "I-Disease" and start is not None:
                spans.append((start, len(text) - 1, "Disease"))
                start = None
            if tag == "B-Disease":
                start = len(text)
            text += word + " "
        words = []
        out.append((text.rstrip(), spans))
        if len(out) == n:
            break
    return out


def test_token_classes_follow_code_points_after_an_astral_character() -> None:
    text = "🧬 breast cancer risk"
    toks, classes = token_classes(text, [(2, 15, "Disease")], ["O", "Disease"])
    assert [text[a:b] for a, b in toks] == ["🧬", "breast", "cancer", "risk"]
    assert classes.tolist() == [0, 1, 1, 0]


def test_planted_span_errors_rank_first() -> None:
    rng = np.random.default_rng(0)
    rows = _ncbi(1200)
    planted = set()
    given = []
    for i, (_, spans) in enumerate(rows):
        if spans and rng.random() < 0.1:
            planted.add(i)
            spans = spans[1:]  # the first entity dropped
        given.append(spans)
    found = span_issues([t for t, _ in rows], given, ["Disease"], seed=0)
    flagged = set(found.indices.tolist())
    hit = len(flagged & planted)
    chance = len(planted) / len(rows)  # about 0.05
    assert hit >= 0.6 * len(planted)
    # the rest of the flags are mostly real NCBI inconsistencies (the data's own errors)
    assert hit / len(flagged) >= 3 * chance
    first = found.indices[0]
    tokens = found.detail[int(first)]["tokens"]
    assert tokens and {"start", "end", "text", "given", "proposed"} <= set(tokens[0])
    assert found.quality.shape == (len(rows),)


def test_planted_multilabel_errors_are_flagged() -> None:
    rng = np.random.default_rng(1)
    n, k = 400, 4
    Y = (rng.random((n, k)) < 0.35).astype(np.int64)
    X = Y + rng.normal(0, 0.35, size=(n, k))  # features that carry the true sets
    given = Y.copy()
    planted = rng.choice(n, size=40, replace=False)
    for i in planted:
        given[i, rng.integers(k)] ^= 1
    P = multilabel_proba(X, given, seed=0)
    found = multilabel_issues(
        [np.flatnonzero(row).tolist() for row in given], P, ["a", "b", "c", "d"]
    )
    flagged = set(found.indices.tolist())
    assert len(flagged & set(planted.tolist())) >= 30
    assert len(flagged) <= 120
    i = next(iter(set(planted.tolist()) & flagged))
    assert found.detail[i]["missing"] or found.detail[i]["extra"]


def test_project_label_issues_on_a_spans_task_go_to_review(tmp_path: Path) -> None:
    rows = [r for r in _ncbi(400) if r[1]][:150]
    p = Project.init(tmp_path / "ner", template="ner", labels=["Disease"])
    p.add_records([{"fields": {"text": t}} for t, _ in rows])
    finals = []
    for i, (_, spans) in enumerate(rows, start=1):
        value = [{"start": s, "end": e, "label": lab} for s, e, lab in spans]
        if i % 10 == 0:
            value = value[1:]  # a missed entity
        finals.append(FinalLabel(i, "spans", value, Provenance.HUMAN))
    with p.store.write() as tx:
        tx.set_final_labels(finals)
    items = p.label_issues(limit=150)
    assert items and all(i["kind"] == "issue" for i in items)
    assert items[0]["detail"]["tokens"]
    hit = sum(i["record_id"] % 10 == 0 for i in items)
    assert hit >= 8  # of the 15 planted
    assert hit / len(items) >= 2 * 0.1
    with p.store.read() as tx:
        assert len([r for r in tx.list_reviews(status="open") if r["kind"] == "issue"]) == len(
            items
        )


def test_label_issues_refuse_free_text(tmp_path: Path) -> None:
    p = Project.init(tmp_path / "sft", template="sft")
    with pytest.raises(Exception, match="label"):
        p.label_issues()

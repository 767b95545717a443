"""The model in the loop on a real store: embed, retrain, suggest, rank the queue, stop, and
simulate; on the financial phrasebank (all-agree sentences)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from goldsmith.errors import SchemaError
from goldsmith.project import Project
from goldsmith.schema import FinalLabel, Provenance, Suggestion, SuggestionKind
from goldsmith.weak import keyword_lf

DATA = Path(__file__).resolve().parents[3] / "shared/data/finance/financial_phrasebank"
LABELS = ("positive", "negative", "neutral")


def _sentences(n: int) -> list[tuple[str, str]]:
    rows = []
    with (DATA / "Sentences_AllAgree.txt").open(encoding="latin-1") as fh:
        for line in fh:
            text, _, label = line.strip().rpartition("@")
            rows.append((text, label))
    # every third sentence of each class first, so a small n still holds all three
    rows.sort(key=lambda r: (LABELS.index(r[1]), r[0]))
    picked = [r for i, r in enumerate(rows) if i % 3 == 0]
    return sorted(picked[: n * 3], key=lambda r: hash(r[0]) % 997)[:n]


@pytest.fixture
def fin(tmp_path: Path) -> Iterator[tuple[Project, list[str]]]:
    rows = _sentences(240)
    with Project.init(tmp_path / "fin", labels=LABELS) as p:
        p.add_records([{"fields": {"text": t}} for t, _ in rows])
        yield p, [label for _, label in rows]


def _label(p: Project, gold: list[str], ids: list[int], prov: Provenance) -> None:
    with p.store.write() as tx:
        tx.set_final_labels([FinalLabel(i, "label", gold[i - 1], prov) for i in ids])


def _ranked(p: Project) -> list[int]:
    with p.store.read() as tx:
        ranks = tx.queue_ranks(list(range(1, 241)))
    return sorted(ranks, key=lambda r: (ranks[r], r))


def test_retrain_suggests_ranks_and_serves_in_that_order(fin: tuple[Project, list[str]]) -> None:
    p, gold = fin
    p.embed("tfidf")
    cold = p.retrain(strategy="margin")
    assert cold.n_labeled == 0 and cold.strategy == "coverage"  # nothing to learn from yet
    _label(p, gold, list(range(1, 61)), Provenance.GOLD)
    report = p.retrain(strategy="margin")
    assert report.strategy == "margin" and report.n_labeled == 60
    assert report.n_suggestions == 180 and report.n_ranked == 180
    with p.store.read() as tx:
        found = [s for s in tx.suggestions_for(list(range(1, 241))) if s.kind == "model"]
    assert len(found) == 180 and all(s.agent.startswith("classifier:tfidf") for s in found)
    assert not {s.record_id for s in found} & set(range(1, 61))  # labeled records get none
    hits = sum(s.value == gold[s.record_id - 1] for s in found)
    assert hits / len(found) > 0.6  # real learning, well above the 1/3 of chance
    # the queue: the most uncertain open record first, and `next` serves exactly that one
    order = _ranked(p)
    open_order = [r for r in order if r > 60]
    scores = {s.record_id: s.score for s in found}
    assert scores[open_order[0]] <= sorted(scores.values())[len(scores) // 2]
    p.add_user("ann", "annotator")
    item = p.next_item("ann")
    assert item is not None and item.record.id == open_order[0]


def test_stopping_rule_is_kept_and_reported(fin: tuple[Project, list[str]]) -> None:
    p, gold = fin
    _label(p, gold, list(range(1, 121)), Provenance.HUMAN)
    first = p.retrain(strategy="entropy")
    assert first.kappa is None and not first.stop
    kappas = [p.retrain().kappa for _ in range(3)]  # the same labels: the same model
    assert kappas == [1.0, 1.0, 1.0]
    state = p.status()["active_learning"]
    assert state["stop"] is True and state["kappas"][-3:] == [1.0, 1.0, 1.0]
    with p.store.read() as tx:
        assert tx.get_meta("strategy") == "entropy"  # remembered for the next retrain


def test_committee_uses_other_agents_suggestions(fin: tuple[Project, list[str]]) -> None:
    p, gold = fin
    _label(p, gold, list(range(1, 61)), Provenance.GOLD)
    with pytest.raises(SchemaError, match="committee"):  # only the classifier: no committee
        p.retrain(strategy="committee")
    flipped = {"positive": "negative", "negative": "neutral", "neutral": "positive"}
    p.add_suggestions(
        Suggestion(i, "label", flipped[gold[i - 1]], "llm:test", SuggestionKind.LLM, 0.99)
        for i in range(61, 241)
    )
    report = p.retrain(strategy="committee")
    assert report.strategy == "committee" and report.n_ranked == 180


def test_simulate_writes_curves_and_uses_weak_labels(
    fin: tuple[Project, list[str]], tmp_path: Path
) -> None:
    p, gold = fin
    _label(p, gold, list(range(1, 241)), Provenance.GOLD)
    out = tmp_path / "curves"
    summary = p.simulate(
        out, strategies=["random", "margin"], seed_size=10, step=30, budget=70, repeats=2
    )
    assert set(summary["strategies"]) == {"random", "margin"}
    rows = list(csv.DictReader((out / "curves.csv").read_text().splitlines()))
    assert {r["strategy"] for r in rows} == {"random", "margin"}
    assert sorted({int(r["n_labels"]) for r in rows}) == [10, 40, 70]
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 185 <= json.loads((out / "summary.json").read_text())["pool_size"] <= 200  # 80 %
    low, high = summary["strategies"]["margin"]["aulc_vs_random_ci"]
    assert low <= summary["strategies"]["margin"]["aulc_vs_random"] <= high
    kwargs = {"strategies": ["random"], "seed_size": 10, "step": 30, "budget": 40, "repeats": 1}
    with pytest.raises(SchemaError, match="lf apply"):  # weak labels come from LF votes
        p.simulate(tmp_path / "weak", with_weak=True, **kwargs)
    with pytest.raises(SchemaError, match="prelabel --with llm"):
        p.simulate(tmp_path / "llm", with_llm=True, **kwargs)
    p.apply_lfs(
        [
            keyword_lf("positive", ["rose", "increased", "grew", "profit"], name="up"),
            keyword_lf("negative", ["fell", "decreased", "loss", "down"], name="down"),
        ],
        workers=1,
    )
    weak = p.simulate(tmp_path / "weak", with_weak=True, **kwargs)
    plain = json.loads((out / "summary.json").read_text())
    assert weak["strategies"]["random"]["final_f1"] != plain["strategies"]["random"]["final_f1"]


def test_loop_needs_a_label_question(tmp_path: Path) -> None:
    with Project.init(tmp_path / "sft", template="sft") as p:
        p.add_records([{"fields": {"prompt": "hi"}}])
        with pytest.raises(SchemaError, match="label or multilabel"):
            p.retrain()


def _queue(p: Project) -> list[int]:
    """Open record ids in the order `next` serves them (rank, then id)."""
    with p.store.read() as tx:
        done = tx.done_records()
        ranks = tx.queue_ranks(list(range(1, 241)))
    return sorted((r for r in ranks if r not in done), key=lambda r: (ranks[r], r))


def test_a_queue_larger_than_the_shortlist_is_ranked_in_pages(
    fin: tuple[Project, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With 180 open records, a shortlist of 40 and pages of 50 vectors: the head is the
    full ranking's first 40, the rest follow by id, and nothing holds every vector."""
    from goldsmith.active import loop
    from goldsmith.models.classifier import LoopClassifier
    from goldsmith.store.embeddings import EmbeddingsTx

    p, gold = fin
    monkeypatch.setattr(loop, "STOP_SET_SIZE", 30)
    _label(p, gold, list(range(1, 61)), Provenance.GOLD)
    p.embed("tfidf")
    scored, read = [], []
    predict, get = LoopClassifier.predict_proba, EmbeddingsTx.get_embeddings
    monkeypatch.setattr(
        LoopClassifier, "predict_proba", lambda m, X: scored.append(len(X)) or predict(m, X)
    )
    monkeypatch.setattr(
        EmbeddingsTx, "get_embeddings", lambda tx, m, ids: read.append(len(ids)) or get(tx, m, ids)
    )
    full = p.retrain(strategy="margin")
    full_order = _queue(p)
    assert sum(scored) <= 240 + 30  # every record scored once, plus the stop set

    scored.clear()
    read.clear()
    monkeypatch.setattr(loop, "VECTOR_PAGE", 50)
    paged = loop.retrain(p.store, p.task, p.embedder(), strategy="margin", shortlist=40)
    assert max(scored) <= 100 and max(read) <= 100  # 50 a page; 40 shortlisted + 60 labeled
    assert sum(scored) < 2 * 240  # each record scored once, plus the pool and the stop set
    assert paged.n_ranked == 40 and full.n_ranked == 180
    assert paged.n_suggestions == full.n_suggestions == 180  # every open record, page by page
    with p.store.read() as tx:
        found = [s for s in tx.suggestions_for(list(range(1, 241))) if s.kind == "model"]
    assert sorted(s.record_id for s in found) == list(range(61, 241))  # replaced, not added
    order = _queue(p)
    head, tail = order[:40], order[40:]
    assert head == full_order[:40]  # the most uncertain, in the full ranking's order
    tail_open = [r for r in tail if r > 60]
    assert tail_open == sorted(set(range(61, 241)) - set(head))  # then by id
    assert tail[len(tail_open) :] == list(range(1, 61))  # the gold, still awaiting responses
    p.add_user("ann", "annotator")
    item = p.next_item("ann")
    assert item is not None and item.record.id == head[0]


def test_cold_start_at_scale_orders_a_uniform_sample(fin: tuple[Project, list[str]]) -> None:
    from goldsmith.active import loop

    p, _ = fin
    p.embed("tfidf")
    cold = loop.retrain(p.store, p.task, p.embedder(), strategy="margin", shortlist=30)
    assert cold.strategy == "coverage" and cold.n_ranked == 30
    head = _queue(p)[:30]
    assert len(set(head)) == 30 and max(head) - min(head) > 120  # spread, not the first ids
    again = loop.retrain(p.store, p.task, p.embedder(), strategy="margin", shortlist=30)
    assert _queue(p)[:30] == head and again.n_ranked == 30  # seeded: the same sample

"""Consensus and annotator scores beyond single labels: multi-label (CUAD) and spans (NCBI).

Run::

    .venv/bin/python bench/qa_kinds.py [--quick]

Called by ``bench/qa_quality.py`` too (its "kinds" part). Simulated annotators of known
quality answer real label sets; nothing is tuned on these figures.

Two teams of five (``TEAMS``): ``skewed`` (one near-perfect annotator, one careless one, as
in the single-label bench) and ``even`` (peers of similar, middling quality).

1. **Multi-label: CUAD** (``legal/cuad/master_clauses.csv``): the true set of a contract is
   the clause categories answered "Yes" (33 yes/no categories, 510 contracts). Each
   annotator has a sensitivity and a false-positive rate per label (skewed: 0.95 ... 0.6 and
   0.01 ... 0.1);
   three per contract, 5 % of contracts gold (answered by all). Consensus by per-label
   Dawid-Skene against per-label majority and the best single annotator (micro F1 and exact
   set match against the truth); each annotator's estimated F1 (the rule's skill: expected
   F1 against the per-label posteriors) against their realised F1.
2. **Spans: NCBI-Disease** (``healthcare/ncbi_disease/conll/train.tsv``, sentences with
   tokens joined by spaces): annotators who drop a true span (skewed: 5 % ... 40 %), shift
   one boundary by a word (5 % ... 30 %) and add a spurious one-word span (1 % ... 10 % of
   sentences); three per sentence. Consensus by the annotator model
   (``quality/by_kind/span_model.py``: entity Dawid-Skene and boundary EM) against the
   previous weighted overlap vote (``model=False``), exact-span majority (a span kept when
   most annotators gave exactly it), unweighted overlap voting, and the best single annotator
   (micro span F1 against the truth); the estimated span F1 (expected F1 under the model)
   against the realised one.

Every figure is a median over the seeds (5; 1 with ``--quick``).
"""

from __future__ import annotations

import argparse
import csv
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from goldsmith.kinds.multilabel import MultiLabelQuestion
from goldsmith.kinds.spans import SpansQuestion
from goldsmith.models.embed import make_embedder
from goldsmith.quality.by_kind.scores import annotator_scores
from goldsmith.quality.by_kind.sets import SetRule
from goldsmith.quality.by_kind.spans import SpanRule
from goldsmith.quality.label_issues_kinds import multilabel_issues, multilabel_proba, span_issues

SHARED = Path(__file__).resolve().parents[2] / "shared"
CUAD = SHARED / "data/legal/cuad/master_clauses.csv"
NCBI = SHARED / "data/healthcare/ncbi_disease/conll/train.tsv"
TEAMS = {  # per annotator; "skewed" as the single-label bench, "even" a team of peers
    "skewed": {
        "sensitivity": [0.95, 0.9, 0.8, 0.7, 0.6],
        "false_positive": [0.01, 0.02, 0.04, 0.07, 0.1],
        "drop": [0.05, 0.1, 0.2, 0.3, 0.4],
        "shift": [0.05, 0.1, 0.15, 0.2, 0.3],
        "spurious": [0.01, 0.03, 0.05, 0.08, 0.1],
    },
    "even": {
        "sensitivity": [0.88, 0.85, 0.82, 0.8, 0.78],
        "false_positive": [0.02, 0.025, 0.03, 0.035, 0.04],
        "drop": [0.1, 0.12, 0.15, 0.18, 0.2],
        "shift": [0.1, 0.12, 0.15, 0.18, 0.2],
        "spurious": [0.03, 0.04, 0.05, 0.06, 0.07],
    },
}
TEAM = dict(TEAMS["skewed"])
NAMES = [f"ann{j + 1}" for j in range(5)]
TEXTS: list[str] = []  # NCBI sentence texts, in load_ncbi's order


def assign(n: int, rng: np.random.Generator, overlap: int = 3, gold: float = 0.05) -> Any:
    """Which annotators answer each item (``overlap`` each; gold items answered by all)."""
    who = np.argsort(rng.random((n, len(NAMES))), axis=1)[:, :overlap]
    gold_items = set(rng.choice(n, size=max(1, round(gold * n)), replace=False).tolist())
    return [
        list(range(len(NAMES))) if i in gold_items else who[i].tolist() for i in range(n)
    ], gold_items


# --------------------------------------------------------------------------- multi-label


def load_cuad() -> tuple[list[str], list[list[str]]]:
    with CUAD.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    cats = [
        c[: -len("-Answer")]
        for c in rows[0]
        if c.endswith("-Answer") and {r[c].strip() for r in rows} <= {"Yes", "No", ""}
    ]
    return cats, [[c for c in cats if r[f"{c}-Answer"].strip() == "Yes"] for r in rows]


def multilabel_run(cats: list[str], truth: list[list[str]], seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    q = MultiLabelQuestion(name="clauses", labels=tuple(cats))
    who, gold_items = assign(len(truth), rng)
    answers: dict[int, dict[str, list[str]]] = {}
    for i, true in enumerate(truth):
        answers[i] = {}
        for j in who[i]:
            picked = [
                c
                for c in cats
                if (c in true and rng.random() < TEAM["sensitivity"][j])
                or (c not in true and rng.random() < TEAM["false_positive"][j])
            ]
            answers[i][NAMES[j]] = picked
    gold = {i: truth[i] for i in gold_items}
    out: dict[str, float] = {}
    for method in ("dawid-skene", "majority"):
        rule = SetRule(q, method=method)
        agreed = rule.consensus(answers)
        out[f"{method}_f1"], out[f"{method}_exact"] = _set_quality(
            [agreed[i].value or [] for i in range(len(truth))], truth
        )
    rule = SetRule(q)
    singles = []
    for name in NAMES:
        mine = [i for i in answers if name in answers[i]]
        singles.append(_set_quality([answers[i][name] for i in mine], [truth[i] for i in mine]))
    out["best_single_f1"] = max(s[0] for s in singles)
    out["best_single_exact"] = max(s[1] for s in singles)
    rows = annotator_scores(rule, answers, gold=gold, n_boot=200, seed=seed)
    worst_skill = worst_gold = 0.0
    for row, name in zip(rows, NAMES, strict=True):
        mine = [i for i in answers if name in answers[i]]
        true_f1 = _set_quality([answers[i][name] for i in mine], [truth[i] for i in mine])[0]
        out[f"{name}_true"] = true_f1
        out[f"{name}_skill"] = row["skill"]
        out[f"{name}_gold"] = row["gold_score"]
        worst_skill = max(worst_skill, abs(row["skill"] - true_f1))
        worst_gold = max(worst_gold, abs(row["gold_score"] - true_f1))
    out["worst_skill_error"], out["worst_gold_error"] = worst_skill, worst_gold
    out["model_proposed"] = sum(c.model_proposed for c in rule.consensus(answers).values()) / len(
        truth
    )
    return out


def _set_quality(pred: list[list[str]], truth: list[list[str]]) -> tuple[float, float]:
    tp = sum(len(set(p) & set(t)) for p, t in zip(pred, truth, strict=True))
    size = sum(len(p) + len(t) for p, t in zip(pred, truth, strict=True))
    exact = sum(set(p) == set(t) for p, t in zip(pred, truth, strict=True)) / len(truth)
    return (2 * tp / size if size else 1.0), exact


# --------------------------------------------------------------------------- spans


def load_ncbi(
    limit: int | None = None,
) -> list[tuple[list[tuple[int, int]], set[tuple[int, int, str]]]]:
    """Per sentence: token offsets (tokens joined by spaces) and the true spans."""
    out = []
    tokens: list[tuple[str, str]] = []
    for line in NCBI.read_text(encoding="utf-8").splitlines() + [""]:
        if line.strip():
            word, tag = line.split("\t")
            tokens.append((word, tag))
            continue
        if not tokens:
            continue
        offsets, spans, pos, start = [], set(), 0, None
        for k, (word, tag) in enumerate(tokens):
            offsets.append((pos, pos + len(word)))
            if tag.startswith("B-") or (tag.startswith("I-") and start is None):
                if start is not None:
                    spans.add((offsets[start][0], offsets[k - 1][1], "Disease"))
                start = k
            elif tag == "O" and start is not None:
                spans.add((offsets[start][0], offsets[k - 1][1], "Disease"))
                start = None
            pos += len(word) + 1
        if start is not None:
            spans.add((offsets[start][0], offsets[-1][1], "Disease"))
        out.append((offsets, spans))
        TEXTS.append(" ".join(word for word, _ in tokens))
        tokens = []
        if limit and len(out) >= limit:
            break
    return out


def _noisy(
    offsets: list[tuple[int, int]],
    spans: set[tuple[int, int, str]],
    j: int,
    rng: np.random.Generator,
) -> set[tuple[int, int, str]]:
    starts = {s: k for k, (s, _) in enumerate(offsets)}
    ends = {e: k for k, (_, e) in enumerate(offsets)}
    out = set()
    for s, e, lab in sorted(spans):  # sorted: a set of str tuples iterates by hash seed
        if rng.random() < TEAM["drop"][j]:
            continue
        if rng.random() < TEAM["shift"][j]:
            a, b = starts[s], ends[e]
            if rng.random() < 0.5:  # move the end by a word
                b = min(len(offsets) - 1, b + 1) if (rng.random() < 0.5 or a == b) else b - 1
            else:
                a = max(0, a - 1) if (rng.random() < 0.5 or a == b) else a + 1
            s, e = offsets[a][0], offsets[b][1]
        out.add((s, e, lab))
    if rng.random() < TEAM["spurious"][j]:
        k = int(rng.integers(len(offsets)))
        out.add((offsets[k][0], offsets[k][1], "Disease"))
    return out


def spans_run(sentences: Any, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    q = SpansQuestion(name="ner", labels=("Disease",), field="text")
    who, gold_items = assign(len(sentences), rng)
    answers: dict[int, dict[str, list[dict[str, Any]]]] = {}
    for i, (offsets, spans) in enumerate(sentences):
        answers[i] = {
            NAMES[j]: [
                {"start": s, "end": e, "label": lab}
                for s, e, lab in sorted(_noisy(offsets, spans, j, rng))
            ]
            for j in who[i]
        }
    truth = [spans for _, spans in sentences]
    out: dict[str, float] = {}
    for name, rule in (
        ("model", SpanRule(q)),
        ("weighted_vote", SpanRule(q, model=False)),
        ("overlap_majority", SpanRule(q, weighted=False)),
    ):
        agreed = rule.consensus(answers)
        out[f"{name}_f1"] = _micro(
            [
                rule.units(agreed[i].value) if agreed[i].value is not None else set()
                for i in answers
            ],
            truth,
        )
    exact = []
    for i in answers:
        votes = Counter(u for a in answers[i].values() for u in SpanRule(q).units(a))
        exact.append({u for u, n in votes.items() if n > len(answers[i]) / 2})
    out["exact_majority_f1"] = _micro(exact, truth)
    rule = SpanRule(q)
    rows = annotator_scores(
        rule, answers, gold={i: _value(truth[i]) for i in gold_items}, n_boot=200, seed=seed
    )
    best, worst_skill, worst_gold = 0.0, 0.0, 0.0
    for row, name in zip(rows, NAMES, strict=True):
        mine = [i for i in answers if name in answers[i]]
        true_f1 = _micro([rule.units(answers[i][name]) for i in mine], [truth[i] for i in mine])
        best = max(best, true_f1)
        out[f"{name}_true"], out[f"{name}_skill"], out[f"{name}_gold"] = (
            true_f1,
            row["skill"],
            row["gold_score"],
        )
        worst_skill = max(worst_skill, abs(row["skill"] - true_f1))
        worst_gold = max(worst_gold, abs(row["gold_score"] - true_f1))
    out["best_single_f1"] = best
    out["worst_skill_error"], out["worst_gold_error"] = worst_skill, worst_gold
    return out


def _value(units: set[tuple[int, int, str]]) -> list[dict[str, Any]]:
    return [{"start": s, "end": e, "label": lab} for s, e, lab in sorted(units)]


def _micro(pred: list[set[Any]], truth: list[set[Any]]) -> float:
    tp = sum(len(p & t) for p, t in zip(pred, truth, strict=True))
    size = sum(len(p) + len(t) for p, t in zip(pred, truth, strict=True))
    return 2 * tp / size if size else 1.0


# --------------------------------------------------------------------------- planted errors


def cuad_texts() -> list[str]:
    """Each contract's clause excerpts, joined (the category columns without "-Answer")."""
    with CUAD.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    cols = [c for c in rows[0] if not c.endswith("-Answer") and c != "Filename"]
    return [" ".join(r[c] for c in cols if r[c] and r[c] != "[]")[:4000] for r in rows]


def multilabel_planted(
    cats: list[str], truth: list[list[str]], X: np.ndarray, seed: int
) -> dict[str, float]:
    """10 % of contracts get one label added or removed; precision and recall of the flags."""
    rng = np.random.default_rng(seed)
    given = [list(t) for t in truth]
    planted = rng.choice(len(truth), size=len(truth) // 10, replace=False)
    for i in planted.tolist():
        c = cats[int(rng.integers(len(cats)))]
        given[i] = sorted(set(given[i]) ^ {c})
    index = {c: j for j, c in enumerate(cats)}
    Y = np.zeros((len(truth), len(cats)), dtype=np.int64)
    for i, g in enumerate(given):
        Y[i, [index[c] for c in g]] = 1
    P = multilabel_proba(X, Y, seed=seed)
    issues = multilabel_issues([[index[c] for c in g] for g in given], P, cats)
    return _pr(issues.indices, planted, len(truth))


def spans_planted(sentences: Any, seed: int, n: int = 3000) -> dict[str, float]:
    """10 % of sentences get one span dropped, shifted by a word or added; precision and
    recall of the flagged sentences."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(sentences), size=min(n, len(sentences)), replace=False)
    texts, given, planted = [], [], []
    for row, i in enumerate(pick.tolist()):
        offsets, spans = sentences[i]
        units = set(spans)
        if rng.random() < 0.1:
            planted.append(row)
            units = _noisy_once(offsets, units, rng)
        texts.append(TEXTS[i])
        given.append(sorted(units))
    issues = span_issues(texts, given, ["Disease"], seed=seed)
    return _pr(issues.indices, np.array(planted), len(texts))


def _noisy_once(
    offsets: list[tuple[int, int]], units: set[Any], rng: np.random.Generator
) -> set[Any]:
    kind = rng.integers(3) if units else 2
    units = set(units)
    if kind == 0:  # drop one
        units.discard(sorted(units)[int(rng.integers(len(units)))])
    elif kind == 1:  # move one end by a word
        s, e, lab = sorted(units)[int(rng.integers(len(units)))]
        ends = [b for _, b in offsets]
        k = ends.index(e)
        units.discard((s, e, lab))
        moved = ends[k + 1] if k + 1 < len(ends) else ends[max(k - 1, 0)]
        units.add((s, moved, lab))
    else:  # a spurious one-word span
        a, b = offsets[int(rng.integers(len(offsets)))]
        units.add((a, b, "Disease"))
    return {u for u in units if u[0] < u[1]}


def _pr(flagged: np.ndarray, planted: np.ndarray, n: int) -> dict[str, float]:
    f, p = set(flagged.tolist()), set(planted.tolist())
    hit = len(f & p)
    top = set(flagged[: len(p)].tolist())
    return {
        "precision": hit / len(f) if f else 0.0,
        "recall": hit / len(p) if p else 0.0,
        "top_precision": len(top & p) / len(p) if p else 0.0,
        "chance": len(p) / n,
        "flagged": len(f),
    }


# --------------------------------------------------------------------------- report


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def report(title: str, m: dict[str, float], methods: list[str], extra: list[str]) -> bool:
    print(f"# {title}")
    print("  consensus " + ", ".join(f"{k} {m[k]:.3f}" for k in methods + extra))
    for name in NAMES:
        print(
            f"  {name}: true {m[f'{name}_true']:.3f}  skill estimate {m[f'{name}_skill']:.3f}"
            f"  gold estimate {m[f'{name}_gold']:.3f}"
        )
    print(
        f"  worst |skill - true| {m['worst_skill_error']:.3f}, "
        f"worst |gold - true| {m['worst_gold_error']:.3f} (target 0.05)"
    )
    ours = m[methods[0]]
    beats = all(ours > m[k] for k in methods[1:] + extra)
    print(f"  ours beats every baseline: {'yes' if beats else 'NO'}")
    return beats and m["worst_skill_error"] <= 0.05


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one seed instead of five")
    args = parser.parse_args(argv)
    seeds = range(1 if args.quick else 5)
    cats, truth = load_cuad()
    sentences = load_ncbi()
    print(f"CUAD: {len(truth)} contracts, {len(cats)} yes/no clause categories")
    print(f"NCBI-Disease: {len(sentences)} sentences")
    ok = True
    for team, rates in TEAMS.items():
        TEAM.update(rates)
        print(f"\n## team {team!r}: " + "; ".join(f"{k} {v}" for k, v in rates.items()))
        ml = medians([multilabel_run(cats, truth, s) for s in seeds])
        ok &= report(
            "multi-label, CUAD (median over seeds)",
            ml,
            ["dawid-skene_f1", "majority_f1"],
            ["best_single_f1"],
        )
        print(
            f"  exact set match: dawid-skene {ml['dawid-skene_exact']:.3f}, majority "
            f"{ml['majority_exact']:.3f}, best single {ml['best_single_exact']:.3f}; "
            f"model-proposed sets {ml['model_proposed']:.1%}"
        )
        sp = medians([spans_run(sentences, s) for s in seeds])
        ok &= report(
            "spans, NCBI-Disease (median over seeds)",
            sp,
            ["model_f1", "weighted_vote_f1", "overlap_majority_f1", "exact_majority_f1"],
            ["best_single_f1"],
        )
    print("\n# planted errors (10 % of records, one error each; median over seeds)")
    embedder = make_embedder(f"model2vec:{SHARED / 'models/m2v-minilm-l6'}")
    X = np.asarray(embedder.encode(cuad_texts()), dtype=np.float64)
    for name, runs in (
        ("multi-label, CUAD", [multilabel_planted(cats, truth, X, s) for s in seeds]),
        ("spans, NCBI (3,000 sentences)", [spans_planted(sentences, s) for s in seeds]),
    ):
        m = medians(runs)
        print(
            f"  {name}: precision {m['precision']:.3f}, recall {m['recall']:.3f} "
            f"({m['flagged']:.0f} flagged); precision of the top {m['chance']:.0%}: "
            f"{m['top_precision']:.3f} (chance {m['chance']:.3f})"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Label-quality QA on the financial phrasebank (all-agree): annotator scores and label issues.

Run::

    .venv/bin/python bench/qa_quality.py [--quick] [--embedder model2vec:<folder> | tfidf]

1. **Simulated team.** Five annotators with known accuracies (0.95 ... 0.6) and errors
   concentrated on label pairs (neutral <-> positive for most, negative <-> neutral for two)
   label the real phrasebank sentences, three annotators per item; 5 % of items are gold
   (honeypots answered by every annotator). For each annotator: true accuracy (realised over
   all their responses) against the gold-based estimate (with its Wilson interval) and the
   Dawid-Skene estimate; then final-label accuracy of Dawid-Skene consensus against majority
   vote (ties broken at random, seeded).
2. **Planted noise.** 10 % of the labels flipped to a random other class; out-of-fold
   probabilities from ``LoopClassifier`` on sentence embeddings; ``find_issues`` against
   ``cleanlab.filter.find_label_issues`` called directly on the same probabilities (the
   anchor), and against cleanlab end to end (its own cross-validated logistic regression).

Every figure is a median over the seeds (5; 1 with ``--quick``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from cleanlab.count import estimate_cv_predicted_probabilities
from cleanlab.filter import find_label_issues
from sklearn.linear_model import LogisticRegression

from goldsmith.models.embed import as_corpus_embedder, make_embedder
from goldsmith.quality.annotators import annotator_confusions, gold_accuracy
from goldsmith.quality.label_issues import find_issues, out_of_fold_proba
from goldsmith.quality.resolve import dawid_skene, majority

SHARED = Path(__file__).resolve().parents[2] / "shared"
PHRASEBANK = SHARED / "data/finance/financial_phrasebank/Sentences_AllAgree.txt"
M2V = f"model2vec:{SHARED / 'models/m2v-minilm-l6'}"
CLASSES = ["negative", "neutral", "positive"]
ACCURACIES = np.array([0.95, 0.9, 0.8, 0.7, 0.6])
# Where each annotator's errors go: rows true class, columns the wrong answer given.
NEUTRAL_POSITIVE = np.array([[0, 0.8, 0.2], [0.1, 0, 0.9], [0.1, 0.9, 0]])
NEGATIVE_NEUTRAL = np.array([[0, 0.9, 0.1], [0.8, 0, 0.2], [0.2, 0.8, 0]])
ERRORS = np.stack([NEUTRAL_POSITIVE] * 3 + [NEGATIVE_NEUTRAL] * 2)


def load() -> tuple[list[str], np.ndarray]:
    lines = PHRASEBANK.read_text(encoding="latin-1").splitlines()
    pairs = [line.rsplit("@", 1) for line in lines if "@" in line]
    return [p[0] for p in pairs], np.array([CLASSES.index(p[1].strip()) for p in pairs])


def simulate_team(
    y: np.ndarray, *, overlap: int = 3, gold_frac: float = 0.05, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Response matrix, gold vector (-1 = not gold) and each annotator's true confusion."""
    rng = np.random.default_rng(seed)
    n, m, k = y.size, ACCURACIES.size, len(CLASSES)
    confusion = ERRORS * (1 - ACCURACIES)[:, None, None] + ACCURACIES[:, None, None] * np.eye(k)
    assigned = np.zeros((n, m), dtype=bool)
    pick = np.argsort(rng.random((n, m)), axis=1)[:, :overlap]
    assigned[np.arange(n)[:, None], pick] = True
    gold_items = rng.choice(n, size=round(gold_frac * n), replace=False)
    assigned[gold_items] = True  # honeypots: every annotator answers them
    cdf = np.cumsum(confusion[:, y, :], axis=2).transpose(1, 0, 2)  # (n, m, k)
    answer = (rng.random((n, m, 1)) > cdf).sum(axis=2)
    R = np.where(assigned, np.minimum(answer, k - 1), -1)
    gold = np.full(n, -1)
    gold[gold_items] = y[gold_items]
    return R, gold, confusion


def team_run(y: np.ndarray, seed: int) -> dict[str, float]:
    R, gold, confusion = simulate_team(y, seed=seed)
    out: dict[str, float] = {}
    g = gold_accuracy(R, gold)
    ds = annotator_confusions(R, gold=gold, n_classes=3, seed=seed)
    for j in range(R.shape[1]):
        mine = R[:, j] >= 0
        out[f"true_{j}"] = float((R[mine, j] == y[mine]).mean())
        out[f"gold_{j}"] = float(g.accuracy[j])
        out[f"gold_cover_{j}"] = float(g.low[j] <= out[f"true_{j}"] <= g.high[j])
        out[f"ds_{j}"] = float(ds.accuracy[j])
        out[f"cm_err_{j}"] = float(np.abs(ds.confusion[j] - confusion[j]).max())
    out["worst_ds_error"] = max(abs(out[f"ds_{j}"] - out[f"true_{j}"]) for j in range(R.shape[1]))
    rest = gold < 0  # final labels are judged on the non-gold items
    mv = majority(R, n_classes=3, ties="random", seed=seed)
    out["majority"] = float((mv.label[rest] == y[rest]).mean())
    out["majority_ties"] = float((majority(R, n_classes=3).method[rest] == "tie").mean())
    dsr = dawid_skene(R, n_classes=3, gold=gold, seed=seed)
    out["dawid_skene"] = float((dsr.label[rest] == y[rest]).mean())
    dsn = dawid_skene(R, n_classes=3, seed=seed)  # without gold
    out["dawid_skene_nogold"] = float((dsn.label[rest] == y[rest]).mean())
    return out


def plant_noise(y: np.ndarray, rate: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    flip = rng.choice(y.size, size=round(rate * y.size), replace=False)
    noisy = y.copy()
    noisy[flip] = (y[flip] + rng.integers(1, 3, flip.size)) % 3  # a random other class
    planted = np.zeros(y.size, dtype=bool)
    planted[flip] = True
    return noisy, planted


def precision_recall(flagged: np.ndarray, planted: np.ndarray) -> tuple[float, float]:
    tp = int((flagged & planted).sum())
    return tp / max(int(flagged.sum()), 1), tp / max(int(planted.sum()), 1)


def noise_run(X: np.ndarray, y: np.ndarray, seed: int) -> dict[str, float]:
    noisy, planted = plant_noise(y, 0.10, seed)
    t = time.perf_counter()
    P = out_of_fold_proba(X, noisy, n_folds=5, n_classes=3, seed=seed)
    out = {"oof_seconds": time.perf_counter() - t}
    ours = find_issues(noisy, P)
    anchor = np.asarray(find_label_issues(noisy, P), dtype=bool)
    lr = LogisticRegression(max_iter=1000)
    P_cl = estimate_cv_predicted_probabilities(X, noisy, clf=lr, seed=seed)
    end_to_end = np.asarray(find_label_issues(noisy, P_cl), dtype=bool)
    for name, flagged in (("ours", ours.is_issue), ("anchor", anchor), ("e2e", end_to_end)):
        out[f"{name}_precision"], out[f"{name}_recall"] = precision_recall(flagged, planted)
    top = ours.indices[: int(planted.sum())]  # the ranking: precision among the top n_planted
    out["ours_precision_at_n"] = float(planted[top].mean()) if top.size else 0.0
    quality_rank = np.argsort(ours.quality)[: int(planted.sum())]
    out["quality_precision_at_n"] = float(planted[quality_rank].mean())
    for variant in ("both", "prune_by_class", "confident_learning", "predicted_neq_given"):
        flagged = find_issues(noisy, P, filter_by=variant).is_issue
        p, r = precision_recall(flagged, planted)
        out[f"{variant}_f1"] = 2 * p * r / max(p + r, 1e-12)
    p, r = out["ours_precision"], out["ours_recall"]
    out["prune_by_noise_rate_f1"] = 2 * p * r / max(p + r, 1e-12)
    return out


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    """Median per key; the mean for coverage indicators (a share of seeds), max for worst."""

    def pick(key: str) -> Callable[[Iterable[float]], float]:
        return max if "worst" in key else statistics.mean if "cover" in key else statistics.median

    return {key: pick(key)(r[key] for r in runs) for key in runs[0]}


def line(name: str, ours: float, anchor: float) -> None:
    ratio = ours / anchor if anchor else float("nan")
    print(f"{name}: ours {ours:.3f}, anchor {anchor:.3f}, ratio {ratio:.2f}")


def report_team(m: dict[str, float]) -> bool:
    ok = True
    print("# simulated team (anchor = true accuracy over all the annotator's responses)")
    for j, nominal in enumerate(ACCURACIES):
        true, gold, ds = m[f"true_{j}"], m[f"gold_{j}"], m[f"ds_{j}"]
        line(f"annotator_{j}_acc{nominal:.2f}_dawid_skene", ds, true)
        line(f"annotator_{j}_acc{nominal:.2f}_gold", gold, true)
        ok &= abs(ds - true) <= 0.05
        print(
            f"  |ds - true| = {abs(ds - true):.3f}; |gold - true| = {abs(gold - true):.3f}; "
            f"confusion max abs error {m[f'cm_err_{j}']:.3f}; "
            f"Wilson 95% covers true in {m[f'gold_cover_{j}']:.0%} of seeds"
        )
    line("consensus_accuracy (anchor: majority, random ties)", m["dawid_skene"], m["majority"])
    line("consensus_accuracy_without_gold", m["dawid_skene_nogold"], m["majority"])
    print(f"  majority ties (3 votes, 3 classes): {m['majority_ties']:.1%} of items")
    ok &= m["dawid_skene"] > m["majority"] and m["worst_ds_error"] <= 0.05
    print(f"  worst |ds - true| over every seed and annotator: {m['worst_ds_error']:.3f}")
    print(
        f"check |ds - true| <= 0.05 (every annotator, every seed) and DS > majority: "
        f"{'PASS' if ok else 'FAIL'}"
    )
    return ok


def report_noise(m: dict[str, float]) -> None:
    print("# planted noise, 10 % (anchor = cleanlab.filter.find_label_issues, same probs)")
    line("label_issues_precision", m["ours_precision"], m["anchor_precision"])
    line("label_issues_recall", m["ours_recall"], m["anchor_recall"])
    line("label_issues_precision_vs_cleanlab_e2e", m["ours_precision"], m["e2e_precision"])
    line("label_issues_recall_vs_cleanlab_e2e", m["ours_recall"], m["e2e_recall"])
    print(
        f"  ranked precision@n_planted: {m['ours_precision_at_n']:.3f} (flagged first), "
        f"{m['quality_precision_at_n']:.3f} (lowest quality score); chance 0.100"
    )
    variants = (
        "prune_by_noise_rate",
        "both",
        "prune_by_class",
        "confident_learning",
        "predicted_neq_given",
    )
    print("  F1 by filter_by: " + ", ".join(f"{v} {m[f'{v}_f1']:.3f}" for v in variants))
    print(f"  out-of-fold fit: {m['oof_seconds']:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one seed instead of five")
    parser.add_argument("--embedder", default=M2V, help="model2vec:<folder> or tfidf")
    args = parser.parse_args()
    seeds = range(1 if args.quick else 5)
    start = time.perf_counter()
    texts, y = load()
    print(
        f"financial phrasebank all-agree: {y.size} sentences, classes "
        f"{np.bincount(y).tolist()} ({', '.join(CLASSES)}); seeds {list(seeds)}"
    )
    team_ok = report_team(medians([team_run(y, s) for s in seeds]))
    embedder = make_embedder(args.embedder)
    corpus = as_corpus_embedder(embedder)
    if corpus is not None:
        corpus.fit(texts)
    X = np.asarray(embedder.encode(texts), dtype=np.float64)
    print(f"embedder {args.embedder}: {X.shape[1]} dims")
    report_noise(medians([noise_run(X, y, s) for s in seeds]))
    print(f"({time.perf_counter() - start:.0f} s in all)")
    raise SystemExit(0 if team_ok else 1)


if __name__ == "__main__":
    main()

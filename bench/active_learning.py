"""Active learning: label savings on real data, and query speed against modAL / small-text.

Run with the bench environment (see ``bench/requirements-al.txt``)::

    .venv-al/bin/python bench/active_learning.py            # full: 5 repeats, 3 speed runs
    .venv-al/bin/python bench/active_learning.py --quick    # 2 repeats, 1 small-text run
    .venv-al/bin/python bench/active_learning.py --skip-speed --model lr-balanced

**Label savings.** Medical abstracts (2,888, 5 classes) and the financial phrasebank
(all-agree subset: 2,264 sentences, 3 classes), embedded with the 15 MB model2vec model
(``--embedder tfidf`` needs no files). ``goldsmith.active.simulate`` replays the gold labels:
20 % stratified test split, 20 random seed labels, 20 per query, up to 500 human labels, the
in-the-loop ``LoopClassifier``. Reported per strategy: AULC (mean macro-F1 over the budget)
and its ratio to random, labels to reach 95 % of the macro-F1 of a model trained on every
pool label, and whether its mean curve is above random's at every budget from 100 up.
Targets: the best strategy reaches 95 % with <= 10 % of the pool, and beats random at every
budget from 100 upward. ``--model lr-balanced`` swaps in a class-balanced logistic
regression to show how much of macro-F1 is class balance.

**Speed**, side by side in one process. Margin: pick 100 of 1M x 10 probabilities (ours
``margin.select``; anchor modAL ``margin_sampling`` given a classifier that returns the same
matrix). k-center: pick 100 of 100k x 384 float32 with 100 labeled (ours ``kcenter`` with
the cosine metric; anchor small-text ``greedy_coreset`` on L2-normalised rows with the
euclidean metric, which is what its ``GreedyCoreset()`` runs). Medians of several runs;
ratio = anchor time / our time (above 1: goldsmith is faster). Both must pick the same rows.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from goldsmith.active.curves import SimulationResult
from goldsmith.active.simulate import simulate
from goldsmith.active.strategies import KCenterStrategy, get_strategy
from goldsmith.prelabel.embed import make_embedder

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
MODEL2VEC = ROOT.parent / "shared" / "models" / "m2v-minilm-l6"
STRATEGIES = ["random", "least-confidence", "margin", "entropy", "kcenter", "hybrid", "committee"]


def medical() -> tuple[list[str], np.ndarray]:
    import csv

    with (DATA / "healthcare/medical_abstracts/medical_tc_test.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [r["medical_abstract"] for r in rows], np.array(
        [int(r["condition_label"]) - 1 for r in rows]
    )


def phrasebank() -> tuple[list[str], np.ndarray]:
    path = DATA / "finance/financial_phrasebank/Sentences_AllAgree.txt"
    names = ["negative", "neutral", "positive"]
    pairs = [
        ln.rsplit("@", 1) for ln in path.read_text(encoding="latin-1").splitlines() if "@" in ln
    ]
    return [p[0] for p in pairs], np.array([names.index(p[1].strip()) for p in pairs])


def embed(texts: list[str], spec: str) -> np.ndarray:
    embedder: Any = make_embedder(spec)
    if hasattr(embedder, "fit"):
        embedder.fit(texts)
    return np.asarray(embedder.encode(texts))


def savings(name: str, res: SimulationResult, out: Path) -> dict[str, Any]:
    summary = res.summary()
    xs, base, _ = res.curve("random")
    print(
        f"\n## {name}: pool {res.pool_size}, test {res.test_size}, "
        f"full-pool macro-F1 {summary['full_f1']:.3f} (95 %: {summary['target_f1']:.3f})"
    )
    print(
        f"{'strategy':<17} {'AULC':>6} {'vs random':>9} {'labels to 95%':>14} {'share':>6} "
        f"{'> random from 100':>18}"
    )
    for strat, s in summary["strategies"].items():
        _, mean, _ = res.curve(strat)
        from_100 = xs >= 100
        beats = bool((mean[from_100] > base[from_100]).all()) if strat != "random" else None
        s["beats_random_from_100"] = beats
        need = "never" if s["labels_to_target"] is None else str(s["labels_to_target"])
        share = "" if s["share_of_pool"] is None else f"{100 * s['share_of_pool']:.1f}%"
        print(
            f"{strat:<17} {s['aulc']:6.3f} {s['aulc_vs_random']:9.3f} {need:>14} {share:>6} "
            f"{'' if beats is None else ('yes' if beats else 'no'):>18}"
        )
    others = {k: v for k, v in summary["strategies"].items() if k != "random"}
    best = max(others, key=lambda k: others[k]["aulc"])
    b = others[best]
    ok95 = b["share_of_pool"] is not None and b["share_of_pool"] <= 0.10
    print(f"best strategy (AULC): {best}")
    print(
        f"target best reaches 95 % with <= 10 % of the pool: {'met' if ok95 else 'NOT met'} "
        f"({'never' if b['labels_to_target'] is None else b['labels_to_target']} labels)"
    )
    print(
        f"target best beats random at every budget >= 100: "
        f"{'met' if b['beats_random_from_100'] else 'NOT met'}"
    )
    stem = name.lower().replace(" ", "_")
    res.write_csv(out / f"{stem}.csv")
    res.plot(out / f"{stem}.png", title=f"{name}: macro-F1 vs human labels")
    summary["best"] = best
    return summary


class BalancedLR:
    """``--model lr-balanced``: plain logistic regression with class weights inversely
    proportional to class frequency (no calibration), to show what balancing does for
    macro-F1 next to the default ``LoopClassifier``."""

    def __init__(self, *, n_classes: int, multilabel: bool = False) -> None:
        self.k = n_classes

    def fit(self, X: np.ndarray, y: np.ndarray) -> BalancedLR:
        self.model = LogisticRegression(C=10.0, max_iter=1000, class_weight="balanced")
        with threadpool_limits(1, user_api="blas"):
            self.model.fit(X, y)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        out = np.zeros((len(X), self.k))
        with threadpool_limits(1, user_api="blas"):
            out[:, self.model.classes_] = self.model.predict_proba(X)
        return out


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


class _Fixed:
    """A 'classifier' whose predict_proba hands back a precomputed matrix (for modAL)."""

    def __init__(self, proba: np.ndarray) -> None:
        self.proba = proba

    def predict_proba(self, X: Any, **_: Any) -> np.ndarray:
        return self.proba


def speed(quick: bool) -> None:
    print("\n## Speed (medians; ratio = anchor time / our time)")
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(10), size=1_000_000)
    margin = get_strategy("margin")
    ours_t, ours = timed(lambda: margin.select(100, proba=P), 7)
    try:
        from modAL.uncertainty import margin_sampling
    except ImportError:
        print(f"margin_1Mx10: ours {ours_t:.3f} s, anchor modAL not installed (use .venv-al)")
    else:
        clf = _Fixed(P)
        X = np.empty((len(P), 0))
        anchor_t, (anchor, _) = timed(lambda: margin_sampling(clf, X, n_instances=100), 7)
        same = set(ours.tolist()) == set(np.asarray(anchor).tolist())
        print(
            f"margin_1Mx10: ours {ours_t:.3f} s, anchor {anchor_t:.3f} s, "
            f"ratio {anchor_t / ours_t:.1f} (same picks: {same})"
        )
    print(f"target margin 1M x 10 <= 0.1 s: {'met' if ours_t <= 0.1 else 'NOT met'}")

    X = rng.standard_normal((100_000, 384), dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    labeled = rng.choice(len(X), size=100, replace=False)
    kcenter = KCenterStrategy(metric="cosine")
    ours_t, ours = timed(lambda: kcenter.select(100, embeddings=X, labeled=labeled), 5)
    try:
        from small_text.query_strategies.coresets import greedy_coreset
    except ImportError:
        print(f"kcenter_100_of_100kx384: ours {ours_t:.2f} s, anchor small-text not installed")
        return
    every = np.arange(len(X))  # labeled rows sit at distance 0 and are never picked

    def anchor_run() -> Any:
        return greedy_coreset(X, every, labeled, 100, distance_metric="euclidean", normalized=True)

    anchor_t, anchor = timed(anchor_run, 1 if quick else 3)
    same = np.asarray(anchor).tolist() == ours.tolist()
    print(
        f"kcenter_100_of_100kx384: ours {ours_t:.2f} s, anchor {anchor_t:.2f} s, "
        f"ratio {anchor_t / ours_t:.1f} (same picks: {same})"
    )
    print(f"target kcenter >= 30x small-text: {'met' if anchor_t / ours_t >= 30 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 repeats, 1 small-text run")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--budget", type=int, default=500)
    parser.add_argument("--embedder", default=f"model2vec:{MODEL2VEC}")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "_data" / "active_learning")
    parser.add_argument(
        "--model", choices=["loop", "lr-balanced"], default="loop", help="the in-loop model"
    )
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-savings", action="store_true")
    args = parser.parse_args()
    repeats = args.repeats or (2 if args.quick else 5)
    started = time.perf_counter()
    print(
        f"# Active learning bench: embedder {args.embedder}, {repeats} repeats, "
        f"budget {args.budget}, seed 20, step 20, model {args.model}"
    )
    results = {}
    if not args.skip_savings:
        for name, load in (("Medical abstracts", medical), ("Financial phrasebank", phrasebank)):
            texts, y = load()
            t = time.perf_counter()
            X = embed(texts, args.embedder)
            res = simulate(
                X,
                y,
                strategies=STRATEGIES,
                seed_size=20,
                step=20,
                budget=args.budget,
                repeats=repeats,
                seed=0,
                model_factory=BalancedLR if args.model == "lr-balanced" else None,
            )
            results[name] = savings(name, res, args.out / args.model)
            print(f"({len(texts)} texts, {time.perf_counter() - t:.0f} s)")
        (args.out / args.model / "summary.json").write_text(json.dumps(results, indent=2))
        print(f"\ncurves, plots and summary in {args.out / args.model}")
    if not args.skip_speed:
        speed(args.quick)
    print(f"\n({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()

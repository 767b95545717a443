"""Active learning: label savings on real data, scored outside the pool, and query speed.

Run (figures in bench/RESULTS.md)::

    .venv/bin/python bench/active_learning.py --embedder model2vec     # every set, 5 repeats
    .venv/bin/python bench/active_learning.py --embedder tfidf
    .venv/bin/python bench/active_learning.py --sets pb_all,medical --strategies \
        random,auto,margin,hybrid,coverage,entropy,least-confidence,kcenter,committee
    .venv/bin/python bench/active_learning.py --speed-only              # needs .venv-al

**Protocol.** Each set has a fixed test split outside the pool: WRENCH's own test split for
``youtube`` and ``trec`` (pool: train + valid, gold as the annotator); for the others a
stratified 20 % drawn once with seed 12345 (never by the simulator). Every curve is scored
on it; nothing is chosen on it (the ``auto`` hand-off and the semi-supervised settings were
set on other seeds' splits of two sets). The simulator starts from 50 random labels and
asks 50 at a time up to 1,000 (or the pool), 5 repeats (seed sets), with the in-loop
:class:`~goldsmith.models.classifier.LoopClassifier`.

Reported per set and embedder:

* full-pool macro-F1 of the new learner (balanced decision rule) against today's (argmax of
  the calibrated probabilities) and the uncalibrated regression, and the test ECE of both;
* ``auto`` (and any other strategy) against ``random``: AULC ratio with its 95 % interval
  over the paired repeats, the smallest difference of the mean curves over the budgets, and
  whether it is ever more than one standard deviation below;
* the human labels the whole loop (``auto`` + semi-supervised labels, + weak labels from the
  WRENCH LFs where a set has them, a label model fitted inside the simulation on revealed
  labels only) needs to reach 95 % of the full-pool macro-F1, as a share of the pool.

Sets: ``pb_all`` / ``pb_50`` (financial phrasebank, all-agree and 50-agree), ``medical``
(medical abstracts), ``youtube`` and ``trec`` (WRENCH texts), ``cuad`` (about 11,000 CUAD
clause texts in 41 categories, texts in several categories dropped).
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score

from goldsmith.active.simulate import simulate
from goldsmith.active.strategies import KCenterStrategy, get_strategy
from goldsmith.models.calibrate import expected_calibration_error
from goldsmith.models.classifier import LoopClassifier
from goldsmith.models.embed import make_embedder
from goldsmith.weak.label_models import LabelModel

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
MODEL2VEC = ROOT.parent / "shared" / "models" / "m2v-minilm-l6"
SPLIT_SEED = 12345
Set = tuple[list[str], np.ndarray, list[str], np.ndarray, np.ndarray | None]
"""pool texts, pool labels, test texts, test labels, pool LF votes (or None)."""


def _split(texts: list[str], y: np.ndarray) -> Set:
    rng = np.random.default_rng(SPLIT_SEED)
    test = np.concatenate(
        [
            rng.permutation(np.flatnonzero(y == c))[: max(1, round(0.2 * (y == c).sum()))]
            for c in np.unique(y)
        ]
    )
    is_test = np.zeros(len(y), dtype=bool)
    is_test[test] = True
    pool = np.flatnonzero(~is_test)
    return [texts[i] for i in pool], y[pool], [texts[i] for i in test], y[test], None


def phrasebank(level: str) -> Set:
    path = DATA / f"finance/financial_phrasebank/Sentences_{level}.txt"
    names = ["negative", "neutral", "positive"]
    lines = path.read_text(encoding="latin-1").splitlines()
    pairs = [ln.rsplit("@", 1) for ln in lines if "@" in ln]
    return _split([p[0] for p in pairs], np.array([names.index(p[1].strip()) for p in pairs]))


def medical() -> Set:
    with (DATA / "healthcare/medical_abstracts/medical_tc_test.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    y = np.array([int(r["condition_label"]) - 1 for r in rows])
    return _split([r["medical_abstract"] for r in rows], y)


def cuad() -> Set:
    csv.field_size_limit(10**9)
    with (DATA / "legal/cuad/master_clauses.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    cats = [c for c in rows[0] if not c.endswith("Answer") and c != "Filename"]
    found: dict[str, set[str]] = {}
    for row in rows:
        for c in cats:
            if row[c].strip():
                for text in ast.literal_eval(row[c]):
                    if text.strip():
                        found.setdefault(text.strip(), set()).add(c)
    items = sorted((t, next(iter(cs))) for t, cs in found.items() if len(cs) == 1)
    names = sorted({c for _, c in items})
    return _split([t for t, _ in items], np.array([names.index(c) for _, c in items]))


def wrench(name: str) -> Set:
    def load(split: str) -> list[dict[str, Any]]:
        path = DATA / f"weak_supervision/wrench/{name}/{split}.json"
        return list(json.loads(path.read_text()).values())

    pool = load("train") + load("valid")
    test = load("test")
    return (
        [r["data"]["text"] for r in pool],
        np.array([r["label"] for r in pool]),
        [r["data"]["text"] for r in test],
        np.array([r["label"] for r in test]),
        np.array([r["weak_labels"] for r in pool]),
    )


SETS: dict[str, Callable[[], Set]] = {
    "pb_all": lambda: phrasebank("AllAgree"),
    "pb_50": lambda: phrasebank("50Agree"),
    "medical": medical,
    "youtube": lambda: wrench("youtube"),
    "trec": lambda: wrench("trec"),
    "cuad": cuad,
}


def embed(pool: list[str], test: list[str], spec: str) -> tuple[np.ndarray, np.ndarray]:
    embedder: Any = make_embedder(f"model2vec:{MODEL2VEC}" if spec == "model2vec" else spec)
    if hasattr(embedder, "fit"):
        embedder.fit(pool)  # a corpus embedder learns from the pool only
    return np.asarray(embedder.encode(pool)), np.asarray(embedder.encode(test))


def learners(X: np.ndarray, y: np.ndarray, Xt: np.ndarray, yt: np.ndarray) -> dict[str, float]:
    """Full-pool macro-F1: the new decision rule, today's (calibrated argmax), plain LR."""
    k = int(max(y.max(), yt.max())) + 1
    model = LoopClassifier(n_classes=k).fit(X, y)
    plain = LoopClassifier(n_classes=k, method="none").fit(X, y)
    P = model.predict_proba(Xt)

    def f1(pred: np.ndarray) -> float:
        return float(f1_score(yt, pred, labels=np.arange(k), average="macro", zero_division=0))

    return {
        "new": f1(model.predict(Xt)),
        "today": f1(P.argmax(axis=1)),
        "uncalibrated_lr": f1(plain.predict(Xt)),
        "ece_calibrated": expected_calibration_error(P.max(axis=1), P.argmax(axis=1) == yt),
        "classes_predicted_new": int(len(np.unique(model.predict(Xt)))),
    }


def run(name: str, spec: str, args: argparse.Namespace) -> dict[str, Any]:
    pool, y, test, yt, L = SETS[name]()
    t0 = time.perf_counter()
    X, Xt = embed(pool, test, spec)
    out: dict[str, Any] = {"pool": len(pool), "test": len(test), "classes": int(y.max() + 1)}
    out["learner"] = learners(X, y, Xt, yt)
    lr = out["learner"]
    print(
        f"\n## {name} ({spec}): pool {len(pool)}, test {len(test)}, {out['classes']} classes\n"
        f"full_pool_macro_f1: ours {lr['new']:.3f}, anchor (today) {lr['today']:.3f}, "
        f"ratio {lr['new'] / max(lr['today'], 1e-9):.3f}; "
        f"uncalibrated LR {lr['uncalibrated_lr']:.3f}"
        f"; ECE {lr['ece_calibrated']:.3f}",
        flush=True,
    )
    budget = min(args.budget, len(pool))
    common = {"test": (Xt, yt), "seed_size": args.step, "step": args.step, "budget": budget}
    common["repeats"] = args.repeats
    res = simulate(X, y, strategies=args.strategies, **common)
    summary = res.summary()
    out["full_f1"] = summary["full_f1"]
    out["strategies"] = summary["strategies"]
    for strat, s in summary["strategies"].items():
        xs, mean, _ = res.curve(strat)
        s["curve"] = {"n_labels": xs.tolist(), "mean": mean.round(4).tolist()}
        if strat == "random":
            continue
        low, high = s["aulc_vs_random_ci"]
        need = s["labels_to_target"]
        print(
            f"{strat}_vs_random_aulc: ours {s['aulc']:.3f}, anchor "
            f"{summary['strategies']['random']['aulc']:.3f}, ratio {s['aulc_vs_random']:.3f} "
            f"(95 % CI {low:.3f}-{high:.3f}); min diff {s['min_diff_vs_random']:+.3f} at "
            f"{s['min_diff_vs_random_at']}; below by > 1 std: "
            f"{s['below_random_by_more_than_one_std']}; labels to 95 %: "
            f"{need if need is not None else 'not reached'}",
            flush=True,
        )
    if args.whole_loop:
        weak = None
        if L is not None:
            weak = (L, lambda k: LabelModel(k))
        loop = simulate(
            X, y, strategies=["random", "auto"], semi_supervised=True, weak_votes=weak, **common
        )
        ls = loop.summary()
        s = ls["strategies"]["auto"]
        need = s["labels_to_target"]
        base_target = 0.95 * summary["full_f1"]
        _, mean, _ = loop.curve("auto")
        xs = loop.curve("auto")[0]
        hit = np.flatnonzero(mean >= base_target)
        need_vs_human = int(xs[hit[0]]) if hit.size else None
        out["whole_loop"] = {
            "weak": weak is not None,
            "aulc": s["aulc"],
            "random_same_extras_aulc": ls["strategies"]["random"]["aulc"],
            "labels_to_95_of_human_full_pool": need_vs_human,
            "share_of_pool": None if need_vs_human is None else need_vs_human / len(pool),
            "curve": {"n_labels": xs.tolist(), "mean": mean.round(4).tolist()},
        }
        share = out["whole_loop"]["share_of_pool"]
        print(
            f"whole_loop (auto + semi-supervised{' + weak' if weak else ''}): AULC {s['aulc']:.3f}"
            f" (plain auto {summary['strategies']['auto']['aulc']:.3f}); human labels to 95 % of "
            f"the full-pool F1 ({base_target:.3f}): "
            + (
                "not reached"
                if need_vs_human is None
                else f"{need_vs_human} ({100 * share:.1f} % of the pool)"
            ),
            flush=True,
        )
    print(f"({time.perf_counter() - t0:.0f} s)", flush=True)
    return out


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def speed() -> None:
    """Query speed against modAL / small-text (needs bench/requirements-al.txt)."""
    print("\n## Speed (medians; ratio = anchor time / our time)")
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(10), size=1_000_000)
    ours_t, ours = timed(lambda: get_strategy("margin").select(100, proba=P), 7)
    try:
        from modAL.uncertainty import margin_sampling
    except ImportError:
        print(f"margin_1Mx10: ours {ours_t:.3f} s, anchor modAL not installed (use .venv-al)")
    else:

        class Fixed:
            def predict_proba(self, X: Any, **_: Any) -> np.ndarray:
                return P

        anchor_t, (anchor, _) = timed(
            lambda: margin_sampling(Fixed(), np.empty((len(P), 0)), n_instances=100), 7
        )
        same = set(ours.tolist()) == set(np.asarray(anchor).tolist())
        print(
            f"margin_1Mx10: ours {ours_t:.3f} s, anchor {anchor_t:.3f} s, "
            f"ratio {anchor_t / ours_t:.1f} (same picks: {same})"
        )
    X = rng.standard_normal((100_000, 384), dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    labeled = rng.choice(len(X), size=100, replace=False)
    kc = KCenterStrategy(metric="cosine")
    ours_t, ours = timed(lambda: kc.select(100, embeddings=X, labeled=labeled), 5)
    try:
        from small_text.query_strategies.coresets import greedy_coreset
    except ImportError:
        print(f"kcenter_100_of_100kx384: ours {ours_t:.2f} s, anchor small-text not installed")
        return
    every = np.arange(len(X))
    anchor_t, anchor = timed(
        lambda: greedy_coreset(
            X, every, labeled, 100, distance_metric="euclidean", normalized=True
        ),
        3,
    )
    same = np.asarray(anchor).tolist() == ours.tolist()
    print(
        f"kcenter_100_of_100kx384: ours {ours_t:.2f} s, anchor {anchor_t:.2f} s, "
        f"ratio {anchor_t / ours_t:.1f} (same picks: {same})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--embedder", default="model2vec", help="model2vec or tfidf")
    parser.add_argument("--strategies", default="random,auto")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--step", type=int, default=50)
    parser.add_argument("--no-whole-loop", dest="whole_loop", action="store_false")
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "_data" / "active_learning")
    args = parser.parse_args()
    if args.speed_only:
        speed()
        return
    args.strategies = args.strategies.split(",")
    started = time.perf_counter()
    print(
        f"# Active learning bench: {args.embedder}, {args.repeats} repeats, seed {args.step},"
        f" step {args.step}, budget {args.budget}, strategies {','.join(args.strategies)}"
    )
    results = {name: run(name, args.embedder, args) for name in args.sets.split(",")}
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{args.embedder}-{'-'.join(args.strategies)}.json"
    path.write_text(json.dumps(results, indent=2))
    reached = [
        n
        for n, r in results.items()
        if r.get("whole_loop", {}).get("share_of_pool") is not None
        and r["whole_loop"]["share_of_pool"] <= 0.10
    ]
    print(
        f"\nwhole loop reaches 95 % with <= 10 % of the pool on {len(reached)} of "
        f"{len(results)} sets: {', '.join(reached) or 'none'}"
    )
    print(f"results in {path} ({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()

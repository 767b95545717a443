"""Label models on WRENCH (youtube, sms, trec) and span LFs on NCBI-Disease, against Snorkel.

Also prints Dawid-Skene against majority vote on WRENCH, and the span HMM (``SpanHMM``)
against token majority vote on NCBI-Disease, as "name: ours X, anchor Y, ratio Z".

Run with the bench environment (see ``bench/requirements-snorkel.txt``)::

    .venv-bench/bin/python bench/wrench.py [--data ../shared/data/weak_supervision]

Protocol (WRENCH, Zhang et al. 2021): fit on ``train``, report on ``test``; the metric is
accuracy, except sms where it is F1 of the spam class. ``valid`` is the gold (dev) set for
the models marked "+dev" and for ``auto``; every other model sees only ``train``'s label
matrix. Every model, ours and Snorkel's, is scored under both policies:

* ``random``: ties broken uniformly at random (seed 0); a record with no vote gets the
  argmax of the model's class balance (ours: estimated; Snorkel's LabelModel: uniform unless
  given, so its uncovered records are random too).
* ``abstain``: ties and records with no vote get -1 (a wrong answer; "not spam" for F1).

Snorkel anchors: ``snorkel.labeling.model.LabelModel`` with its defaults (fit on train,
seeds 0-2, median) and ``MajorityLabelVoter``. Published numbers: shared/data/README.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from goldsmith.weak.label_models import DawidSkene, LabelModel, MajorityVote
from goldsmith.weak.label_models.hmm import SpanHMM
from goldsmith.weak.label_models.select import select_model
from goldsmith.weak.label_models.spans import SpanLabelModel, span_f1

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/weak_supervision"
DATASETS = {"youtube": 2, "sms": 2, "trec": 6}
POLICIES = ("random", "abstain")
# Best published WRENCH label model per dataset (shared/data/README.md) and its name.
PUBLISHED_BEST = {"youtube": (84.0, "MV/MeTaL"), "sms": (23.97, "MV/WMV"), "trec": (64.2, "DP")}
PUBLISHED_SNORKEL = {"youtube": 84.0, "sms": 7.06, "trec": 57.6}
NCBI_PUBLISHED = {"MV": 72.37, "HMM": 78.34, "CHMM": 78.71}

Split = tuple[np.ndarray, np.ndarray]


def load_split(path: Path) -> Split:
    records = json.loads(path.read_text()).values()
    L = np.array([r["weak_labels"] for r in records], dtype=np.int64)
    y = np.array([r["label"] for r in records], dtype=np.int64)
    return L, y


def metric(dataset: str, y: np.ndarray, pred: np.ndarray) -> float:
    """Accuracy, or F1 of class 1 (spam) for sms, in percent."""
    if dataset == "sms":
        tp = int(((pred == 1) & (y == 1)).sum())
        fp = int(((pred == 1) & (y != 1)).sum())
        fn = int(((pred != 1) & (y == 1)).sum())
        return 100.0 * 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return 100.0 * float((pred == y).mean())


def our_models(
    dataset: str, k: int, train: Split, valid: Split
) -> dict[str, Callable[[], tuple[Any, float]]]:
    """Name -> fit function returning (fitted model, seconds)."""
    Lt, (Lv, yv) = train[0], valid

    def select_metric(y: np.ndarray, pred: np.ndarray) -> float:
        return metric(dataset, y, pred)

    def timed(make: Callable[[], Any]) -> tuple[Any, float]:
        t = time.perf_counter()
        model = make()
        return model, time.perf_counter() - t

    return {
        "MajorityVote": lambda: timed(lambda: MajorityVote(k).fit(Lt)),
        "DawidSkene": lambda: timed(lambda: DawidSkene(k).fit(Lt)),
        "LabelModel": lambda: timed(lambda: LabelModel(k).fit(Lt)),
        "LabelModel+dev": lambda: timed(lambda: LabelModel(k).fit(Lt, L_dev=Lv, Y_dev=yv)),
        "auto+dev": lambda: timed(  # picks on valid, by the dataset's own metric
            lambda: select_model(Lt, Lv, yv, cardinality=k, metric=select_metric).model
        ),
    }


def snorkel_scores(dataset: str, k: int, train: Split, test: Split) -> dict[str, dict[str, float]]:
    """Snorkel's LabelModel (median of seeds 0-2) and MajorityLabelVoter, both policies."""
    try:
        from snorkel.labeling.model import LabelModel as SnorkelLabelModel
        from snorkel.labeling.model import MajorityLabelVoter
    except ImportError:
        return {}
    Le, ye = test
    out: dict[str, dict[str, float]] = {"snorkel LabelModel": {}, "snorkel MajorityLabelVoter": {}}
    per_seed: dict[str, list[float]] = {p: [] for p in POLICIES}
    for seed in (0, 1, 2):
        lm = SnorkelLabelModel(cardinality=k, verbose=False)
        lm.fit(train[0], seed=seed, progress_bar=False)
        for policy in POLICIES:
            pred = lm.predict(Le, tie_break_policy=policy)
            per_seed[policy].append(metric(dataset, ye, pred))
    for policy in POLICIES:
        out["snorkel LabelModel"][policy] = statistics.median(per_seed[policy])
        mv = MajorityLabelVoter(cardinality=k)
        np.random.seed(0)  # MajorityLabelVoter's random tie-break uses the global generator
        out["snorkel MajorityLabelVoter"][policy] = metric(
            dataset, ye, mv.predict(Le, tie_break_policy=policy)
        )
    return out


def run_wrench(root: Path) -> dict[str, dict[str, dict[str, float]]]:
    results: dict[str, dict[str, dict[str, float]]] = {}
    for dataset, k in DATASETS.items():
        base = root / "wrench" / dataset
        train, valid, test = (load_split(base / f"{s}.json") for s in ("train", "valid", "test"))
        rows: dict[str, dict[str, float]] = {}
        for name, fit in our_models(dataset, k, train, valid).items():
            model, seconds = fit()
            rows[name] = {
                p: metric(dataset, test[1], model.predict(test[0], tie_break=p)) for p in POLICIES
            }
            rows[name]["fit_s"] = seconds
        rows.update(snorkel_scores(dataset, k, train, test))
        results[dataset] = rows
    return results


def run_ncbi(root: Path) -> dict[str, float]:
    base = root / "chmm" / "NCBI-Disease"
    meta = json.loads((base / "meta.json").read_text())
    types = list(meta["entity_types"])

    def load(split: str) -> tuple[list[int], list[Any], list[Any]]:
        docs = list(json.loads((base / f"{split}.json").read_text()).values())
        lengths = [len(d["data"]["text"]) for d in docs]
        sources = [[[tuple(s) for s in spans] for spans in d["weak_labels"]] for d in docs]
        gold = [[tuple(s) for s in d["label"]] for d in docs]
        return lengths, sources, gold

    train, test = load("train"), load("test")
    recommended = [meta["lf"].index(name) for name in meta["lf_rec"]]

    def subset(sources: list[Any], idx: list[int]) -> list[Any]:
        return [[doc[i] for i in idx] for doc in sources]

    out: dict[str, float] = {}
    for label, idx in (("all 17 sources", list(range(len(meta["lf"])))), ("5 lf_rec", recommended)):
        for name, base_model in (
            ("token MV", lambda k, s: MajorityVote(k, seed=s)),
            ("SpanLabelModel", lambda k, s: LabelModel(k, seed=s)),
            ("SpanLabelModel(DawidSkene)", lambda k, s: DawidSkene(k, seed=s)),
        ):
            model = SpanLabelModel(types, base=base_model).fit(train[0], subset(train[1], idx))
            pred = model.predict_spans(test[0], subset(test[1], idx))
            out[f"{name}, {label}"] = 100.0 * span_f1(pred, test[2])[2]
        hmm = SpanHMM(types).fit(train[0], subset(train[1], idx))  # no gold
        pred = hmm.predict_spans(test[0], subset(test[1], idx))
        out[f"SpanHMM, {label}"] = 100.0 * span_f1(pred, test[2])[2]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    results = run_wrench(args.data)
    print("WRENCH test split (accuracy %; sms: F1 of spam %). Columns: tie policy.")
    print("'+dev' models also learn from the valid split's gold labels; others see train only.")
    print("No-vote records: our models predict the estimated class balance ('random') or -1.")
    print(f"{'dataset':8s} {'model':28s} {'random':>7s} {'abstain':>7s}  published best")
    for dataset, rows in results.items():
        best, who = PUBLISHED_BEST[dataset]
        for name, row in rows.items():
            print(
                f"{dataset:8s} {name:28s} {row['random']:7.2f} {row['abstain']:7.2f}"
                f"  {best:.2f} ({who})"
            )
    print()
    for dataset, rows in results.items():
        snorkel = rows.get("snorkel LabelModel")
        for ours_name in ("LabelModel", "LabelModel+dev"):
            for policy in POLICIES:
                ours = rows[ours_name][policy]
                if snorkel is None:
                    print(f"wrench/{dataset} [{ours_name}, {policy}]: ours {ours:.2f}, snorkel n/a")
                    continue
                ref = snorkel[policy]
                ratio = ours / ref if ref else float("inf")
                print(
                    f"wrench/{dataset} [{ours_name}, {policy}]: ours {ours:.2f}, "
                    f"snorkel {ref:.2f}, ratio {ratio:.2f}"
                )
    print()
    print("Dawid-Skene against majority vote (both fitted on train without gold):")
    for dataset, rows in results.items():
        for policy in POLICIES:
            ours, ref = rows["DawidSkene"][policy], rows["MajorityVote"][policy]
            ratio = ours / ref if ref else float("inf")
            print(
                f"wrench/{dataset} [DawidSkene vs MajorityVote, {policy}]: ours {ours:.2f}, "
                f"anchor {ref:.2f}, ratio {ratio:.2f}"
            )
    print()
    ncbi = run_ncbi(args.data)
    print("NCBI-Disease (CHMM) test, entity-level exact-match F1 %; token IO tagging;")
    print("sources abstain outside their spans, so token MV = any source tags the token.")
    for name, f1 in ncbi.items():
        print(f"ncbi/{name}: {f1:.2f}")
    print("published: " + ", ".join(f"{k} {v:.2f}" for k, v in NCBI_PUBLISHED.items()))
    for label in ("all 17 sources", "5 lf_rec"):
        ours, ref = ncbi[f"SpanHMM, {label}"], ncbi[f"token MV, {label}"]
        print(
            f"ncbi/SpanHMM vs token MV, {label}: ours {ours:.2f}, anchor {ref:.2f}, "
            f"ratio {ours / ref:.3f} (difference {ours - ref:+.2f} F1; goal +2)"
        )
    if args.json:
        args.json.write_text(json.dumps({"wrench": results, "ncbi": ncbi}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

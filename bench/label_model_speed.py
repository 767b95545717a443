"""Label-model speed, memory and accuracy on synthetic label matrices, against Snorkel.

Run with the bench environment (see ``bench/requirements-snorkel.txt``)::

    .venv-bench/bin/python bench/label_model_speed.py            # 100k x 50 and 1M x 100
    .venv-bench/bin/python bench/label_model_speed.py --quick    # 100k x 50 only

Synthetic data: class balance drawn from a Dirichlet(2) (imbalanced), each LF fires on a
random 3-30 % of records (70-97 % abstains), votes the true class with its accuracy drawn
from 0.55-0.9 and otherwise a uniformly random wrong class.

Each (model, size, k) runs in a fresh subprocess, so its peak RSS (``ru_maxrss``) is its
own: it includes the label matrix in the model's input format (ours: sparse CSR; Snorkel:
the dense int array its ``LabelModel`` takes). Time = ``fit`` + ``predict_proba`` on all
records, median of ``--repeats`` runs (Snorkel at 1M: one run). Accuracy = argmax of
``predict_proba`` against the true classes. Snorkel's LabelModel runs with its defaults
(100 epochs, seed 0).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np
import scipy.sparse as sp


def synthetic(n: int, m: int, k: int, seed: int = 0) -> tuple[sp.csr_matrix, np.ndarray]:
    """Sparse L (label + 1, 0 = abstain) and true classes; see the module docstring."""
    rng = np.random.default_rng(seed)
    balance = rng.dirichlet(np.full(k, 2.0))
    y = rng.choice(k, size=n, p=balance).astype(np.int8)
    acc = rng.uniform(0.55, 0.9, m)
    cov = rng.uniform(0.03, 0.3, m)
    rows, cols, vals = [], [], []
    for j in range(m):
        r = np.flatnonzero(rng.random(n) < cov[j]).astype(np.int32)
        right = rng.random(r.size) < acc[j]
        wrong = (y[r] + rng.integers(1, k, r.size)) % k
        rows.append(r)
        cols.append(np.full(r.size, j, dtype=np.int32))
        vals.append((np.where(right, y[r], wrong) + 1).astype(np.int8))
    L = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, m)
    )
    return L, y


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def child(model: str, n: int, m: int, k: int, repeats: int) -> dict[str, Any]:
    L, y = synthetic(n, m, k)
    times: list[float] = []
    acc = float("nan")
    if model.startswith("snorkel"):
        from snorkel.labeling.model import LabelModel as SnorkelLabelModel

        D = L.toarray().astype(np.int64) - 1  # Snorkel's input format
        del L
        rss_input = peak_rss_mb()
        for _ in range(repeats):
            t = time.perf_counter()
            lm = SnorkelLabelModel(cardinality=k, verbose=False)
            lm.fit(D, seed=0, progress_bar=False)
            P = lm.predict_proba(D)
            times.append(time.perf_counter() - t)
            acc = float((P.argmax(1) == y).mean())
            del lm, P
    else:
        from goldsmith.weak.label_models import DawidSkene, LabelModel, MajorityVote

        make = {
            "MajorityVote": lambda: MajorityVote(k),
            "DawidSkene": lambda: DawidSkene(k),
            "LabelModel": lambda: LabelModel(k),
            "LabelModel(bayes)": lambda: LabelModel(k, decoding="bayes"),
        }
        rss_input = peak_rss_mb()
        for _ in range(repeats):
            t = time.perf_counter()
            ours = make[model]().fit(L)
            P = ours.predict_proba(L)
            times.append(time.perf_counter() - t)
            acc = float((P.argmax(1) == y).mean())
            del ours, P
    return {
        "model": model,
        "n": n,
        "m": m,
        "k": k,
        "seconds": statistics.median(times),
        "runs": times,
        "accuracy": acc,
        "peak_rss_mb": peak_rss_mb(),
        "rss_after_input_mb": rss_input,
    }


def run_child(model: str, n: int, m: int, k: int, repeats: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", model, str(n), str(m), str(k), str(repeats)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    if done.returncode != 0:
        return {"model": model, "error": done.stderr.strip().splitlines()[-1:]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only 100k x 50")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-snorkel", action="store_true")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        model, n, m, k, repeats = args.child
        print(json.dumps(child(model, int(n), int(m), int(k), int(repeats))))
        return 0

    sizes = [(100_000, 50)] if args.quick else [(100_000, 50), (1_000_000, 100)]
    try:
        import snorkel  # noqa: F401

        have_snorkel = not args.no_snorkel
    except ImportError:
        have_snorkel = False
    results: list[dict[str, Any]] = []
    header = f"{'size':>12s} {'k':>2s} {'model':18s} {'fit+proba s':>11s} {'peak RSS MB':>11s}"
    print(f"{header} {'acc':>7s}")
    for n, m in sizes:
        for k in (2, 5):
            models = ["MajorityVote", "DawidSkene", "LabelModel", "LabelModel(bayes)"]
            if have_snorkel:
                models.append("snorkel LabelModel")
            rows = {}
            for model in models:
                reps = 1 if model.startswith("snorkel") and n >= 1_000_000 else args.repeats
                r = run_child(model, n, m, k, reps)
                rows[model] = r
                results.append(r)
                if "error" in r:
                    print(f"{n:>9,d}x{m:<3d} {k:>2d} {model:18s} failed: {r['error']}")
                    continue
                print(
                    f"{n:>9,d}x{m:<3d} {k:>2d} {model:18s} {r['seconds']:11.2f} "
                    f"{r['peak_rss_mb']:11.0f} {r['accuracy']:7.4f}",
                    flush=True,
                )
            ref = rows.get("snorkel LabelModel")
            for name in ("LabelModel", "LabelModel(bayes)"):
                ours = rows[name]
                if not ref or "error" in ref or "error" in ours:
                    continue
                tag = f"speed/{n // 1000}kx{m}/k={k} [{name}]"
                print(
                    f"{tag}: ours {ours['seconds']:.2f} s, snorkel {ref['seconds']:.2f} s, "
                    f"ratio {ref['seconds'] / ours['seconds']:.1f}x faster; "
                    f"peak RSS ours {ours['peak_rss_mb']:.0f} MB, snorkel "
                    f"{ref['peak_rss_mb']:.0f} MB; accuracy ours {ours['accuracy']:.4f}, "
                    f"snorkel {ref['accuracy']:.4f}",
                    flush=True,
                )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""End model on weak labels: today's policy, argmax labels, the soft-label policy, and gold.

Run::

    nice -n 5 .venv/bin/python bench/weak_training.py [--data ../shared/data] [--sets youtube,sms]

Protocol, per set (train / valid / test):

* The label model (:class:`~goldsmith.weak.label_models.LabelModel`) is fitted on ``train``'s
  label matrix with ``valid`` as its gold (dev) set, as ``goldsmith label-model fit`` does
  when a project has gold. Its confidences are stored the way the store keeps them: the top
  label and its probability, **calibrated** out of fold on ``valid``
  (:mod:`goldsmith.weak.calibration`) for the new policies; today's policy sees the raw ones.
* The end model is :class:`~goldsmith.models.classifier.LoopClassifier` (called through
  ``fit``/``predict`` only) on model2vec vectors, trained on the ``train`` records with at
  least one vote, with the rows and weights that :class:`~goldsmith.train.data.WeightPolicy`
  gives:

  - ``today``: the old policy (weak labels below 0.7 dropped, the rest 0.5 x confidence);
  - ``argmax``: every voted record with the label model's argmax, weight 1;
  - ``soft`` / ``weighted``: the new policy's two modes (no floor); ``new`` is the one of
    the two with the better **valid** score (the test split never chooses anything);
  - ``gold``: every ``train`` record with its gold label (the anchor).

* Metric: accuracy; sms: F1 of spam (as in WRENCH); cuad: accuracy.

The many-class set ``cuad`` is built here: every clause text of the 41 CUAD categories that
belongs to one category only, split 60/20/20 by contract. Its LFs are synthetic but of the
keyword kind a user writes: for each category, up to 3 word uni- or bigrams mined from the
``valid`` split (at least 3 hits in the category, precision at least 0.6 there); each fires
its category where its words occur.

Output: ``name: ours X, anchor Y, ratio Z`` per set and policy (ours = the policy's test
score, anchor = gold's), then the class balance estimated without and with gold against the
true one of ``train``.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
import zlib
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer

from goldsmith.models.classifier import LoopClassifier
from goldsmith.models.embed import make_embedder
from goldsmith.train.data import WeightPolicy
from goldsmith.weak.calibration import apply_calibration, calibrate_on_gold
from goldsmith.weak.label_models import LabelModel

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared/data"
MODEL2VEC = ROOT.parent / "shared/models/m2v-minilm-l6"
WRENCH = ("youtube", "sms", "trec")

Split = tuple[list[str], np.ndarray, np.ndarray]  # texts, L, y


def load_wrench(data: Path, name: str) -> tuple[dict[str, Split], int]:
    out = {}
    for split in ("train", "valid", "test"):
        recs = json.loads((data / f"weak_supervision/wrench/{name}/{split}.json").read_text())
        rows = list(recs.values())
        texts = [str(r["data"]["text"]) for r in rows]
        out[split] = (
            texts,
            np.array([r["weak_labels"] for r in rows], dtype=np.int64),
            np.array([r["label"] for r in rows], dtype=np.int64),
        )
    labels = json.loads((data / f"weak_supervision/wrench/{name}/label.json").read_text())
    return out, len(labels)


def load_cuad(data: Path) -> tuple[dict[str, Split], int]:
    """CUAD clauses in 41 categories with keyword LFs mined on ``valid`` (see module doc)."""
    csv.field_size_limit(10**9)
    seen: dict[str, set[int]] = {}
    doc_of: dict[str, str] = {}
    with open(data / "legal/cuad/master_clauses.csv", newline="") as f:
        reader = csv.DictReader(f)
        cats = [c for c in reader.fieldnames or [] if not c.endswith("Answer") and c != "Filename"]
        for row in reader:
            for c, cat in enumerate(cats):
                v = row[cat]
                if v.startswith("['") and v.endswith("']"):
                    for part in v[2:-2].split("', '"):
                        text = part.strip()
                        if len(text) >= 20:
                            seen.setdefault(text, set()).add(c)
                            doc_of.setdefault(text, row["Filename"])
    items = sorted((t, next(iter(c))) for t, c in seen.items() if len(c) == 1)
    split_of = {"train": [], "valid": [], "test": []}  # type: dict[str, list[tuple[str, int]]]
    for text, c in items:
        u = zlib.crc32(doc_of[text].encode()) % 10
        split_of["train" if u < 6 else "valid" if u < 8 else "test"].append((text, c))
    k = len(cats)
    vt = [t for t, _ in split_of["valid"]]
    yv = np.array([c for _, c in split_of["valid"]])
    cv = CountVectorizer(ngram_range=(1, 2), binary=True, min_df=3, lowercase=True)
    B = cv.fit_transform(vt).tocsc()
    vocab = np.array(cv.get_feature_names_out())
    lfs: list[tuple[str, int]] = []
    hits_all = np.asarray(B.sum(axis=0)).ravel()
    for c in range(k):
        hits_c = np.asarray(B[yv == c].sum(axis=0)).ravel()
        prec = np.where(hits_all > 0, hits_c / np.maximum(hits_all, 1), 0.0)
        ok = np.flatnonzero((hits_c >= 3) & (prec >= 0.6))
        best = ok[np.argsort(-hits_c[ok], kind="stable")][:3]
        lfs.extend((str(vocab[j]), c) for j in best)
    lf_vec = CountVectorizer(
        ngram_range=(1, 2), binary=True, lowercase=True, vocabulary=[w for w, _ in lfs]
    )
    votes = np.array([c for _, c in lfs])
    out = {}
    for split, rows in split_of.items():
        texts = [t for t, _ in rows]
        fired = lf_vec.transform(texts).toarray().astype(bool)
        L = np.where(fired, votes[None, :], -1).astype(np.int64)
        out[split] = (texts, L, np.array([c for _, c in rows], dtype=np.int64))
    return out, k


def metric(name: str, y: np.ndarray, pred: np.ndarray) -> float:
    if name == "sms":
        tp = int(((pred == 1) & (y == 1)).sum())
        wrong = int(((pred == 1) & (y != 1)).sum()) + int(((pred != 1) & (y == 1)).sum())
        return 100.0 * 2 * tp / (2 * tp + wrong) if tp else 0.0
    return 100.0 * float((pred == y).mean())


def fit_predict(
    X: np.ndarray, rows: np.ndarray, y: np.ndarray, w: np.ndarray, k: int, Xs: list[np.ndarray]
) -> list[np.ndarray]:
    model = LoopClassifier(n_classes=k, random_state=0).fit(X[rows], y, sample_weight=w)
    return [model.predict(x) for x in Xs]


def run_set(name: str, splits: dict[str, Split], k: int, embedder: object) -> dict[str, float]:
    t0 = time.perf_counter()
    (tt, Lt, yt), (tv, Lv, yv), (ts, Ls, ys) = splits["train"], splits["valid"], splits["test"]
    enc = embedder.encode  # type: ignore[attr-defined]
    Xt, Xv, Xs = enc(tt), enc(tv), enc(ts)
    lm = LabelModel(k).fit(Lt, L_dev=Lv, Y_dev=yv)
    lm_nogold = LabelModel(k).fit(Lt)
    proba = lm.predict_proba(Lt)
    voted = (Lt >= 0).any(axis=1)
    idx = np.flatnonzero(voted)
    top = proba[idx].argmax(axis=1)
    raw = proba[idx].max(axis=1)
    cal = calibrate_on_gold(lambda: LabelModel(k), Lt, Lv, yv)
    conf = apply_calibration(cal, raw, k)
    weak = ["weak"] * len(idx)
    candidates: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    r, y, w = WeightPolicy.legacy().targets(top, raw, weak, k)
    candidates["today"] = (idx[r], y, w)
    candidates["argmax"] = (idx, top, np.ones(len(idx)))
    for mode in ("soft", "weighted"):
        r, y, w = WeightPolicy(machine=mode).targets(top, conf, weak, k)  # type: ignore[arg-type]
        candidates[mode] = (idx[r], y, w)
        r, y, w = WeightPolicy.parse("weak=1", machine=mode).targets(top, conf, weak, k)  # type: ignore[arg-type]
        candidates[mode + "1"] = (idx[r], y, w)
    candidates["gold"] = (np.arange(len(yt)), yt, np.ones(len(yt)))
    valid, test = {}, {}
    for policy, (rows, y, w) in candidates.items():
        if len(rows) == 0 or len(np.unique(y)) < 2:
            valid[policy] = test[policy] = 0.0  # nothing (or one class) to train on
            continue
        pv, ps = fit_predict(Xt, rows, y, w, k, [Xv, Xs])
        valid[policy], test[policy] = metric(name, yv, pv), metric(name, ys, ps)
    new = max(("soft", "weighted"), key=lambda m: valid[m])
    test["new"], valid["new"] = test[new], valid[new]
    anchor = test["gold"]
    kept = int((candidates["today"][2] > 0).sum())
    print(
        f"\n[{name}] k={k}, train {len(yt)} ({int(voted.sum())} with a vote; today's policy "
        f"keeps {kept}), label model test {metric(name, ys, lm.predict(Ls)):.1f}, "
        f"calibrated: {cal is not None}; new = {new} (chosen on valid)"
    )
    for policy in ("today", "argmax", "soft", "weighted", "soft1", "weighted1", "new", "gold"):
        ratio = test[policy] / anchor if anchor else float("nan")
        print(
            f"{name}/{policy}: ours {test[policy]:.2f}, anchor {anchor:.2f}, ratio {ratio:.3f}"
            f"   (valid {valid[policy]:.2f})"
        )
    true = np.bincount(yt, minlength=k) / len(yt)
    for label, est in (("no gold", lm_nogold.class_balance_), ("gold", lm.class_balance_)):
        tv_err = 0.5 * float(np.abs(est - true).sum())
        print(
            f"{name}/class balance ({label}): estimated {np.round(est, 3).tolist()[:8]}, "
            f"true {np.round(true, 3).tolist()[:8]}, total variation {tv_err:.3f}"
        )
    print(f"{name}: {time.perf_counter() - t0:.0f} s")
    return test


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--sets", default="youtube,sms,trec,cuad")
    ap.add_argument("--embedder", default=f"model2vec:{MODEL2VEC}")
    args = ap.parse_args()
    embedder = make_embedder(args.embedder)
    print(f"embedder: {args.embedder}")
    for name in args.sets.split(","):
        splits, k = load_cuad(args.data) if name == "cuad" else load_wrench(args.data, name)
        run_set(name, splits, k, embedder)


if __name__ == "__main__":
    main()

"""Applying 20 keyword/regex LFs to 100k real-length texts, against Snorkel's PandasLFApplier.

Run with the bench environment (see ``bench/requirements-snorkel.txt``)::

    .venv-bench/bin/python bench/lf_apply_speed.py                # 100k texts, 3 runs each
    .venv-bench/bin/python bench/lf_apply_speed.py --snorkel-rows 100000   # Snorkel on all

Snorkel's applier and our Python-LF runs take about a second per thousand texts here, so by
default they run on the first ``--snorkel-rows``/``--python-rows`` (20k) texts and their
rate (records/s, which is flat in the number of records) is compared with ours on all rows.

Texts: the medical abstracts (``shared/data/healthcare/medical_abstracts``, column
``medical_abstract``; about 2.9k abstracts of ~1,000 characters, cycled to reach ``--rows``:
the texts repeat, which neither applier caches on).

LFs: 12 keyword and 8 regex LFs over the five classes. Ours are ``keyword_lf``/``regex_lf``
(merged into one RE2 pattern set, one scan per text); Snorkel's are the same 20 as
``@labeling_function``s, each a compiled Python ``re`` search with the pattern our LF carries
(``LF.patterns``: a keyword matches at a word start, case-insensitively), run by
``PandasLFApplier`` on a DataFrame. The two label matrices must agree entry by entry.

Also timed: the same 20 LFs written as Python ``@labeling_function()``s (the same compiled
patterns) through our applier, with its process pool (``workers`` = CPU count) and inline
(``workers=1``), to show what the pool buys and what the merged RE2 scan buys over it.

Times are the median of ``--repeats`` runs (after one untimed warm-up run of ours).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from goldsmith.weak import ABSTAIN, keyword_lf, labeling_function, regex_lf
from goldsmith.weak.apply import RecordRow, apply_lfs
from goldsmith.weak.lf import LF, LFRecord

DEFAULT_DATA = (
    Path(__file__).resolve().parents[2]
    / "shared/data/healthcare/medical_abstracts/medical_tc_test.csv"
)
LABELS = [
    "neoplasms",
    "digestive",
    "nervous",
    "cardiovascular",
    "general",
]
KEYWORDS: list[tuple[str, str, list[str]]] = [  # (name, label, keywords)
    ("kw_tumour", "neoplasms", ["tumor", "tumour", "carcinoma", "neoplas", "malignan"]),
    ("kw_cancer", "neoplasms", ["cancer", "metasta", "oncolog", "lymphoma", "leukemia"]),
    ("kw_chemo", "neoplasms", ["chemotherap", "radiotherap", "cytotoxic"]),
    ("kw_gut", "digestive", ["gastr", "intestin", "colon", "bowel", "duoden"]),
    ("kw_liver", "digestive", ["liver", "hepat", "cirrhosis", "biliary", "pancrea"]),
    ("kw_esoph", "digestive", ["esophag", "oesophag", "endoscop", "ulcer"]),
    ("kw_brain", "nervous", ["brain", "cerebr", "neuron", "neurolog", "cortex"]),
    ("kw_seizure", "nervous", ["seizure", "epilep", "dementia", "alzheimer", "parkinson"]),
    ("kw_heart", "cardiovascular", ["heart", "cardiac", "myocard", "coronary", "arrhythm"]),
    ("kw_vessel", "cardiovascular", ["hypertens", "arteri", "aort", "thrombo", "vascular"]),
    ("kw_infect", "general", ["infection", "sepsis", "fever", "inflammat"]),
    ("kw_trauma", "general", ["injur", "trauma", "fractur", "wound"]),
]
REGEXES: list[tuple[str, str, str]] = [  # (name, label, pattern); IGNORECASE
    ("re_stage", "neoplasms", r"\bstage\s+(?:I{1,3}V?|[1-4])[abc]?\b"),
    ("re_oma", "neoplasms", r"\b(?:sarcoma|melanoma|glioma|adenoma|myeloma)s?\b"),
    ("re_gi_bleed", "digestive", r"\b(?:upper|lower)\s+(?:gastrointestinal|GI)\s+bleed"),
    ("re_crohn", "digestive", r"\b(?:crohn'?s|ulcerative\s+colitis)\b"),
    ("re_stroke", "nervous", r"\b(?:ischemic|hemorrhagic|acute)\s+stroke\b"),
    ("re_ms", "nervous", r"\bmultiple\s+sclerosis\b|\bspinal\s+cord\b"),
    ("re_bp", "cardiovascular", r"\b\d{2,3}\s*/\s*\d{2,3}\s*mm\s*hg\b"),
    ("re_mi", "cardiovascular", r"\b(?:acute\s+)?myocardial\s+infarction\b|\bangina\b"),
]


def goldsmith_lfs() -> list[LF]:
    lfs = [keyword_lf(label, words, name=name) for name, label, words in KEYWORDS]
    lfs += [regex_lf(label, pattern, name=name) for name, label, pattern in REGEXES]
    return lfs


def python_lfs(declarative: list[LF]) -> list[LF]:
    """The same LFs as Python functions: one compiled ``re`` search of the LF's pattern."""

    def make(lf: LF) -> LF:
        assert len(lf.patterns) == 1 and lf.label is not None
        search = re.compile(lf.patterns[0]).search
        label = lf.label

        def fn(record: LFRecord) -> str | int:
            return label if search(record.text) else ABSTAIN

        fn.__name__ = f"py_{lf.name}"
        return labeling_function()(fn)

    return [make(lf) for lf in declarative]


def snorkel_lfs(declarative: list[LF]) -> list[Any]:
    from snorkel.labeling import LabelingFunction

    def make(lf: LF) -> Any:
        assert len(lf.patterns) == 1 and lf.label is not None
        search = re.compile(lf.patterns[0]).search
        label = LABELS.index(lf.label)

        def fn(x: Any) -> int:
            return label if search(x.text) else -1

        return LabelingFunction(name=lf.name, f=fn)

    return [make(lf) for lf in declarative]


def load_texts(path: Path, n: int) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        texts = [row["medical_abstract"] for row in csv.DictReader(fh)]
    return [texts[i % len(texts)] for i in range(n)]


def dense(columns: list[Any], n: int) -> np.ndarray:
    L = np.full((n, len(columns)), -1, dtype=np.int64)
    for j, col in enumerate(columns):
        ids, labels = col.arrays()
        L[ids, j] = labels
    return L


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, list[float], Any]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--snorkel-rows", type=int, default=20_000)
    parser.add_argument("--python-rows", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-snorkel", action="store_true")
    args = parser.parse_args(argv)

    texts = load_texts(args.data, args.rows)
    n = len(texts)
    chars = sum(map(len, texts)) / n
    rows: list[RecordRow] = [(i, {"text": t}, {}) for i, t in enumerate(texts)]
    ours = goldsmith_lfs()
    python = python_lfs(ours)
    cpus = os.cpu_count() or 1
    print(f"{n:,d} texts (mean {chars:.0f} chars, {args.data.name} cycled), {len(ours)} LFs")

    def run(lfs: list[LF], workers: int, k: int) -> Callable[[], list[Any]]:
        return lambda: apply_lfs(lfs, rows[:k], LABELS, total=k, workers=workers)

    run(ours, cpus, n)()  # warm-up: imports, RE2 compile
    p = min(args.python_rows, n)
    results: dict[str, tuple[float, int, np.ndarray]] = {}  # median s, rows, L
    variants = [
        ("goldsmith keyword/regex (RE2 set)", ours, cpus, n),
        (f"goldsmith python LFs, workers={cpus}", python, cpus, p),
        ("goldsmith python LFs, workers=1", python, 1, p),
    ]
    for name, lfs, workers, k in variants:
        med, times, cols = timed(run(lfs, workers, k), args.repeats)
        results[name] = (med, k, dense(cols, k))
        print(
            f"{name:40s} {k:>7,d} rows {med:7.2f} s {k / med:>9,.0f} rec/s  runs {_fmt(times)}",
            flush=True,
        )

    L_ours = results[variants[0][0]][2]
    for name, *_ in variants[1:]:
        L, k = results[name][2], results[name][1]
        print(f"  {name}: {float((L_ours[:k] == L).mean()):.4%} of entries equal to the RE2 set's")
    covered = (L_ours >= 0).mean(0)
    print(
        f"  votes: {(L_ours >= 0).sum():,d} of {L_ours.size:,d} entries; "
        f"per-LF coverage {covered.min():.1%}-{covered.max():.1%}"
    )

    if args.no_snorkel:
        return 0
    import pandas as pd
    from snorkel.labeling import PandasLFApplier

    m = min(args.snorkel_rows, n)
    df = pd.DataFrame({"text": texts[:m]})
    applier = PandasLFApplier(snorkel_lfs(ours))
    s_med, s_times, L_snorkel = timed(lambda: applier.apply(df, progress_bar=False), args.repeats)
    ref = m / s_med
    print(
        f"{'snorkel PandasLFApplier':40s} {m:>7,d} rows {s_med:7.2f} s {ref:>9,.0f} rec/s  "
        f"runs {_fmt(s_times)}"
    )
    equal = float((np.asarray(L_snorkel) == L_ours[:m]).mean())
    print(f"  label matrices: {equal:.4%} of {L_snorkel.size:,d} entries equal to ours")

    for name, *_ in variants:
        med, k, _ = results[name]
        rate = k / med
        print(
            f"lf_apply/{len(ours)} LFs [{name}, {k // 1000}k texts]: ours {rate:,.0f} rec/s, "
            f"snorkel {ref:,.0f} rec/s ({m // 1000}k texts), ratio {rate / ref:.1f}x"
        )
    return 0


def _fmt(times: list[float]) -> str:
    return "/".join(f"{t:.2f}" for t in times)


if __name__ == "__main__":
    sys.exit(main())

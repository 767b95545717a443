"""Bounded memory at scale: every stage of a 1M/10M-record project, throughput and peak RSS.

Usage::

    .venv/bin/python bench/scale.py --records 1000000                      # every stage
    .venv/bin/python bench/scale.py --records 10000000 --work /tmp/scale10m \\
        --stages import,lf,fit,rank,export                               # resumable
    .venv-bench/bin/python bench/scale.py --records 1000000 --stages snorkel  # anchors
    git worktree add /tmp/prev <commit>                 # against the previous version:
    .venv/bin/python bench/scale.py --records 100000 --stages import,embed,retrain \
        --previous /tmp/prev/src --repeats 3

Input ("synthetic from real"): the medical abstracts (``medical_tc_test.csv``, ~2.9k real
abstracts of ~1,000 characters) cycled to ``--records`` texts; copy ``c`` of an abstract
has its sentences rotated by ``c`` places and a record number appended, so every text
differs (no content-hash duplicates) while reading like the real corpus. The CSV is cached
under ``--work``.

Stages, each in a fresh child process (``ru_maxrss`` of the child, read with ``os.wait4``;
for Ray the parent also samples the RSS of the child's whole process tree, workers and
raylet included, every 0.5 s):

* ``import``: ``Project.import_records(csv, ImportOptions(text_field="text"))``;
* ``lf``: ``Project.apply_lfs`` of the 20 keyword/regex LFs of ``bench/lf_apply_speed.py``
  with the local engine (``workers=2``);
* ``lf-ray``: the same with ``engine="ray", workers=2`` (a fresh local Ray with 2 CPUs);
  each LF stage first drops every stored vote, so it labels all records;
* ``fit``: ``Project.fit_label_model("label-model", threshold=0.5)``;
* ``rank``: queue ranking from the label model alone: least-confidence of its stored
  suggestions (``StoreTx.iter_suggestion_scores``), ranked with
  :func:`goldsmith.active.scores.rank_chunks`, the first 100k written as the queue's head;
* ``embed``: ``Project.embed("tfidf")``: a TF-IDF + SVD fit on 100k records spread over the
  ids, then every record's 256 float32, streamed into the store a batch at a time (stored
  vectors are dropped first); ``embed-ray``: the same encoded by Ray tasks on 2 CPUs;
* ``retrain``: the product's queue ranking, ``Project.retrain(strategy="margin")``, after
  1,000 records (spread over the ids) get their abstract's real class as a gold label: the
  classifier scores every stored vector a page at a time, writes its suggestions page by
  page, shortlists the 100k most uncertain open records, orders them and writes that head;
  ``retrain-ray``: the same with the scoring done by Ray tasks on 2 CPUs;
* ``export``: ``Project.export(ExportOptions(fmt="openai-chat", split=(0.8, 0.1, 0.1),
  provenance=(..., weak)))`` of the weak labels;
* ``snorkel`` (run with ``.venv-bench``): Snorkel's ``PandasLFApplier`` and
  ``DaskLFApplier`` (2 partitions, the local process scheduler) on the same 20 LFs as
  Python ``re`` searches, on the first ``--snorkel-records`` texts (their rate is flat in
  the number of records).

Prints ``name: ours X rows/s, anchor Y, ratio Z, peak RSS N MB`` per stage and whether
peak RSS stayed under 4 GB. Stages reuse the project in ``--work``: import first.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
SOURCE = HERE.parents[1] / "shared/data/healthcare/medical_abstracts/medical_tc_test.csv"
LABELS = ("neoplasms", "digestive", "nervous", "cardiovascular", "general")
LIMIT_MB = 4096
SPLIT = (0.8, 0.1, 0.1)
STAGES = (
    "import",
    "lf",
    "lf-ray",
    "fit",
    "rank",
    "export",
    "embed",
    "embed-ray",
    "retrain",
    "retrain-ray",
    "snorkel",
)
N_GOLD = 1000
_SENTENCE = re.compile(r"(?<=[.!?])\s+")

# --------------------------------------------------------------------------- input


def make_csv(records: int, work: Path) -> Path:
    """``records`` varied real abstracts (sentences rotated per copy, a number appended)."""
    path = work / f"texts_{records}.csv"
    if path.exists():
        return path
    work.mkdir(parents=True, exist_ok=True)
    with SOURCE.open(newline="", encoding="utf-8") as f:
        base = [_SENTENCE.split(r["medical_abstract"].strip()) for r in csv.DictReader(f)]
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text"])
        n = len(base)
        for i in range(records):
            sentences = base[i % n]
            r = (i // n) % len(sentences)
            writer.writerow([" ".join(sentences[r:] + sentences[:r]) + f" [r{i}]"])
    tmp.replace(path)
    return path


def read_texts(path: Path, n: int) -> list[str]:
    out = []
    with path.open(newline="", encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f)):
            if i >= n:
                break
            out.append(row["text"])
    return out


# --------------------------------------------------------------------------- children


def _project(work: Path) -> Path:
    return work / "project"


def child_import(work: Path, csv_path: Path) -> dict[str, Any]:
    from goldsmith import ImportOptions, Project

    root = _project(work)
    if root.exists():
        shutil.rmtree(root)
    with Project.init(root, name="scale", labels=LABELS) as project:
        start = time.perf_counter()
        report = project.import_records(csv_path, ImportOptions(text_field="text"))
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": report.n_read, "inserted": report.n_inserted}


def child_lf(work: Path, engine: str) -> dict[str, Any]:
    from lf_apply_speed import goldsmith_lfs

    from goldsmith import Project

    with Project.open(_project(work)) as project:
        with project.store.write() as tx:  # a repeat starts from no votes
            tx.drop_lfs(list(tx.lf_runs()))
        start = time.perf_counter()
        report = project.apply_lfs(goldsmith_lfs(), workers=2, engine=engine)
        seconds = time.perf_counter() - start
    votes = sum(report.new_votes.values())
    return {"seconds": seconds, "rows": report.n_records, "votes": votes}


def child_fit(work: Path) -> dict[str, Any]:
    from goldsmith import Project

    with Project.open(_project(work)) as project:
        start = time.perf_counter()
        report = project.fit_label_model("label-model", threshold=0.5)
        seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "rows": report.n_records,
        "suggestions": report.n_suggestions,
        "weak": report.n_weak_labels,
    }


def child_embed(work: Path, engine: str) -> dict[str, Any]:
    from goldsmith import Project

    with Project.open(_project(work)) as project:
        with project.store.write() as tx:  # a repeat computes every vector again
            for model_id in tx.embedding_models():
                tx.delete_embeddings(model_id)
        start = time.perf_counter()
        report = project.embed("tfidf", engine=engine)
        seconds = time.perf_counter() - start
    rows = getattr(report, "n_records", None)  # the previous version returned the vectors
    rows = len(report.record_ids) if rows is None else rows
    return {"seconds": seconds, "rows": rows, "computed": report.n_computed}


def add_gold(project: Any, n: int = N_GOLD) -> None:
    """``n`` records spread over the ids get the real class of the abstract they vary."""
    from goldsmith.schema import FinalLabel, Provenance

    with SOURCE.open(newline="", encoding="utf-8") as f:
        classes = [LABELS[int(r["condition_label"]) - 1] for r in csv.DictReader(f)]
    with project.store.read() as tx:
        total = tx.count_records()
    picked = range(1, total + 1, max(total // n, 1))
    gold = [
        FinalLabel(i, "label", classes[(i - 1) % len(classes)], Provenance.GOLD) for i in picked
    ]
    with project.store.write() as tx:
        tx.set_final_labels(gold)


def child_rank(work: Path, *, retrain: bool, engine: str = "local") -> dict[str, Any]:
    from goldsmith import Project

    with Project.open(_project(work)) as project:
        if retrain:
            add_gold(project)
        start = time.perf_counter()
        if retrain:
            report = project.retrain(strategy="margin", engine=engine)
            ranked = report.n_ranked
            extra = {"labeled": report.n_labeled, "suggestions": report.n_suggestions}
        else:
            ranked, extra = rank_least_confident(project), {}
        seconds = time.perf_counter() - start
        with project.store.read() as tx:
            n = tx.count_records()
    return {"seconds": seconds, "rows": n, "ranked": ranked, **extra}


def rank_least_confident(project: Any) -> int:
    """Order the queue by the label model's least confident suggestions, in bounded memory:
    scores stream out of the store in pages, :func:`rank_chunks` keeps 12 bytes a record,
    and the head of the order (the retrain's shortlist size) goes to the queue's front, as
    a retrain writes it."""
    from goldsmith.active.loop import SHORTLIST
    from goldsmith.active.scores import rank_chunks

    question = project.task.questions[0].name
    with project.store.read() as tx:
        chunks = tx.iter_suggestion_scores(question, agent_prefix="label-model:")
        order = rank_chunks((ids, 1.0 - scores) for ids, scores in chunks)
    head = order[:SHORTLIST].tolist()
    with project.store.write() as tx:
        tx.replace_queue_order(head)
    return len(head)


def child_export(work: Path) -> dict[str, Any]:
    from goldsmith import ExportOptions, Project
    from goldsmith.schema import Provenance

    out = work / "export"
    if out.exists():
        shutil.rmtree(out)
    with Project.open(_project(work)) as project:
        start = time.perf_counter()
        report = project.export(
            ExportOptions(
                fmt="openai-chat",
                out=out,
                split=SPLIT,
                seed=0,
                provenance=(Provenance.GOLD, Provenance.HUMAN, Provenance.WEAK),
            )
        )
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": sum(report.counts.values())}


def child_snorkel(csv_path: Path, n: int) -> dict[str, Any]:
    import numpy as np
    import pandas as pd
    from dask import dataframe as dd
    from lf_apply_speed import goldsmith_lfs
    from snorkel.labeling import LabelingFunction, PandasLFApplier
    from snorkel.labeling.apply.dask import DaskLFApplier

    def make(lf: Any) -> Any:  # as bench/lf_apply_speed.py, plus a guard for Dask's
        search, label = re.compile(lf.patterns[0]).search, LABELS.index(lf.label)

        def fn(x: Any) -> int:  # meta inference, which calls each LF on a row of NA
            return label if isinstance(x.text, str) and search(x.text) else -1

        return LabelingFunction(name=lf.name, f=fn)

    texts = read_texts(csv_path, n)
    df = pd.DataFrame({"text": texts})
    lfs = [make(lf) for lf in goldsmith_lfs()]
    start = time.perf_counter()
    L_pandas = PandasLFApplier(lfs).apply(df, progress_bar=False)
    pandas_s = time.perf_counter() - start
    start = time.perf_counter()
    L_dask = DaskLFApplier(lfs).apply(dd.from_pandas(df, npartitions=2), scheduler="processes")
    dask_s = time.perf_counter() - start
    return {
        "rows": len(texts),
        "pandas_seconds": pandas_s,
        "dask_seconds": dask_s,
        "equal": bool(np.array_equal(L_pandas, L_dask)),
        "votes": int((L_pandas >= 0).sum()),
    }


def _child(args: argparse.Namespace) -> None:
    work, kind = args.work, args.child
    csv_path = make_csv(args.records, work)
    jobs = {
        "import": lambda: child_import(work, csv_path),
        "lf": lambda: child_lf(work, "local"),
        "lf-ray": lambda: child_lf(work, "ray"),
        "fit": lambda: child_fit(work),
        "rank": lambda: child_rank(work, retrain=False),
        "embed": lambda: child_embed(work, "local"),
        "embed-ray": lambda: child_embed(work, "ray"),
        "retrain": lambda: child_rank(work, retrain=True),
        "retrain-ray": lambda: child_rank(work, retrain=True, engine="ray"),
        "export": lambda: child_export(work),
        "snorkel": lambda: child_snorkel(csv_path, args.snorkel_records),
    }
    args.result.write_text(json.dumps(jobs[kind]()))


# --------------------------------------------------------------------------- parent


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def run_child(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one stage in a fresh interpreter; add its peak RSS (own, and of its tree) in MB."""
    out = args.work / f"{kind}.json"
    python = args.python or sys.executable
    cmd = [python, __file__, "--child", kind, "--work", str(args.work)]
    cmd += ["--records", str(args.records), "--snorkel-records", str(args.snorkel_records)]
    cmd += ["--result", str(out)]
    env = {**os.environ, "PYTHONPATH": args.pythonpath} if args.pythonpath else None
    proc = subprocess.Popen(cmd, start_new_session=True, env=env)
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.5):
            peak[0] = max(peak[0], _tree_rss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    stop.set()
    sampler.join()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{kind} failed with exit code {os.waitstatus_to_exitcode(status)}")
    result: dict[str, Any] = json.loads(out.read_text())
    result["rss_mb"] = usage.ru_maxrss / 1024  # Linux: KiB
    result["tree_mb"] = peak[0] / 2**20
    return result


def _label(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


def _ok(mb: float) -> str:
    return "under 4 GB" if mb < LIMIT_MB else "OVER 4 GB"


def report(kind: str, runs: list[dict[str, Any]], n: str, work: Path) -> None:
    if kind == "snorkel":
        r = runs[-1]
        ours_file = work / "lf.json"  # the last local LF stage on this set, if any
        ours = json.loads(ours_file.read_text()) if ours_file.exists() else None
        for name in ("pandas", "dask"):
            rate = statistics.median(x["rows"] / x[f"{name}_seconds"] for x in runs)
            vs = ""
            if ours:
                mine = ours["rows"] / ours["seconds"]
                vs = f"ours {mine:,.0f} rows/s (all {n}), ratio {mine / rate:.1f}, "
            print(
                f"lf_apply_vs_snorkel_{name} ({r['rows']:,} texts of the {n} set): {vs}anchor "
                f"{rate:,.0f} rows/s, anchor peak RSS (both appliers) {r['rss_mb']:,.0f} MB, "
                f"tree {r['tree_mb']:,.0f} MB, matrices equal: {r['equal']}"
            )
        return
    rate = statistics.median(r["rows"] / r["seconds"] for r in runs)
    rss = max(r["rss_mb"] for r in runs)
    tree = max(r["tree_mb"] for r in runs)
    extra = {k: v for k, v in runs[-1].items() if k not in ("seconds", "rows", "rss_mb", "tree_mb")}
    print(
        f"{kind}_{n}: ours {rate:,.0f} rows/s ({runs[-1]['seconds']:,.0f} s), peak RSS "
        f"{rss:,.0f} MB (tree {tree:,.0f} MB), {_ok(max(rss, tree))} {json.dumps(extra)}",
        flush=True,
    )


def compare_previous(kind: str, args: argparse.Namespace, repeats: int, n: str) -> None:
    """Run ``kind`` with this code and with ``args.previous``, alternating, each on its own
    copy of the project; print both and the ratio of the median rates."""
    prev_work = args.work.with_name(args.work.name + "-previous")
    if not (prev_work / "project").exists() or kind == "retrain":  # the same state for both
        shutil.rmtree(prev_work, ignore_errors=True)
        shutil.copytree(args.work, prev_work)
    prev_args = argparse.Namespace(**{**vars(args), "work": prev_work, "pythonpath": args.previous})
    ours, theirs = [], []
    for _ in range(repeats):
        ours.append(run_child(kind, args))
        theirs.append(run_child(kind, prev_args))
    report(kind, ours, n, args.work)
    mine = statistics.median(r["rows"] / r["seconds"] for r in ours)
    rate = statistics.median(r["rows"] / r["seconds"] for r in theirs)
    print(
        f"{kind}_{n}_vs_previous: ours {mine:,.0f} rows/s, previous {rate:,.0f} rows/s, "
        f"ratio {mine / rate:.2f}, peak RSS ours {max(r['rss_mb'] for r in ours):,.0f} MB, "
        f"previous {max(r['rss_mb'] for r in theirs):,.0f} MB",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--stages", default="import,lf,lf-ray,fit,rank,export")
    parser.add_argument("--work", type=Path, default=None, help="default /tmp/goldsmith-scale-N")
    parser.add_argument(
        "--repeats", type=int, default=1, help="runs of the lf/fit/rank/embed/retrain stages"
    )
    parser.add_argument("--snorkel-records", type=int, default=100_000)
    parser.add_argument("--python", help="interpreter for the children (default: this one)")
    parser.add_argument(
        "--previous",
        help="a previous version's src/ (e.g. of a git worktree): each stage also runs with "
        "that code, alternating run by run, on a copy of the same project, and a ratio is "
        "printed",
    )
    parser.add_argument("--pythonpath", help=argparse.SUPPRESS)  # set for previous' children
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.work = args.work or Path(f"/tmp/goldsmith-scale-{args.records}")
    if args.child:
        _child(args)
        return 0
    stages = [s for s in args.stages.split(",") if s]
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        raise SystemExit(f"unknown stages {unknown}; known: {', '.join(STAGES)}")
    t0 = time.perf_counter()
    csv_path = make_csv(args.records, args.work)
    size = csv_path.stat().st_size / 2**20
    print(f"input: {csv_path} ({args.records:,} records, {size:,.0f} MB)", flush=True)
    n = _label(args.records)
    for kind in stages:
        repeats = args.repeats if kind in ("lf", "fit", "rank", "embed", "retrain") else 1
        if args.previous and kind != "import":
            compare_previous(kind, args, repeats, n)
            continue
        runs = [run_child(kind, args) for _ in range(repeats)]
        report(kind, runs, n, args.work)
    print(f"({time.perf_counter() - t0:,.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

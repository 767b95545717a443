"""Import and export throughput and peak memory of goldsmith against pandas (the anchor).

Usage::

    python bench/import_export.py                      # 1,000,000 rows, 3 repeats (make bench)
    python bench/import_export.py --rows 20000 --repeats 1

The input is the medical-abstracts CSV repeated to ``--rows`` rows, each abstract given a
unique suffix (`` [r123456]``) so that no row is a duplicate; it is cached in ``bench/_data``.
Every measurement runs in a fresh child process, so peak RSS (``ru_maxrss`` of that child,
read with ``os.wait4``) is per tool; times are taken inside the child around the work itself.

* import, ours: ``Project.init(...).import_records(csv, ImportOptions(text_field=...,
  label_field=...))`` into the project's SQLite store (labels stored as gold final labels).
* import, anchor: the usual pandas way, ``pd.read_csv(csv)`` (whole file, not chunked) then
  ``DataFrame.to_sql`` into a SQLite file through ``sqlite3``.
* export, ours: ``Project.export(ExportOptions(fmt="openai-chat", split=(0.8, 0.1, 0.1)))``
  with its defaults (stratified splits, validation, dataset card).
* export, anchor: ``pd.read_sql`` of the anchor's table, the same chat messages built per
  row, a seeded shuffle cut 80/10/10, and ``DataFrame.to_json(orient="records", lines=True)``.

Medians over ``--repeats`` are printed as ``name: ours X rows/s, anchor Y rows/s, ratio Z``
(ratio = ours / anchor; above 1 means goldsmith is faster) and ``peak_rss: ours A MB, anchor
B MB``, followed by whether the targets (import >= 20,000 rows/s, peak RSS < 500 MB) are met.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
SOURCE = HERE.parents[1] / "shared/data/healthcare/medical_abstracts/medical_tc_test.csv"
LABELS = ("neoplasms", "digestive", "nervous", "cardiovascular", "general")
TEXT, LABEL = "medical_abstract", "condition_label"
TARGET_ROWS_PER_S = 20_000
TARGET_RSS_MB = 500
SPLIT = (0.8, 0.1, 0.1)

# --------------------------------------------------------------------------- input


def make_csv(rows: int, source: Path) -> Path:
    """``rows`` rows of ``source`` repeated with a unique suffix per row; cached."""
    path = DATA / f"medical_{rows}.csv"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    with source.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        base = [(r[LABEL], r[TEXT]) for r in reader]
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([LABEL, TEXT])
        for i in range(rows):
            label, text = base[i % len(base)]
            writer.writerow([label, f"{text} [r{i}]"])
    tmp.replace(path)
    return path


# --------------------------------------------------------------------------- children


def ours_import(csv_path: Path, work: Path) -> dict[str, Any]:
    from goldsmith import ImportOptions, Project

    with Project.init(work / "project", name="bench", labels=LABELS) as project:
        start = time.perf_counter()
        report = project.import_records(csv_path, ImportOptions(text_field=TEXT, label_field=LABEL))
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": report.n_read, "inserted": report.n_inserted}


def anchor_import(csv_path: Path, work: Path) -> dict[str, Any]:
    import sqlite3

    import pandas as pd

    start = time.perf_counter()
    df = pd.read_csv(csv_path)
    with sqlite3.connect(work / "anchor.db") as con:
        df.to_sql("records", con, index=False)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": len(df), "inserted": len(df)}


def ours_export(work: Path) -> dict[str, Any]:
    from goldsmith import ExportOptions, Project

    with Project.open(work / "project") as project:
        start = time.perf_counter()
        report = project.export(
            ExportOptions(fmt="openai-chat", out=work / "export-ours", split=SPLIT, seed=0)
        )
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": sum(report.counts.values())}


def anchor_export(work: Path) -> dict[str, Any]:
    import sqlite3

    import pandas as pd

    start = time.perf_counter()
    with sqlite3.connect(work / "anchor.db") as con:
        df = pd.read_sql(f"SELECT {LABEL}, {TEXT} FROM records", con)
    labels = [LABELS[int(code) - 1] for code in df[LABEL]]
    chat = pd.DataFrame(
        {
            "messages": [
                [{"role": "user", "content": text}, {"role": "assistant", "content": label}]
                for text, label in zip(df[TEXT], labels, strict=True)
            ]
        }
    ).sample(frac=1.0, random_state=0)
    out = work / "export-anchor"
    out.mkdir()
    n_train, n_val = int(len(chat) * SPLIT[0]), int(len(chat) * SPLIT[1])
    parts = {
        "train": chat.iloc[:n_train],
        "validation": chat.iloc[n_train : n_train + n_val],
        "test": chat.iloc[n_train + n_val :],
    }
    for name, part in parts.items():
        part.to_json(out / f"{name}.jsonl", orient="records", lines=True, force_ascii=False)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": len(chat)}


def _child(kind: str, csv_path: Path, work: Path, out: Path) -> None:
    jobs = {
        "ours-import": lambda: ours_import(csv_path, work),
        "anchor-import": lambda: anchor_import(csv_path, work),
        "ours-export": lambda: ours_export(work),
        "anchor-export": lambda: anchor_export(work),
    }
    out.write_text(json.dumps(jobs[kind]()))


# --------------------------------------------------------------------------- parent


def run_child(kind: str, csv_path: Path, work: Path) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; add its peak RSS in MB."""
    out = work / f"{kind}.json"
    cmd = [sys.executable, __file__, "--child", kind, "--csv", str(csv_path), "--work", str(work)]
    proc = subprocess.Popen([*cmd, "--result", str(out)])
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} failed with exit code {proc.returncode}")
    result: dict[str, Any] = json.loads(out.read_text())
    result["rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return result


def _label(rows: int) -> str:
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows % 1000 == 0:
        return f"{rows // 1000}k"
    return str(rows)


def _median(results: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in results)


def _rate(results: list[dict[str, Any]]) -> float:
    return statistics.median(float(r["rows"] / r["seconds"]) for r in results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the input CSV")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement")
    parser.add_argument("--source", type=Path, default=SOURCE, help="medical_tc_test.csv")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.csv, args.work, args.result)
        return 0

    t0 = time.perf_counter()
    csv_path = make_csv(args.rows, args.source)
    print(f"input: {csv_path} ({args.rows:,} rows, {csv_path.stat().st_size / 2**20:,.0f} MB)")
    kinds = ("ours-import", "anchor-import", "ours-export", "anchor-export")
    results: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
    for repeat in range(1, args.repeats + 1):
        work = Path(tempfile.mkdtemp(prefix="run-", dir=DATA))
        try:
            for kind in kinds:
                r = run_child(kind, csv_path, work)
                results[kind].append(r)
                print(
                    f"  repeat {repeat} {kind}: {r['rows']:,} rows in {r['seconds']:.1f} s, "
                    f"peak RSS {r['rss_mb']:.0f} MB",
                    flush=True,
                )
            inserted = results["ours-import"][-1]["inserted"]
            if inserted != args.rows:
                raise SystemExit(f"goldsmith inserted {inserted:,} of {args.rows:,} rows")
        finally:
            shutil.rmtree(work, ignore_errors=True)

    n = _label(args.rows)
    ours_in, anchor_in = _rate(results["ours-import"]), _rate(results["anchor-import"])
    ours_out, anchor_out = _rate(results["ours-export"]), _rate(results["anchor-export"])
    rss = {k: _median(v, "rss_mb") for k, v in results.items()}
    print(
        f"import_csv_{n}: ours {ours_in:,.0f} rows/s, anchor {anchor_in:,.0f} rows/s, "
        f"ratio {ours_in / anchor_in:.2f}"
    )
    print(f"peak_rss: ours {rss['ours-import']:,.0f} MB, anchor {rss['anchor-import']:,.0f} MB")
    print(
        f"export_openai_chat_{n}: ours {ours_out:,.0f} rows/s, anchor {anchor_out:,.0f} rows/s, "
        f"ratio {ours_out / anchor_out:.2f}"
    )
    print(
        f"export_peak_rss: ours {rss['ours-export']:,.0f} MB, anchor {rss['anchor-export']:,.0f} MB"
    )
    speed_ok = ours_in >= TARGET_ROWS_PER_S
    rss_ok = rss["ours-import"] < TARGET_RSS_MB
    print(
        f"target import >= {TARGET_ROWS_PER_S:,} rows/s: {'met' if speed_ok else 'NOT met'} "
        f"({ours_in:,.0f})"
    )
    print(
        f"target import peak RSS < {TARGET_RSS_MB} MB: {'met' if rss_ok else 'NOT met'} "
        f"({rss['ours-import']:,.0f} MB)"
    )
    print(f"({args.repeats} repeat(s), medians; {time.perf_counter() - t0:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The records browser at scale: first pages, deep pages and counts over 1M records on SQLite.

Usage::

    python bench/records_browser.py                         # 1M records, 7 repeats
    python bench/records_browser.py --records 100000 --repeats 3
    python bench/records_browser.py --keep bench/_data/browse  # build once, reuse the project

The project: ``--records`` records of ~``--words`` words each (a Zipf-like draw from a fixed
vocabulary, so a common word is in most records and a rare one in few), metadata ``channel``
(4 values) and ``split``; 40 % with a final label (provenance gold, human or consensus, a
confidence), 30 % with a model suggestion (a score), 2 % with two submitted answers that
differ, 0.5 % with an open review item, 0.1 % suspected label errors. It is built through the
store's own bulk paths (the fast import path for records), timed apart.

Each case is run ``--repeats`` times, each in a fresh read transaction, after one warm-up run;
the median is printed. "ours" is :meth:`goldsmith.Project.browse` (keyset, bounded scan); the
HTTP cases time ``GET /api/v1/browse/records`` through the real app in process (auth, JSON).
Anchors, in the same run on the same data:

* ``offset``: the listing the REST API had before, ``GET /api/v1/records?offset=&limit=``
  (``Project.records``, OFFSET/LIMIT), at the same depth as our keyset page;
* ``pandas``: the same filter on a DataFrame already in memory (``records`` loaded with
  ``pd.read_sql`` once, untimed): a boolean mask, then the first 50 rows.

Printed per case: ``records_browser/<case>: ours X ms, anchor Y ms (<which>), ratio Z`` (ratio
= anchor / ours: above 1 is faster than the anchor), then whether the target holds: every
first page under 300 ms on SQLite.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from goldsmith import Project
from goldsmith.config import write_config
from goldsmith.schema import FinalLabel, Provenance, Record, Role, content_hash
from goldsmith.store.browse import encode_cursor
from goldsmith.store.tables import records as records_table

TARGET_MS = 300.0
LABELS = ["cardio", "onco", "neuro", "pulmo", "derma"]
CHANNELS = ["email", "web", "phone", "chat"]
PAGE = 50
BATCH = 20_000


def vocabulary(rng: random.Random, n: int = 20_000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = {"".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(n)}
    return sorted(words)


def build(root: Path, n: int, words: int, seed: int = 0) -> dict[str, Any]:
    """A project of ``n`` records (see the module docstring); returns what the cases query."""
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    cum = list(itertools.accumulate(1.0 / (i + 1) for i in range(len(vocab))))  # Zipf
    write_config(
        root,
        {
            "name": "browse-bench",
            "fields": [{"name": "text", "kind": "text"}],
            "questions": [{"name": "label", "kind": "label", "labels": LABELS}],
        },
    )
    t0 = time.perf_counter()
    with Project.open(root) as p:
        store = p.store
        next_id = 1
        while next_id <= n:
            size = min(BATCH, n - next_id + 1)
            recs = []
            for i in range(next_id, next_id + size):
                text = " ".join(rng.choices(vocab, cum_weights=cum, k=words)) + f" r{i}"
                fields = {"text": text}
                meta = {"channel": CHANNELS[i % 4], "split": "test" if i % 10 == 0 else "train"}
                recs.append(Record(fields=fields, metadata=meta, content_hash=content_hash(fields)))
            with store.write() as tx:
                ids = tx.insert_records(recs)
                finals = []
                for rid in ids:
                    draw = rng.random()
                    if draw < 0.4:
                        prov = (Provenance.GOLD, Provenance.HUMAN, Provenance.CONSENSUS)[rid % 3]
                        conf = round(rng.random(), 3)
                        finals.append(FinalLabel(rid, "label", LABELS[rid % 5], prov, conf))
                tx.set_final_labels(finals, replace=False)
                sugg = [
                    (rid, LABELS[(rid * 7) % 5], round(rng.random(), 3))
                    for rid in ids
                    if rng.random() < 0.3
                ]
                tx._conn.exec_driver_sql(  # the bench's own bulk path, as the import has
                    "INSERT INTO suggestions (record_id, question, value, score, agent, kind)"
                    " VALUES (?, 'label', ?, ?, 'model:bench', 'model')",
                    [(rid, json.dumps(v), s) for rid, v, s in sugg],
                )
                answered = [rid for rid in ids if rng.random() < 0.02]
                rows = []
                for rid in answered:
                    rows.append((rid, "alice", json.dumps({"label": "cardio"})))
                    rows.append((rid, "bob", json.dumps({"label": "onco"})))
                tx._conn.exec_driver_sql(
                    'INSERT INTO responses (record_id, "user", "values", status) '
                    "VALUES (?, ?, ?, 'submitted')",
                    rows,
                )
                tx._conn.execute(
                    records_table.update()
                    .where(records_table.c.id.in_(answered))
                    .values(n_submitted=2, queue_done=True)
                )
                reviews = [
                    {
                        "record_id": rid,
                        "question": "label",
                        "kind": "issue" if rng.random() < 0.2 else "disagreement",
                        "detail": {},
                    }
                    for rid in ids
                    if rng.random() < 0.005
                ]
                tx.add_reviews(reviews)
            next_id += size
    built = time.perf_counter() - t0
    common, rare = vocab[0], vocab[len(vocab) // 2]
    return {"n": n, "seconds": built, "common": common, "rare": rare}


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median milliseconds of ``fn`` over ``repeats`` runs, after one warm-up; its last result."""
    out = fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--words", type=int, default=60, help="words per record's text")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="project folder to build once and reuse")
    parser.add_argument("--no-pandas", action="store_true", help="skip the pandas anchor")
    args = parser.parse_args(argv)

    tmp = None
    root = args.keep
    if root is None:
        tmp = Path(tempfile.mkdtemp(prefix="browse-bench-"))
        root = tmp / "p"
    info_file = root / "bench.json"
    if info_file.exists():
        info = json.loads(info_file.read_text())
        print(f"reusing {root}: {info['n']} records")
    else:
        root.mkdir(parents=True, exist_ok=True)
        info = build(root, args.records, args.words)
        info_file.write_text(json.dumps(info))
        print(f"built {info['n']} records in {info['seconds']:.0f} s ({root})")
    try:
        return run(root, info, args)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def run(root: Path, info: dict[str, Any], args: argparse.Namespace) -> int:
    n = int(info["n"])
    reps = args.repeats
    p = Project.open(root)
    results: list[tuple[str, float, float | None, str, bool]] = []

    def case(name: str, ours: Callable[[], Any], anchor: Callable[[], Any] | None, what: str,
             first: bool = True) -> Any:  # fmt: skip
        ms, out = timed(ours, reps)
        anchor_ms = timed(anchor, reps)[0] if anchor is not None else None
        results.append((name, ms, anchor_ms, what, first))
        return out

    df = None
    if not args.no_pandas:
        import pandas as pd

        t = time.perf_counter()
        with p.store.engine.connect() as conn:
            df = pd.read_sql(
                "SELECT r.id, r.fields, r.metadata, r.n_submitted, f.value AS final, "
                "f.provenance FROM records r LEFT JOIN final_labels f ON f.record_id = r.id "
                "AND f.question = 'label'",
                conn,
            )
        df["text"] = df["fields"].map(lambda s: json.loads(s)["text"])
        df["channel"] = df["metadata"].map(lambda s: json.loads(s).get("channel"))
        print(f"pandas anchor: loaded {len(df)} rows in {time.perf_counter() - t:.0f} s (untimed)")

    def pandas_first(mask: Callable[[Any], Any]) -> Callable[[], Any]:
        return lambda: df[mask(df)].head(PAGE)  # type: ignore[index]

    def page(**kw: Any) -> Callable[[], Any]:
        sort = kw.pop("sort", "id")
        after = kw.pop("after", None)
        flt = p.record_filter(**kw)
        return lambda: p.browse(flt, sort=sort, after=after, limit=PAGE)

    common, rare = info["common"], info["rare"]
    has_pd = df is not None
    first = case("first_page", page(), pandas_first(lambda d: d.id > 0) if has_pd else None,
                 "pandas")  # fmt: skip
    assert len(first.rows) == PAGE
    # deep: the keyset page after the middle record against OFFSET at the same depth
    middle = n // 2
    cursor = encode_cursor("id", [middle])
    case("deep_page_keyset", lambda: p.browse(after=cursor, limit=PAGE),
         lambda: p.records(offset=middle, limit=PAGE), "offset/limit", first=False)  # fmt: skip
    case("status_labeled", page(status="labeled"),
         pandas_first(lambda d: d.final.notna()) if has_pd else None, "pandas")  # fmt: skip
    case("label", page(label="onco"),
         pandas_first(lambda d: d.final == '"onco"') if has_pd else None, "pandas")  # fmt: skip
    case("provenance_gold", page(provenance=("gold",)),
         pandas_first(lambda d: d.provenance == "gold") if has_pd else None, "pandas")  # fmt: skip
    case("metadata_channel", page(metadata=(("channel", "phone"),)),
         pandas_first(lambda d: d.channel == "phone") if has_pd else None, "pandas")  # fmt: skip
    case("search_common", page(text=common),
         pandas_first(lambda d: d.text.str.contains(common, case=False, regex=False))
         if has_pd else None, "pandas")  # fmt: skip
    rare_page = case("search_rare_one_stretch", page(text=rare),
                     pandas_first(lambda d: d.text.str.contains(rare, case=False, regex=False))
                     if has_pd else None, "pandas")  # fmt: skip
    case("suggestion_score", page(score_min=0.9),
         None, "")  # fmt: skip
    case("disagreement", page(disagreement=True), None, "")
    case("in_review", page(in_review=True), None, "")
    case("label_error", page(label_error=True), None, "")
    case("combined", page(status="labeled", label="cardio", metadata=(("channel", "email"),)),
         None, "")  # fmt: skip
    case("sort_confidence", page(sort="confidence"),
         (lambda: df.dropna(subset=["final"]).head(PAGE)) if has_pd else None,  # type: ignore[union-attr]
         "pandas (unsorted)")  # fmt: skip
    case("sort_most_answers", page(sort="-responses"), None, "")
    case("sort_queue", page(sort="queue"), None, "")
    case("count_all", lambda: p.count_matching(), (lambda: len(df)) if has_pd else None,
         "pandas len", first=False)  # fmt: skip
    case("count_label", lambda: p.count_matching(p.record_filter(label="onco")),
         (lambda: int((df.final == '"onco"').sum())) if has_pd else None,  # type: ignore[union-attr]
         "pandas", first=False)  # fmt: skip

    # the same first page over HTTP, through the real app in process (auth, policies, JSON)
    from fastapi.testclient import TestClient

    from goldsmith.server import ServerSettings, create_app

    if "olive" not in {u.name for u in p.users()}:
        with p.store.write() as tx:  # a key-only owner: no password hash to pay for
            tx.add_user("olive", Role.OWNER, None)
    key = p.create_api_key("olive")
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(ServerSettings(project_root=root))) as client:

        def get(path: str) -> Callable[[], Any]:
            def call() -> Any:
                r = client.get(path, headers=headers)
                assert r.status_code == 200, r.text
                return r.json()

            return call

        case("http_first_page", get("/api/v1/browse/records?limit=50"),
             get(f"/api/v1/records?offset=0&limit={PAGE}"), "offset/limit at 0")  # fmt: skip
        case("http_deep_page", get(f"/api/v1/browse/records?limit=50&after={cursor}"),
             get(f"/api/v1/records?offset={middle}&limit={PAGE}"), "offset/limit",
             first=False)  # fmt: skip
        case("http_search_common", get(f"/api/v1/browse/records?limit=50&q={common}"), None, "")
    p.close()

    print(f"\n{n:,} records on SQLite, median of {reps} (ms); ratio = anchor / ours")
    print("| case | ours | anchor | anchor is | ratio |")
    print("|---|---|---|---|---|")
    for name, ms, anchor_ms, what, _ in results:
        ratio = f"{anchor_ms / ms:.1f}" if anchor_ms else "-"
        shown = f"{anchor_ms:.1f}" if anchor_ms is not None else "-"
        print(f"| {name} | {ms:.1f} | {shown} | {what or '-'} | {ratio} |")
    print()
    for name, ms, anchor_ms, what, _ in results:
        if anchor_ms is not None:
            print(f"records_browser/{name}: ours {ms:.1f} ms, anchor {anchor_ms:.1f} ms ({what}), "
                  f"ratio {anchor_ms / ms:.2f}")  # fmt: skip
        else:
            print(f"records_browser/{name}: ours {ms:.1f} ms")
    print(f"rare-term stretch: {len(rare_page.rows)} match(es), partial={rare_page.partial}")
    slow = [(name, ms) for name, ms, _, _, is_first in results if is_first and ms >= TARGET_MS]
    met = "met" if not slow else f"NOT met: {slow}"
    print(f"target: every first page under {TARGET_MS:.0f} ms on SQLite: {met}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

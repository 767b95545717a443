"""Twenty annotators at once against a real uvicorn server: nothing lost, nothing doubled.

Each annotator is a thread with its own HTTP connection and API key. They loop
``next -> submit`` until the queue has nothing left for them. Afterwards the database itself
is read: every record holds exactly ``overlap`` submitted responses, and no annotator answered
a record twice. Runs on SQLite (one writer thread, ``BEGIN IMMEDIATE``) and on PostgreSQL
(advisory lock for leasing, row lock for submitting).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import httpx

from goldsmith import Role

ANNOTATORS = 20
RECORDS = 500
OVERLAP = 2
LABELS = ["cardio", "onco", "neuro"]


def test_twenty_annotators_in_parallel(make_api_env: Any) -> None:
    env = make_api_env(records=RECORDS, settings={"overlap": OVERLAP}, live=True)
    names = [f"ann{i:02d}" for i in range(ANNOTATORS)]
    with env.project() as proj:
        with proj.store.write() as tx:
            for name in names:
                tx.add_user(name, Role.ANNOTATOR, None)
        keys = {name: proj.create_api_key(name) for name in names}

    statuses: Counter[tuple[str, int]] = Counter()
    served: dict[str, list[int]] = {name: [] for name in names}
    problems: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(ANNOTATORS)

    def annotate(name: str, index: int) -> None:
        headers = {"Authorization": f"Bearer {keys[name]}"}
        with httpx.Client(base_url=env.url, headers=headers, timeout=120) as http:
            start.wait()
            for turn in range(RECORDS + 1):
                r = http.get("/api/v1/queue/next")
                with lock:
                    statuses[("next", r.status_code)] += 1
                if r.status_code != 200:
                    problems.append(f"{name}: next -> {r.status_code} {r.text[:200]}")
                    return
                item = r.json()["item"]
                if item is None:
                    return
                rid = item["record"]["id"]
                if rid in served[name]:
                    problems.append(f"{name}: record {rid} served twice")
                    return
                served[name].append(rid)
                body = {"values": {"label": LABELS[(index + turn) % 3]}, "time_spent": 0.1}
                r = http.put(f"/api/v1/records/{rid}/response", json=body)
                with lock:
                    statuses[("submit", r.status_code)] += 1
                if r.status_code != 200:
                    problems.append(f"{name}: submit {rid} -> {r.status_code} {r.text[:200]}")
            problems.append(f"{name}: the queue never ran dry")

    threads = [
        threading.Thread(target=annotate, args=(name, i), name=name) for i, name in enumerate(names)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "annotators still running after 300 s"
    assert not problems, "\n".join(problems[:20])
    # no conflict and no server error happened: leases never over-assign a record
    assert set(statuses) <= {("next", 200), ("submit", 200)}, statuses
    assert statuses[("submit", 200)] == RECORDS * OVERLAP
    assert statuses[("next", 200)] == RECORDS * OVERLAP + ANNOTATORS  # one empty answer each

    # the database itself
    per_record = env.query(
        "SELECT record_id, count(*) FROM responses WHERE status = 'submitted' GROUP BY record_id"
    )
    assert len(per_record) == RECORDS
    assert {n for _, n in per_record} == {OVERLAP}
    assert env.query("SELECT count(*) FROM responses")[0][0] == RECORDS * OVERLAP
    twice = env.query(
        'SELECT record_id, "user", count(*) FROM responses GROUP BY record_id, "user" '
        "HAVING count(*) > 1"
    )
    assert twice == []
    counts = env.query("SELECT n_submitted, queue_done FROM records")
    assert len(counts) == RECORDS and all(n == OVERLAP and done for n, done in counts)
    assert env.query("SELECT count(*) FROM leases")[0][0] == 0
    by_user = dict(env.query('SELECT "user", count(*) FROM responses GROUP BY "user"'))
    assert by_user == {name: len(ids) for name, ids in served.items() if ids}
    assert sum(len(ids) for ids in served.values()) == RECORDS * OVERLAP
    assert env.ok("GET", "/progress", "olive")["complete"] == RECORDS

"""The records browser's REST API on SQLite and PostgreSQL (issue 20, item 4): who may see
and do what, filters and keyset pages over HTTP, a record's story, owners' bulk actions
checked in the store, and an export of a filter run in the background."""

from __future__ import annotations

import csv
import io
import threading
import time
from typing import Any

import pytest

from goldsmith.schema import FinalLabel, Provenance, Suggestion, SuggestionKind
from goldsmith.server.jobs import JobThreads

ApiEnv = Any  # conftest.ApiEnv
TEXTS = [
    "Chest pain after exercise.",
    "Tumour in the left lung, café 🧬.",
    "Seizures in children.",
    "Beta blockers after infarction.",
    "Glioma on MRI.",
]


def _env(make_api_env: Any) -> tuple[ApiEnv, list[int]]:
    env = make_api_env(records=[{"text": t} for t in TEXTS], settings={"overlap": 2})
    ids = env.record_ids
    with env.project() as p:
        p.answer("alice", ids[1], {"label": "onco"})
        p.answer("bob", ids[1], {"label": "neuro"})
        with p.store.write() as tx:
            tx.set_final_labels(
                [
                    FinalLabel(ids[0], "label", "cardio", Provenance.GOLD),
                    FinalLabel(ids[3], "label", "cardio", Provenance.HUMAN, 0.7),
                    FinalLabel(ids[4], "label", "neuro", Provenance.CONSENSUS, 0.8),
                ]
            )
            tx.set_dup_groups({ids[0]: 3, ids[2]: 3})
        p.add_suggestions(
            [Suggestion(ids[2], "label", "neuro", "model:m", SuggestionKind.MODEL, 0.8)]
        )
    return env, ids


def _page(env: ApiEnv, user: str = "rita", **params: Any) -> dict[str, Any]:
    page: dict[str, Any] = env.ok("GET", "/browse/records", user, params=params)
    return page


def _ids(env: ApiEnv, **params: Any) -> list[int]:
    return [r["id"] for r in _page(env, **params)["records"]]


def test_annotators_never_see_the_browser_and_reviewers_only_read(
    make_api_env: Any, api_error: Any
) -> None:
    env, ids = _env(make_api_env)
    reads = [
        ("GET", "/browse/records", None),
        ("GET", "/browse/count", None),
        ("GET", f"/browse/records/{ids[0]}", None),
        ("GET", "/browse/formats", None),
    ]
    writes = [
        ("POST", "/browse/actions", {"action": "gold", "ids": [ids[3]]}),
        ("POST", "/browse/export", {"format": "csv"}),
        ("GET", "/jobs/1", None),
    ]
    for method, path, body in reads + writes:
        assert api_error(env.api(method, path, "alice", json=body)) == (403, "forbidden"), path
        assert api_error(env.api(method, path, None, json=body))[0] == 401, path
    for method, path, body in reads:
        assert env.api(method, path, "rita", json=body).status_code == 200, path
    for method, path, body in writes:
        assert api_error(env.api(method, path, "rita", json=body)) == (403, "forbidden"), path
    with env.project() as p, p.store.read() as tx:  # nothing changed
        assert tx.final_label(ids[3], "label").provenance == Provenance.HUMAN  # type: ignore[union-attr]


def test_filters_and_keyset_pages_over_http(make_api_env: Any, api_error: Any) -> None:
    env, ids = _env(make_api_env)
    assert _ids(env) == ids
    assert _ids(env, q="AFTER") == [ids[0], ids[3]]
    assert _ids(env, q="café 🧬") == [ids[1]]
    assert _ids(env, status="labeled") == [ids[0], ids[3], ids[4]]
    assert _ids(env, status="annotated") == [ids[1]]
    assert _ids(env, label="cardio") == [ids[0], ids[3]]
    assert _ids(env, provenance=["gold", "consensus"]) == [ids[0], ids[4]]
    assert _ids(env, has_suggestion="true", score_min=0.5) == [ids[2]]
    assert _ids(env, disagreement="true") == [ids[1]]
    assert _ids(env, dup_group=3) == [ids[0], ids[2]]
    assert _ids(env, q="after", label="cardio", provenance=["human"]) == [ids[3]]
    row = _page(env, label="cardio", limit=1)["records"][0]
    assert row["final"]["label"] == {"value": "cardio", "provenance": "gold", "confidence": 1.0}
    assert row["status"] == "labeled" and row["preview"] == {"text": TEXTS[0]}
    # keyset pages, each sort
    seen, after = [], None
    while True:
        page = _page(env, sort="-id", limit=2, **({"after": after} if after else {}))
        seen += [r["id"] for r in page["records"]]
        after = page["next"]
        if after is None:
            break
    assert seen == ids[::-1]
    by_conf = [r["id"] for r in _page(env, sort="confidence")["records"]]
    assert by_conf == [ids[3], ids[4], ids[0]]
    assert env.ok("GET", "/browse/count", "rita", params={"label": "cardio"}) == {
        "total": 2,
        "exact": True,
    }
    # errors say what is wrong
    r = env.api("GET", "/browse/records", "rita", params={"after": "bm9wZQ"})
    assert api_error(r) == (400, "bad_request")
    assert (
        api_error(env.api("GET", "/browse/records", "rita", params={"question": "nope"}))[0] == 422
    )
    r = env.api("GET", "/browse/records", "rita", params={"meta": "nocolon"})
    assert api_error(r) == (400, "bad_request") and "key:value" in r.json()["error"]["message"]
    assert api_error(env.api("GET", "/browse/records", "rita", params={"sort": "text"}))[0] == 422
    r = env.api("GET", "/browse/records", "rita", params={"score_min": 0.9, "score_max": 0.1})
    assert api_error(r) == (400, "bad_request")


def test_a_records_story_over_http(make_api_env: Any) -> None:
    env, ids = _env(make_api_env)
    story = env.ok("GET", f"/browse/records/{ids[1]}", "rita")
    assert story["record"]["fields"] == {"text": TEXTS[1]}
    assert {r["user"]: r["values"] for r in story["responses"]} == {
        "alice": {"label": "onco"},
        "bob": {"label": "neuro"},
    }
    assert [e["event"] for e in story["history"]][:1] == ["added"]
    assert env.api("GET", "/browse/records/999", "rita").status_code == 404


def test_owners_bulk_actions_change_the_store(make_api_env: Any, api_error: Any) -> None:
    env, ids = _env(make_api_env)
    report = env.ok("POST", "/browse/actions", "olive", json={"action": "review", "ids": ids[:2]})
    assert report["action"] == "review" and report["changed"] == 2
    report = env.ok("POST", "/browse/actions", "olive", json={"action": "gold", "ids": ids[2:]})
    assert report["changed"] == 2 and report["unchanged"]["no final label"]["ids"] == [ids[2]]
    report = env.ok("POST", "/browse/actions", "olive", json={"action": "front", "ids": [ids[4]]})
    assert report["changed"] == 1
    with env.project() as p:
        with p.store.read() as tx:
            assert tx.final_label(ids[3], "label").provenance == Provenance.GOLD  # type: ignore[union-attr]
            assert tx.final_label(ids[4], "label").provenance == Provenance.GOLD  # type: ignore[union-attr]
        manual = [i for i in p.reviews(limit=20) if i["kind"] == "manual"]
    assert sorted(i["record_id"] for i in manual) == ids[:2]
    assert env.next_id("carol") == ids[4]  # sent to the front: served first
    assert _ids(env, in_review="true") == ids[:2]
    r = env.api("POST", "/browse/actions", "olive", json={"action": "gold", "ids": [999]})
    assert api_error(r) == (404, "not_found")
    r = env.api("POST", "/browse/actions", "olive", json={"action": "burn", "ids": [ids[0]]})
    assert api_error(r)[0] == 422


def _wait(env: ApiEnv, job_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        job: dict[str, Any] = env.ok("GET", f"/jobs/{job_id}", "olive")
        if job["status"] != "running" or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def test_an_export_of_a_filter_runs_in_the_background(make_api_env: Any, api_error: Any) -> None:
    env, ids = _env(make_api_env)
    body = {"filter": {"label": "cardio"}, "format": "csv", "split": [1.0], "name": "cardio"}
    r = env.api("POST", "/browse/export", "olive", json=body)
    assert r.status_code == 202, r.text
    job = _wait(env, r.json()["id"])
    assert job["status"] == "done", job
    assert job["params"]["filter"] == {"label": "cardio", "question": "label"}
    assert job["result"]["counts"] == {"train": 2}
    assert (env.root / "exports" / "cardio" / "train.csv").is_file()
    got = env.api("GET", f"/jobs/{job['id']}/files/train.csv", "olive")
    assert got.status_code == 200
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert sorted(int(x["id"]) for x in rows) == [ids[0], ids[3]]
    card = env.api("GET", f"/jobs/{job['id']}/files/README.md", "olive")
    assert "records browser" in card.text
    assert env.api("GET", f"/jobs/{job['id']}/files/other.csv", "olive").status_code == 404
    # a filter with nothing labeled: the job fails with the export's reason
    r = env.api(
        "POST", "/browse/export", "olive", json={"filter": {"status": "pending"}, "format": "csv"}
    )
    failed = _wait(env, r.json()["id"])
    assert failed["status"] == "failed" and "no record among" in failed["error"]
    # refused before any job starts
    r = env.api("POST", "/browse/export", "olive", json={"format": "openai-dpo"})
    assert api_error(r) == (400, "bad_request") and "does not fit" in r.json()["error"]["message"]
    r = env.api("POST", "/browse/export", "olive", json={"format": "csv", "split": [0.5, 0.4]})
    assert api_error(r) == (400, "bad_request")
    r = env.api("POST", "/browse/export", "olive", json={"format": "csv", "name": "../up"})
    assert api_error(r)[0] == 422
    r = env.api("POST", "/browse/export", "olive", json={"format": "csv", "filter": {"bogus": 1}})
    assert api_error(r)[0] == 422


@pytest.mark.parametrize("user", ["olive", "rita"])
def test_the_page_is_for_owners_and_reviewers_only(make_api_env: Any, user: str) -> None:
    env, _ = _env(make_api_env)
    # pages take the session cookie: log in through the API's users route
    with env.project() as p:
        p.add_user(
            f"{user}2", role="owner" if user == "olive" else "reviewer", password="pw-pw-pw-pw"
        )
        p.add_user("ann2", role="annotator", password="pw-pw-pw-pw")

    def login(name: str) -> Any:
        env.client.cookies.clear()
        form = env.client.get("/login")
        token = form.text.split('name="csrf" value="')[1].split('"')[0]
        env.client.post("/login", data={"username": name, "password": "pw-pw-pw-pw", "csrf": token})
        return env.client

    client = login(f"{user}2")
    page = client.get("/records")
    assert page.status_code == 200 and 'id="records"' in page.text
    assert 'href="/records"' in client.get("/").text
    client = login("ann2")
    assert client.get("/records").status_code == 403
    assert 'href="/records"' not in client.get("/").text


def test_job_threads_beat_while_a_job_runs_and_survive_a_failing_job() -> None:
    threads = JobThreads(beat_every=0.01)
    beats: list[float] = []
    done = threading.Event()

    def work() -> None:
        time.sleep(0.2)
        done.set()

    threads.start("slow", work, lambda: beats.append(time.monotonic()))
    threads.start("broken", lambda: 1 / 0, lambda: None)  # logged, never raised here
    threads.wait(5)
    assert done.is_set() and len(beats) >= 3
    n = len(beats)
    time.sleep(0.05)
    assert len(beats) == n  # the beat stops with the job

"""The model in the loop while serving: every N submits it retrains in the background, its
suggestions appear, and `next` follows the new order (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

TOPICS = {
    "cardio": "heart artery blood pressure cardiac",
    "onco": "tumour cancer chemotherapy metastasis",
    "neuro": "brain nerve seizure neuron",
}


def _records() -> list[dict[str, Any]]:
    out = []
    for i in range(30):
        label = list(TOPICS)[i % 3]
        out.append({"text": f"patient {i} study of {TOPICS[label]} outcome {i % 7}"})
    return out


def _label(item: dict[str, Any]) -> dict[str, str]:
    text = item["record"]["fields"]["text"]
    return {"label": next(lab for lab, words in TOPICS.items() if words in text)}


def test_submits_trigger_a_background_retrain(make_api_env: Any) -> None:
    env = make_api_env(records=_records(), server={"retrain_every": 6})
    retrainer = env.app.state.retrainer
    item = env.next("alice")
    for _ in range(5):
        path = f"/records/{item['record']['id']}/response?next=true"
        item = env.ok("PUT", path, "alice", json={"values": _label(item)})["next"]
    assert retrainer.runs == 0  # 5 < 6: no retrain yet
    assert env.answer("alice", item["record"]["id"], _label(item)).status_code == 200
    retrainer.wait(60)
    assert retrainer.runs == 1 and retrainer.last_error is None, retrainer.last_error
    report = retrainer.last_report
    assert report.n_labeled == 6 and report.n_suggestions == 24
    rows = env.query("SELECT count(*) FROM suggestions WHERE agent LIKE 'classifier:%'")
    assert rows[0][0] == 24
    ranked = env.query(
        "SELECT id FROM records WHERE queue_done = false ORDER BY queue_rank, id LIMIT 1"
    )
    served = env.next("bob")
    assert env.rid("bob", served["record"]["id"]) == ranked[0][0]  # the retrained order
    assert served["suggestions"] and served["suggestions"][0]["agent"].startswith("classifier:")

"""``label_groups``: optional headings for the page's label picker, checked when the task is
read (each group names labels of its question, each label in one group) and sent to the page."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldsmith import Project
from goldsmith.config import parse_task, write_config
from goldsmith.errors import ConfigError
from goldsmith.server.payloads import task_payload

LABELS = ["refund", "card_arrival", "card_linking", "pin_blocked"]


def _task(groups: object, kind: str = "label") -> dict[str, object]:
    question: dict[str, object] = {"name": "intent", "kind": kind, "labels": LABELS}
    if kind in ("spans", "span_multilabel"):
        question["field"] = "text"
    question["label_groups"] = groups
    return {"name": "t", "fields": [{"name": "text"}], "questions": [question]}


@pytest.mark.parametrize("kind", ["label", "multilabel", "spans", "span_multilabel"])
def test_groups_are_kept_and_sent_to_the_page(kind: str) -> None:
    groups = {"Cards": ["card_arrival", "card_linking"], "Security": ["pin_blocked"]}
    task = parse_task(_task(groups, kind), source="test")
    q = task.questions[0]
    assert q.label_groups == {
        "Cards": ("card_arrival", "card_linking"),
        "Security": ("pin_blocked",),
    }  # type: ignore[union-attr]
    sent = task_payload(task)["questions"][0]
    assert sent["label_groups"] == {
        "Cards": ["card_arrival", "card_linking"],
        "Security": ["pin_blocked"],
    }


def test_no_groups_is_the_default() -> None:
    data = _task(None)
    del data["questions"][0]["label_groups"]  # type: ignore[index]
    task = parse_task(data, source="test")
    assert task_payload(task)["questions"][0]["label_groups"] is None


@pytest.mark.parametrize(
    ("groups", "says"),
    [
        ({"Cards": ["card_arrival", "crad_linking"]}, "label_groups.Cards names ['crad_linking']"),
        (
            {"Cards": ["card_arrival"], "More": ["card_arrival"]},
            "'card_arrival' is in both 'Cards' and 'More'",
        ),
        ({"Cards": []}, "label_groups.Cards is empty"),
        ({" ": ["refund"]}, "a group with an empty name"),
    ],
)
def test_bad_groups_are_clear_errors_naming_the_question(groups: object, says: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_task(_task(groups), source="goldsmith.toml")
    assert "question 'intent'" in str(err.value)
    assert says in str(err.value)


def test_groups_round_trip_through_toml(tmp_path: Path) -> None:
    groups = {"Security": ["pin_blocked"], "Cards": ["card_arrival", "card_linking"]}
    write_config(tmp_path, _task(groups))
    with Project.open(tmp_path) as proj:
        q = proj.task.questions[0]
        assert q.label_groups == {k: tuple(v) for k, v in groups.items()}  # type: ignore[union-attr]

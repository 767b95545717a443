"""Task schema: question kinds canonicalise values and reject bad ones."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from goldsmith.errors import SchemaError
from goldsmith.schema import (
    LabelQuestion,
    MultiLabelQuestion,
    PreferenceQuestion,
    RatingQuestion,
    SpansQuestion,
    Task,
    TextQuestion,
    content_hash,
    normalise_text,
)


def test_label_question_accepts_only_its_labels() -> None:
    q = LabelQuestion(name="label", labels=("a", "b"))
    assert q.check("a") == "a"
    with pytest.raises(SchemaError, match="not one of"):
        q.check("c")


def test_multilabel_is_canonicalised_to_task_order() -> None:
    q = MultiLabelQuestion(name="labels", labels=("x", "y", "z"))
    assert q.check(["z", "x", "z"]) == ["x", "z"]
    with pytest.raises(SchemaError):
        q.check(["w"])
    with pytest.raises(SchemaError):
        q.check("x")


def test_spans_are_sorted_and_checked() -> None:
    q = SpansQuestion(name="spans", labels=("Disease",))
    spans = [{"start": 5, "end": 9, "label": "Disease"}, {"start": 0, "end": 3, "label": "Disease"}]
    assert [s["start"] for s in q.check(spans)] == [0, 5]
    with pytest.raises(SchemaError, match="empty"):
        q.check([{"start": 4, "end": 4, "label": "Disease"}])
    with pytest.raises(SchemaError, match="needs start"):
        q.check([{"start": 1}])


def test_rating_bounds_and_types() -> None:
    q = RatingQuestion(name="r", min=1, max=3)
    assert q.check("2") == 2
    for bad in (0, 4, True, "x", 1.5):
        with pytest.raises(SchemaError):
            q.check(bad)


def test_text_and_preference() -> None:
    assert TextQuestion(name="t").check("") == ""
    with pytest.raises(SchemaError):
        TextQuestion(name="t").check(3)
    p = PreferenceQuestion(name="p")
    assert p.check(["1", 0]) == [1, 0]
    for bad in ([0], [0, 0], [0, -1], "01"):
        with pytest.raises(SchemaError):
            p.check(bad)


def test_task_rejects_duplicate_names_and_unknown_questions() -> None:
    with pytest.raises(ValueError, match="duplicate question"):
        Task.model_validate(
            {
                "name": "t",
                "fields": [{"name": "text"}],
                "questions": [
                    {"name": "q", "kind": "text"},
                    {"name": "q", "kind": "rating"},
                ],
            }
        )
    task = Task.model_validate(
        {"name": "t", "fields": [{"name": "text"}], "questions": [{"name": "q", "kind": "text"}]}
    )
    with pytest.raises(SchemaError, match="unknown question"):
        task.check_values({"nope": 1})
    with pytest.raises(SchemaError, match="no question"):
        task.question("nope")


def test_content_hash_ignores_case_and_spacing_but_not_words() -> None:
    assert normalise_text("  Héllo\n WORLD ") == "héllo world"
    assert content_hash({"text": "Hello  world"}) == content_hash({"text": "hello world"})
    assert content_hash({"text": "hello world"}) != content_hash({"text": "hello word"})
    assert content_hash({"a": "x", "b": "y"}) != content_hash({"a": "y", "b": "x"})
    chat = [{"role": "user", "content": "Hi"}]
    assert content_hash({"m": chat}) != content_hash(
        {"m": [{"role": "assistant", "content": "Hi"}]}
    )


def _task(question: dict[str, object], settings: dict[str, object] | None = None) -> Task:
    data: dict[str, object] = {"name": "t", "fields": [{"name": "text"}], "questions": [question]}
    if settings is not None:
        data["settings"] = settings
    return Task.model_validate(data)


def test_ten_thousand_labels_fail_at_task_creation() -> None:
    labels = [f"ICD-{i}" for i in range(10_000)]
    for kind in ("label", "multilabel", "spans"):
        with pytest.raises(ValidationError, match="10000 labels; at most 1000"):
            _task({"name": "q", "kind": kind, "labels": labels})
    assert len(_task({"name": "q", "kind": "label", "labels": labels[:1000]}).questions[0].labels)


def test_keys_are_reassignable_but_never_ambiguous() -> None:
    task = _task(
        {"name": "q", "kind": "label", "labels": ["a", "b"]},
        {"keys": {"skip": "x", "labels": {"a": "q"}}},
    )
    assert task.settings.keys.skip == "x" and task.settings.keys.labels == {"a": "q"}
    with pytest.raises(ValidationError, match="more than one action"):
        _task({"name": "q", "kind": "label", "labels": ["a"]}, {"keys": {"skip": "Enter"}})
    with pytest.raises(ValidationError, match="uses key '1', which is an action key"):
        _task({"name": "q", "kind": "label", "labels": ["a", "b"]}, {"keys": {"skip": "1"}})
    with pytest.raises(ValidationError, match="unknown label"):
        _task({"name": "q", "kind": "label", "labels": ["a"]}, {"keys": {"labels": {"zzz": "z"}}})

"""The answer format: JSON schema per question kind, the validator, and confidence maths."""

from __future__ import annotations

import json
import math

import pytest

from goldsmith.errors import SchemaError
from goldsmith.llm.confidence import Choice, combine, logprob_confidence, value_offsets
from goldsmith.llm.structured import AnswerFormat, align_spans
from goldsmith.schema import (
    FieldSpec,
    LabelQuestion,
    MultiLabelQuestion,
    PreferenceQuestion,
    RatingQuestion,
    SpansQuestion,
    Task,
    TextQuestion,
)

SENT = LabelQuestion(name="sentiment", labels=("positive", "negative", "neutral"))
TOPICS = MultiLabelQuestion(name="topics", labels=("rates", "jobs", "energy"))
SCORE = RatingQuestion(name="score", min=1, max=5)
WIDE = RatingQuestion(name="wide", min=0, max=1000)
NOTE = TextQuestion(name="note", required=False)
ENTS = SpansQuestion(name="ents", labels=("ORG", "LOC"), field="text")
PREF = PreferenceQuestion(name="pref", candidates_field="candidates")


def fmt(*questions: object) -> AnswerFormat:
    return AnswerFormat(questions=tuple(questions))  # type: ignore[arg-type]


def test_schema_per_question_kind_is_strict_mode_safe() -> None:
    schema = fmt(SENT, TOPICS, SCORE, WIDE, NOTE, ENTS, PREF).schema
    props = schema["properties"]
    assert schema["required"] == list(props) and schema["additionalProperties"] is False
    assert props["sentiment"] == {"type": "string", "enum": ["positive", "negative", "neutral"]}
    assert props["topics"] == {
        "type": "array",
        "items": {"type": "string", "enum": ["rates", "jobs", "energy"]},
    }
    assert props["score"] == {"type": "integer", "enum": [1, 2, 3, 4, 5]}
    assert props["wide"] == {"type": "integer", "minimum": 0, "maximum": 1000}
    assert props["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    span = props["ents"]["items"]
    assert span["required"] == ["text", "start", "end", "label"]
    assert span["additionalProperties"] is False
    assert span["properties"]["label"]["enum"] == ["ORG", "LOC"]
    assert props["pref"] == {"type": "array", "items": {"type": "integer"}}
    assert "uniqueItems" not in json.dumps(schema)  # OpenAI strict mode rejects it


def test_response_format_names_the_task_safely() -> None:
    task = Task(name="fin news (v2)!", fields=(FieldSpec(name="text"),), questions=(SENT,))
    rf = AnswerFormat.for_task(task).response_format
    assert rf["type"] == "json_schema"
    assert rf["json_schema"]["name"] == "fin_news__v2__"
    assert rf["json_schema"]["strict"] is True


def test_parse_returns_canonical_values() -> None:
    f = fmt(SENT, TOPICS, SCORE, NOTE)
    reply = (
        '{"sentiment": "negative", "topics": ["energy", "rates", "energy"], "score": 4, '
        '"note": null}'
    )
    assert f.parse(reply) == {"sentiment": "negative", "topics": ["rates", "energy"], "score": 4}


@pytest.mark.parametrize(
    ("reply", "names"),
    [
        ('{"sentiment": "happy", "score": 3}', "'sentiment'"),
        ('{"sentiment": "positive", "score": 9}', "score"),
        ('{"sentiment": "positive"}', "'score'"),
        ('{"sentiment": "positive", "score": 3, "extra": 1}', "'extra'"),
        ('{"sentiment": "positive", "score": "many"}', "'score'"),
        ("Sure! The sentiment is positive.", "not valid JSON"),
        ('{"sentiment": "positive", "score": 3', "not valid JSON"),
    ],
)
def test_invalid_replies_name_the_field(reply: str, names: str) -> None:
    with pytest.raises(SchemaError, match=names):
        fmt(SENT, SCORE).parse(reply)


def test_questions_named_like_pydantic_attributes_work() -> None:
    odd = LabelQuestion(name="model_config", labels=("a", "b"))
    also = LabelQuestion(name="json", labels=("x", "y"))
    assert fmt(odd, also).parse('{"model_config": "b", "json": "x"}') == {
        "model_config": "b",
        "json": "x",
    }


def test_spans_are_aligned_on_their_text() -> None:
    text = "Shell and BP met in Paris."
    reply = json.dumps(
        {
            "ents": [
                {"text": "BP", "start": 10, "end": 12, "label": "ORG"},  # right
                {"text": "Shell", "start": 3, "end": 8, "label": "ORG"},  # miscounted
                {"text": "Paris", "start": 0, "end": 5, "label": "LOC"},  # miscounted
                {"text": "Berlin", "start": 0, "end": 6, "label": "LOC"},  # not in the text
            ]
        }
    )
    assert fmt(ENTS).parse(reply, {"text": text}) == {
        "ents": [
            {"start": 0, "end": 5, "label": "ORG"},
            {"start": 10, "end": 12, "label": "ORG"},
            {"start": 20, "end": 25, "label": "LOC"},
        ]
    }
    nearest = align_spans([{"text": "a", "start": 5, "end": 6, "label": "X"}], "a a a")
    assert nearest == [{"start": 4, "end": 5, "label": "X"}]


def test_preference_indices_are_bounded_by_the_candidates() -> None:
    f = fmt(PREF)
    assert f.parse('{"pref": [1, 0]}', {"candidates": ["a", "b"]}) == {"pref": [1, 0]}
    with pytest.raises(SchemaError, match="outside 0..1"):
        f.parse('{"pref": [2, 0]}', {"candidates": ["a", "b"]})


# --------------------------------------------------------------------------- confidence


def test_value_offsets_find_top_level_values_only() -> None:
    content = '{"note": "say \\"label\\": x", "label": "neutral", "n": [1, {"label": 2}]}'
    spans = value_offsets(content)
    assert content[slice(*spans["label"])] == '"neutral"'
    assert content[slice(*spans["n"])] == '[1, {"label": 2}]'
    assert json.loads(content[slice(*spans["note"])]) == 'say "label": x'


def _tokens(
    pieces: list[tuple[str, float]], *, with_bytes: bool = False
) -> list[dict[str, object]]:
    return [
        {"token": t, "logprob": lp, "bytes": list(t.encode()) if with_bytes else None}
        for t, lp in pieces
    ]


def test_logprob_confidence_is_the_probability_of_the_label_tokens() -> None:
    pieces = [('{"', -0.01), ("label", -0.01), ('":', 0.0), (' "', -0.02)]
    pieces += [("neg", math.log(0.6)), ("ative", math.log(0.9)), ('"}', -0.05)]
    content = "".join(t for t, _ in pieces)
    conf = logprob_confidence(
        content, _tokens(pieces), [LabelQuestion(name="label", labels=("negative", "positive"))]
    )
    assert conf["label"] == pytest.approx(0.54)  # quotes and keys do not count


def test_logprob_confidence_of_text_is_a_geometric_mean() -> None:
    pieces = [('{"note": "', 0.0), ("a", math.log(0.5)), (" b", math.log(0.8)), ('"}', 0.0)]
    content = "".join(t for t, _ in pieces)
    conf = logprob_confidence(content, _tokens(pieces), [TextQuestion(name="note")])
    assert conf["note"] == pytest.approx(math.sqrt(0.4))


def test_logprob_confidence_uses_bytes_when_a_character_is_split() -> None:
    content = '{"label": "café"}'
    raw = content.encode()
    cut = raw.index("é".encode()) + 1  # split é over two tokens
    pieces = [raw[:10], raw[10:cut], raw[cut:]]
    tokens = [
        {"token": p.decode(errors="replace"), "logprob": lp, "bytes": list(p)}
        for p, lp in zip(pieces, (0.0, math.log(0.7), 0.0), strict=True)
    ]
    q = LabelQuestion(name="label", labels=("café", "bar"))
    assert logprob_confidence(content, tokens, [q])["label"] == pytest.approx(0.7)
    tokens[1]["bytes"] = None  # neither strings nor bytes spell it: no confidence
    assert logprob_confidence(content, tokens, [q])["label"] is None


def test_self_consistency_is_the_share_agreeing_with_the_mode() -> None:
    choices = [
        Choice({"sentiment": s, "score": 3}, "")
        for s in ("neutral", "positive", "positive", "negative")
    ]
    values, conf, source = combine(choices, [SENT, SCORE], "self_consistency")
    assert values == {"sentiment": "positive", "score": 3}
    assert conf == {"sentiment": 0.5, "score": 1.0}
    assert source == "self_consistency"
    tie = [Choice({"sentiment": s}, "") for s in ("neutral", "positive")]
    assert combine(tie, [SENT], "self_consistency")[0] == {"sentiment": "neutral"}

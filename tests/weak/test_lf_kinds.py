"""The LF kinds beyond keyword, regex and Python: model and similarity LFs (vectorised per
batch), multi-label votes, and span LFs whose offsets are code points even around emoji."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from goldsmith.errors import LabelingFunctionError, SchemaError
from goldsmith.weak import (
    ABSTAIN,
    NOT,
    LFRecord,
    gazetteer_lf,
    keyword_lf,
    labeling_function,
    model_lf,
    regex_span_lf,
    similarity_lf,
)
from goldsmith.weak.apply import apply_lfs, apply_span_lfs, multilabel_names

LABELS = ["cardio", "onco", "other"]
TRAIN = [
    ("heart attack and chest pain", "cardio"),
    ("coronary artery disease of the heart", "cardio"),
    ("a malignant tumour was found", "onco"),
    ("carcinoma of the lung, a tumour", "onco"),
    ("a broken leg after a fall", "other"),
    ("the patient sprained an ankle", "other"),
]


def _rows(texts: Sequence[str]) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    return [(i + 1, {"text": t}, {}) for i, t in enumerate(texts)]


def _votes(columns: Any, n: int) -> list[list[int]]:
    """Per LF, the label index voted on each of ``n`` rows (-1 = abstain)."""
    out = []
    for column in columns:
        row = [-1] * n
        for rid, label in zip(column.ids, column.labels, strict=True):
            row[rid - 1] = label
        out.append(row)
    return out


class CountingModel:
    """A predict_proba model that records how often it is called, with integer classes."""

    def __init__(self) -> None:
        self.calls = 0
        self.classes_ = np.array([0, 1, 2])

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        proba = np.full((len(texts), 3), 0.1)
        for i, text in enumerate(texts):
            proba[i, 0 if "heart" in text else 1 if "tumour" in text else 2] = 0.8
        return proba


# --------------------------------------------------------------------------- model_lf


def test_model_lf_votes_the_argmax_above_the_threshold() -> None:
    pipe = make_pipeline(TfidfVectorizer(), LogisticRegression(C=100.0))
    pipe.fit([t for t, _ in TRAIN], [lab for _, lab in TRAIN])
    texts = ["pain in the heart", "a tumour", "zzz qqq"]
    lf = model_lf(None, pipe, name="clf", threshold=0.6)
    (votes,) = _votes(apply_lfs([lf], _rows(texts), LABELS, workers=1), 3)
    proba = pipe.predict_proba(texts)
    expected = [LABELS.index(pipe.classes_[p.argmax()]) if p.max() >= 0.6 else -1 for p in proba]
    assert votes == expected and votes[:2] == [0, 1]
    only_onco = model_lf("onco", pipe, name="onco", threshold=0.5)
    (votes,) = _votes(apply_lfs([only_onco], _rows(texts), LABELS, workers=1), 3)
    assert votes == [-1, 1, -1]
    assert only_onco(LFRecord(1, {"text": "a tumour"}, {})) == "onco"  # one record, same path


def test_model_lf_runs_once_per_batch_and_maps_integer_classes() -> None:
    model = CountingModel()
    lf = model_lf(None, model, name="counted", threshold=0.5, version="v1")
    texts = ["heart", "tumour", "neither"] * 1500  # 4500 records: three batches of 2000
    (votes,) = _votes(apply_lfs([lf], _rows(texts), LABELS, workers=1), len(texts))
    assert model.calls == 3
    assert votes[:3] == [0, 1, 2]


def test_model_lf_version_follows_the_model() -> None:
    def featurize(texts: Sequence[str]) -> np.ndarray:
        return np.eye(3)[: len(texts)]

    fit = LogisticRegression().fit(np.eye(3), LABELS)
    same = model_lf(None, fit, name="m", featurize=featurize)
    again = model_lf(None, fit, name="m", featurize=featurize)
    refit = LogisticRegression(C=0.1).fit(np.eye(3), LABELS)
    other = model_lf(None, refit, name="m", featurize=featurize)
    assert same.version == again.version != other.version

    class Unpicklable(CountingModel):
        def __reduce__(self) -> Any:
            raise TypeError("no")

    with pytest.raises(SchemaError, match="pass version="):
        model_lf(None, Unpicklable(), name="u")
    assert model_lf(None, Unpicklable(), name="u", version="1").version


def test_a_model_lf_with_a_bad_shape_names_itself() -> None:
    model = CountingModel()
    model.classes_ = np.array([0, 1])  # two names for three columns
    lf = model_lf(None, model, name="bad", version="1")
    with pytest.raises(LabelingFunctionError, match="'bad'.*shape"):
        apply_lfs([lf], _rows(["heart"]), LABELS, workers=1)


# --------------------------------------------------------------------------- similarity_lf


def test_similarity_lf_votes_the_nearest_example_above_the_threshold() -> None:
    lf = similarity_lf(TRAIN, name="near", threshold=0.5)
    texts = ["heart attack and chest pain of the heart", "a malignant tumour was found", "xyz"]
    (votes,) = _votes(apply_lfs([lf], _rows(texts), LABELS, workers=1), 3)
    assert votes == [0, 1, -1]
    strict = similarity_lf(dict(TRAIN), name="strict", threshold=0.99)
    (votes,) = _votes(apply_lfs([strict], _rows(texts), LABELS, workers=1), 3)
    assert votes == [-1, 1, -1]  # only the exact copy is that similar


def test_similarity_lf_majority_of_k_and_a_custom_embedding() -> None:
    def embed(texts: Sequence[str]) -> np.ndarray:  # [is cardio-ish, is onco-ish]
        return np.array([[t.count("h") + 0.01, t.count("t")] for t in texts], dtype=float)

    examples = [("hhh", "cardio"), ("hht", "onco"), ("hhht", "onco"), ("ttt", "other")]
    one = similarity_lf(examples, name="k1", embed=embed, k=1, threshold=0.9)
    three = similarity_lf(examples, name="k3", embed=embed, k=3, threshold=0.5)
    texts = ["hhhh", "tttt"]
    v1, v3 = _votes(apply_lfs([one, three], _rows(texts), LABELS, workers=1), 2)
    assert v1 == [0, 2]
    assert v3 == [1, 2]  # hhh (cardio), hhht and hht (onco) are the 3 nearest to hhhh


def test_similarity_votes_do_not_depend_on_the_batch() -> None:
    lf = similarity_lf(TRAIN, name="near", threshold=0.3)
    texts = [t + " again" for t, _ in TRAIN] + ["nothing at all"]
    together = lf.batch_fn(texts, LABELS)  # type: ignore[misc]
    alone = [lf.batch_fn([t], LABELS)[0] for t in texts]  # type: ignore[misc]
    assert list(together) == alone and alone[-1] == ABSTAIN


# --------------------------------------------------------------------------- multi-label


def test_multilabel_votes_positive_negative_and_lists() -> None:
    @labeling_function()
    def several(record: LFRecord) -> Any:
        if "both" in record.text:
            return ["cardio", "onco", "onco"]
        if "neither" in record.text:
            return [NOT("cardio"), NOT("onco")]
        return ABSTAIN

    no_heart = keyword_lf("cardio", ["healthy"], negative=True)
    texts = ["both here", "neither here", "healthy heart", "plain"]
    cols = apply_lfs([several, no_heart], _rows(texts), LABELS, workers=1, multilabel=True)
    names = multilabel_names(LABELS)
    assert [(i, names[v]) for i, v in zip(cols[0].ids, cols[0].labels, strict=True)] == [
        (1, "cardio"),
        (1, "onco"),
        (2, names[3]),
        (2, names[4]),
    ]
    assert names[3].endswith("not:cardio") and no_heart.name == "keyword_not_cardio"
    assert list(zip(cols[1].ids, cols[1].labels, strict=True)) == [(3, 3)]


def test_multilabel_mistakes_name_the_lf_and_record() -> None:
    @labeling_function()
    def torn(record: LFRecord) -> Any:
        return ["cardio", NOT("cardio")]

    with pytest.raises(LabelingFunctionError, match="'torn' on record 1: returned both"):
        apply_lfs([torn], _rows(["x"]), LABELS, workers=1, multilabel=True)

    @labeling_function()
    def listing(record: LFRecord) -> Any:
        return ["cardio"]

    with pytest.raises(LabelingFunctionError, match="'listing' on record 1"):
        apply_lfs([listing], _rows(["x"]), LABELS, workers=1)  # single-label: no lists
    with pytest.raises(LabelingFunctionError, match="only a multilabel question"):
        apply_lfs([keyword_lf("onco", ["x"], negative=True)], _rows(["x"]), LABELS, workers=1)


# --------------------------------------------------------------------------- spans

TRICKY = [
    "😀 New York is not new yorker; NEW\tYORK!",
    "🧬🧬 BRCA1 mutation in 𝔘nit ÜNIT-7, ünit",
    "e\u0301te york_town york- york",
    "",
]


def _span_texts(lf: Any, texts: Sequence[str]) -> list[list[str]]:
    (column,) = apply_span_lfs([lf], _rows(texts), ["City", "Gene"])
    found: list[list[str]] = [[] for _ in texts]
    for rid, a, b in zip(column.ids, column.starts, column.ends, strict=True):
        found[rid - 1].append(texts[rid - 1][a:b])
    return found


def test_gazetteer_spans_are_code_point_offsets_of_whole_words() -> None:
    lf = gazetteer_lf("City", ["new york", "york", "ünit"])
    assert _span_texts(lf, TRICKY) == [
        ["New York", "NEW\tYORK"],
        ["ÜNIT", "ünit"],
        ["york", "york"],
        [],
    ]
    exact = gazetteer_lf("City", ["York"], case_sensitive=True)
    assert _span_texts(exact, TRICKY) == [["York"], [], [], []]


def test_span_scan_agrees_with_python_re_on_every_record() -> None:
    lfs = [
        gazetteer_lf("City", ["new york", "york", "ünit", "brca1"]),
        regex_span_lf("Gene", r"\b([A-Z]+\d)\b", flags=0),
        regex_span_lf("Gene", r"(?<=in )\S+"),  # look-behind: RE2 refuses, Python runs it
    ]
    columns = apply_span_lfs(lfs, _rows(TRICKY), ["City", "Gene"])
    for lf, column in zip(lfs, columns, strict=True):
        for i, text in enumerate(TRICKY):
            mine = [
                (a, b)
                for rid, a, b in zip(column.ids, column.starts, column.ends, strict=True)
                if rid == i + 1
            ]
            python = [(a, b) for a, b, _ in lf(LFRecord(i + 1, {"text": text}, {}))]
            assert mine == python, (lf.name, text)
    assert [TRICKY[1][a:b] for a, b in zip(columns[1].starts, columns[1].ends, strict=True)] == [
        "BRCA1"
    ]
    assert TRICKY[1][columns[2].starts[0] : columns[2].ends[0]] == "𝔘nit"


def test_span_lfs_check_their_labels_and_patterns() -> None:
    with pytest.raises(LabelingFunctionError, match="'gazetteer_Drug'.*not one of"):
        apply_span_lfs([gazetteer_lf("Drug", ["x"])], _rows(["x"]), ["City"])
    with pytest.raises(LabelingFunctionError, match="spans question takes span LFs"):
        apply_span_lfs([keyword_lf("City", ["x"])], _rows(["x"]), ["City"])
    with pytest.raises(LabelingFunctionError, match="emits spans"):
        apply_lfs([gazetteer_lf("City", ["x"])], _rows(["x"]), ["City"])
    with pytest.raises(SchemaError, match="bad pattern"):
        regex_span_lf("City", "(unclosed")
    with pytest.raises(SchemaError, match="at least one term"):
        gazetteer_lf("City", [" "])
    assert re.escape  # the module is used for patterns above

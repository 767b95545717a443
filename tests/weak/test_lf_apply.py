"""Labeling functions and the applier: the merged RE2 scan agrees with each LF run alone,
Python LFs agree inline and in a process pool, and failures name the LF and the record."""

from __future__ import annotations

import re

import numpy as np
import pytest

from goldsmith.errors import LabelingFunctionError, RegistryError, SchemaError
from goldsmith.weak import ABSTAIN, LFRecord, collect_lfs, keyword_lf, labeling_function, regex_lf
from goldsmith.weak.apply import apply_lfs, votes_matrix

LABELS = ["neoplasms", "cardiovascular", "general"]
TEXTS = [
    "A malignant tumour of the colon.",
    "Coronary artery disease and arrhythmias in the elderly.",
    "Heart failure; no TUMOUR was seen. p < 0.05",
    "The party was a smash hit",
    "Myocardial infarction 😀 after chemotherapy for lymphoma",
    "Ünterschied: Übelkeit and art therapy",
    "",
]
ROWS = [(i + 1, {"text": t}, {"source": "test"}) for i, t in enumerate(TEXTS)]


def _lfs() -> list:
    @labeling_function()
    def long_text(record: LFRecord) -> str | int:
        return "general" if len(record.text) > 40 else ABSTAIN

    @labeling_function(name="from_metadata")
    def meta(record: LFRecord) -> str | None:
        return "general" if record.metadata.get("source") == "test" and record.id == 4 else None

    return [
        keyword_lf("neoplasms", ["tumour", "lymphoma", "carcinoma"]),
        keyword_lf("cardiovascular", ["coronary", "myocardial", "arrhythm", "heart"]),
        keyword_lf("general", ["Übelkeit"], name="german"),
        keyword_lf("general", ["art"], name="art_word", case_sensitive=True),
        regex_lf("general", r"\bp\s*<\s*0\.0[15]\b", name="p_value"),
        regex_lf("neoplasms", [r"chemo\w+", r"(?<=malignant )tumou?r"], name="lookbehind"),
        long_text,
        meta,
    ]


def _one_by_one(lfs: list, rows: list) -> list[list[int]]:
    return [
        [rid for rid, f, m in rows if lf(LFRecord(rid, f, m)) not in (ABSTAIN, None)] for lf in lfs
    ]


def test_merged_scan_matches_each_lf_alone() -> None:
    lfs = _lfs()
    columns = apply_lfs(lfs, ROWS, LABELS, workers=1)
    assert [list(c.ids) for c in columns] == _one_by_one(lfs, ROWS)
    by_name = {lf.name: list(c.ids) for lf, c in zip(lfs, columns, strict=True)}
    assert by_name["keyword_neoplasms"] == [1, 3, 5]  # case-insensitive: TUMOUR counts
    assert by_name["keyword_cardiovascular"] == [2, 3, 5]  # "arrhythm" starts "arrhythmias"
    assert by_name["art_word"] == [2, 6]  # word starts ("artery", "art"), never "party"/"heart"
    assert by_name["german"] == [6]  # non-ASCII word starts work in RE2 and Python alike
    assert by_name["p_value"] == [3]
    assert by_name["lookbehind"] == [1, 5]  # RE2 cannot look behind: Python re runs that one
    assert by_name["from_metadata"] == [4]
    assert list(columns[0].labels) == [0, 0, 0]


def test_process_pool_gives_the_inline_result() -> None:
    lfs = _lfs()
    rows = [
        (i + 1, {"text": TEXTS[i % len(TEXTS)] + f" #{i}"}, {"source": "x"}) for i in range(6000)
    ]
    inline = apply_lfs(lfs, rows, LABELS, workers=1)
    pooled = apply_lfs(lfs, rows, LABELS, workers=2, total=len(rows))
    assert [(c.ids, c.labels) for c in pooled] == [(c.ids, c.labels) for c in inline]
    assert sum(len(c.ids) for c in inline) > 6000


def test_an_lf_that_raises_names_itself_and_the_record() -> None:
    @labeling_function()
    def fragile(record: LFRecord) -> str:
        if record.id == 3:
            raise ValueError("boom")
        return ABSTAIN

    with pytest.raises(LabelingFunctionError, match=r"'fragile' on record 3: raised ValueError"):
        apply_lfs([fragile], ROWS, LABELS, workers=1)


def test_an_unknown_label_names_the_lf_and_the_record() -> None:
    @labeling_function()
    def typo(record: LFRecord) -> str:
        return "neoplasm"

    with pytest.raises(LabelingFunctionError, match=r"'typo' on record 1: returned 'neoplasm'"):
        apply_lfs([typo], ROWS, LABELS, workers=1)
    with pytest.raises(LabelingFunctionError, match="votes 'oncology'"):
        apply_lfs([keyword_lf("oncology", ["tumour"])], ROWS, LABELS)


def test_decorator_without_parentheses_is_a_helpful_error() -> None:
    with pytest.raises(LabelingFunctionError, match="missing parentheses"):

        @labeling_function  # type: ignore[arg-type]
        def oops(record: LFRecord) -> int:
            return ABSTAIN


def test_versions_follow_definitions() -> None:
    a = keyword_lf("general", ["x", "y"])
    assert a.version == keyword_lf("general", ["x", "y"]).version
    assert a.version != keyword_lf("general", ["x", "z"]).version
    assert regex_lf("general", "a+").version != regex_lf("general", "a+", flags=0).version
    with pytest.raises(SchemaError, match="bad pattern"):
        regex_lf("general", "(unclosed")
    with pytest.raises(SchemaError, match="at least one keyword"):
        keyword_lf("general", [" "])
    with pytest.raises(SchemaError, match="supports IGNORECASE"):
        regex_lf("general", "x", flags=re.VERBOSE)


def test_collect_lfs_refuses_duplicate_names() -> None:
    namespace = {"a": keyword_lf("general", ["x"]), "b": keyword_lf("general", ["y"])}
    with pytest.raises(RegistryError, match="keyword_general"):
        collect_lfs(namespace)


def test_votes_matrix_places_votes_by_record_id() -> None:
    columns = apply_lfs(_lfs(), ROWS, LABELS, workers=1)
    ids = np.array([1, 2, 3, 5, 8], dtype=np.int64)  # record 4, 6 and 7 are not rows here
    L = votes_matrix(ids, [c.arrays() for c in columns])
    assert L.shape == (5, 8)
    dense = L.toarray() - 1
    assert dense[0, 0] == 0 and dense[1, 1] == 1 and dense[3, 0] == 0
    assert dense[4].tolist() == [-1] * 8  # record 8 has no votes
    assert (dense[:, 7] == -1).all()  # from_metadata voted only on record 4


def test_an_lf_error_in_the_process_pool_is_the_same_error() -> None:
    @labeling_function()
    def fragile_in_pool(record: LFRecord) -> str:
        if record.id == 5555:
            raise ValueError("boom")
        return ABSTAIN

    rows = [(i + 1, {"text": "x"}, {}) for i in range(6000)]
    with pytest.raises(LabelingFunctionError, match="'fragile_in_pool' on record 5555") as err:
        apply_lfs([fragile_in_pool], rows, LABELS, workers=2, total=len(rows))
    assert err.value.lf == "fragile_in_pool" and err.value.record == 5555

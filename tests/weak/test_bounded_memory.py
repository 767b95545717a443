"""Applying LFs and writing a fit's output hold bounded state per record, not per object."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from goldsmith.weak import keyword_lf
from goldsmith.weak.apply import Column, apply_lfs
from goldsmith.weak.fit import predict_best
from goldsmith.weak.label_models.label_model import LabelModel

LABELS = ["pos", "neg"]


def test_columns_pack_votes_in_ten_bytes() -> None:
    rows = [(i, {"text": "good" if i % 3 else "bad"}, {}) for i in range(1, 50)]
    lfs = [keyword_lf("pos", ["good"]), keyword_lf("neg", ["bad"])]
    columns = apply_lfs(lfs, rows, LABELS, workers=1)
    for column in columns:
        assert column.ids.itemsize == 8 and column.labels.itemsize == 2  # no Python ints
    ids, labels = columns[1].arrays()
    assert ids.tolist() == list(range(3, 50, 3)) and set(labels.tolist()) == {1}


def test_column_packs_lists_and_sorts_by_id() -> None:
    column = Column(ids=[5, 2, 9, 2], labels=[1, 0, 1, 1])
    column.sort()
    assert list(column.ids) == [2, 2, 5, 9] and list(column.labels) == [0, 1, 1, 1]
    assert Column(ids=np.array([1, 2]), labels=np.array([0, 1])) == Column([1, 2], [0, 1])


class _Recording:
    """A fitted model that notes the largest block of rows it was asked to score."""

    def __init__(self, model: Any) -> None:
        self.model, self.most = model, 0

    def predict_proba(self, L: sp.csr_matrix) -> np.ndarray:
        self.most = max(self.most, L.shape[0])
        return np.asarray(self.model.predict_proba(L))


def test_fit_output_is_predicted_a_chunk_at_a_time() -> None:
    rng = np.random.default_rng(0)
    dense = rng.integers(-1, 3, size=(1000, 4))
    L = sp.csr_matrix(np.where(dense >= 0, dense + 1, 0))  # stored as label + 1
    model = LabelModel(cardinality=3, seed=0).fit(L)
    recording = _Recording(model)
    best, confidence = predict_best(recording, L, chunk=128)
    assert recording.most == 128  # never the whole (n, k) probability matrix
    proba = model.predict_proba(L)
    assert best.tolist() == proba.argmax(axis=1).tolist()
    assert np.allclose(confidence, proba.max(axis=1))

"""The label-matrix contract: dense and sparse forms, validation, vote counts."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from goldsmith.errors import SchemaError
from goldsmith.weak.matrix import (
    as_dense,
    as_sparse,
    check_matrix,
    coverage_mask,
    one_hot,
    vote_counts,
)

L = np.array([[0, -1, 2], [-1, -1, -1], [1, 1, 0], [2, -1, 2]])


def test_round_trip_dense_sparse() -> None:
    S = as_sparse(L, 3)
    assert S.nnz == 7
    assert S.toarray()[0].tolist() == [1, 0, 3]  # label + 1, 0 = abstain
    assert (as_dense(S) == L).all()
    assert (as_dense(sp.csr_array(S)) == L).all()


def test_check_matrix_canonical_form() -> None:
    S = check_matrix(sp.coo_matrix(as_sparse(L, 3)), 3)
    assert isinstance(S, sp.csr_matrix)
    assert S.indices.dtype == np.int32 and S.data.dtype == np.int8
    # explicit zeros are abstains and are dropped
    E = sp.csr_matrix((np.array([0, 2]), np.array([0, 1]), np.array([0, 2])), shape=(1, 2))
    assert check_matrix(E, 2).nnz == 1


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.array([[0, 3]]), "outside -1..2.*record 0, LF 1"),
        (np.array([[0, -2]]), "outside -1..2"),
        (np.array([0, 1]), "2-D"),
        (np.array([[0.0, 1.0]]), "integers"),
        (sp.csr_matrix(np.array([[0, 4]])), "outside 0..3"),
        (sp.csr_matrix(np.array([[0, -1]])), "outside 0..3"),
    ],
)
def test_bad_matrix_raises_schema_error(bad: object, match: str) -> None:
    with pytest.raises(SchemaError, match=match):
        check_matrix(bad, 3)


def test_bad_cardinality() -> None:
    with pytest.raises(SchemaError, match="at least 2"):
        check_matrix(L, 1)


def test_vote_counts_and_one_hot() -> None:
    counts = vote_counts(L, 3)
    assert counts.tolist() == [[1, 0, 1], [0, 0, 0], [1, 2, 0], [0, 0, 2]]
    weighted = vote_counts(as_sparse(L, 3), 3, weights=[2.0, 1.0, 0.5])
    assert weighted[2].tolist() == [0.5, 3.0, 0.0]
    X = one_hot(L, 3)
    assert X.shape == (4, 9)
    assert X[0].indices.tolist() == [0, 8]  # LF 0 voted 0 -> col 0; LF 2 voted 2 -> col 8
    assert coverage_mask(L, 3).tolist() == [True, False, True, True]

"""The label model's opinion of synthetic texts, for the label-consistency filter.

The project's LFs (the same file ``lf apply`` ran) are applied in memory to the synthetic
texts; the label model is fitted on the stored votes of those LFs over the project's
records. A synthetic example whose intended label the label model confidently contradicts is
then rejected, like one the in-the-loop classifier contradicts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from goldsmith.errors import SchemaError
from goldsmith.schema import Task
from goldsmith.store import Store
from goldsmith.weak.apply import RecordRow, apply_lfs, votes_matrix
from goldsmith.weak.label_models import LabelModel
from goldsmith.weak.lf import LF
from goldsmith.weak.run import load_label_matrix


def label_model_proba(
    store: Store,
    task: Task,
    lfs: Sequence[LF],
    texts: Sequence[str],
    *,
    field: str,
    seed: int = 0,
) -> npt.NDArray[np.float64]:
    """``(len(texts), k)`` label-model probabilities of ``texts`` under the stored LFs.

    Raises
    ------
    SchemaError
        When an LF of ``lfs`` has no stored votes (run ``goldsmith lf apply`` first).
    """
    data = load_label_matrix(store, task)
    by_name = {lf.name: lf for lf in lfs}
    missing = [name for name in data.lfs if name not in by_name]
    if not data.lfs or missing:
        raise SchemaError(
            "the label-model check needs the LFs that `goldsmith lf apply` stored; "
            + (f"not in the file: {missing}" if missing else "none applied yet")
        )
    model = LabelModel(len(data.labels), seed=seed).fit(data.L)
    rows: list[RecordRow] = [(i, {field: t}, {}) for i, t in enumerate(texts)]
    columns = apply_lfs([by_name[n] for n in data.lfs], rows, data.labels, workers=1)
    ids = np.arange(len(texts), dtype=np.int64)
    L = votes_matrix(
        ids,
        [(np.asarray(c.ids, np.int64), np.asarray(c.labels, np.int16)) for c in columns],
    )
    proba = model.predict_proba(L)
    # no vote: no opinion (uniform), rather than the class balance
    proba[np.diff(L.indptr) == 0] = 1.0 / len(data.labels)
    return proba

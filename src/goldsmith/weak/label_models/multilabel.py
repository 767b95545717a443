"""Multi-label tasks: one binary label model per label.

Multi-label LFs vote per label: for label ``c`` they emit ``1`` (present), ``0`` (absent) or
``-1`` (abstain), which gives one binary label matrix per label. Each is fitted on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from goldsmith.errors import SchemaError
from goldsmith.weak.label_models._base import BaseLabelModel, FloatArray, IntArray
from goldsmith.weak.label_models.label_model import default_label_model
from goldsmith.weak.matrix import LabelMatrix


class MultiLabelModel:
    """One binary model per label; ``predict_proba`` gives ``P(label present)``.

    Parameters
    ----------
    n_labels
        Number of labels.
    base
        Builds the binary model of each label from ``(2, seed)``; :class:`LabelModel` by
        default.
    seed
        Seed passed to every binary model.

    Attributes
    ----------
    models_ : list of fitted binary models, one per label.

    Examples
    --------
    >>> import numpy as np
    >>> Ls = [np.array([[1, 1], [0, -1], [1, -1]] * 20), np.array([[0, 0], [1, 1], [-1, 0]] * 20)]
    >>> MultiLabelModel(2).fit(Ls).predict(Ls)[:3].tolist()
    [[1, 0], [0, 1], [1, 0]]
    """

    models_: list[BaseLabelModel]

    def __init__(
        self,
        n_labels: int,
        *,
        base: Callable[[int, int], BaseLabelModel] = default_label_model,
        seed: int = 0,
    ) -> None:
        if n_labels < 1:
            raise SchemaError(f"n_labels must be at least 1, got {n_labels}")
        self.n_labels = n_labels
        self.base = base
        self.seed = seed

    def _check(self, Ls: Sequence[LabelMatrix], what: str = "Ls") -> None:
        if len(Ls) != self.n_labels:
            raise SchemaError(f"{what} has {len(Ls)} label matrices for {self.n_labels} labels")

    def fit(
        self,
        Ls: Sequence[LabelMatrix],
        *,
        L_dev: Sequence[LabelMatrix] | None = None,
        Y_dev: npt.ArrayLike | None = None,
    ) -> MultiLabelModel:
        """Fit one binary model per label; ``Y_dev`` is ``(n_dev, n_labels)`` of 0/1/-1."""
        self._check(Ls)
        Y = None if Y_dev is None else np.asarray(Y_dev)
        if Y is not None and (Y.ndim != 2 or Y.shape[1] != self.n_labels):
            raise SchemaError(f"Y_dev must have shape (n_dev, {self.n_labels})")
        if L_dev is not None:
            self._check(L_dev, "L_dev")
        self.models_ = []
        for c, L in enumerate(Ls):
            model = self.base(2, self.seed)
            model.fit(  # type: ignore[attr-defined]
                L,
                L_dev=None if L_dev is None else L_dev[c],
                Y_dev=None if Y is None else Y[:, c],
            )
            self.models_.append(model)
        return self

    def predict_proba(self, Ls: Sequence[LabelMatrix]) -> FloatArray:
        """``(n, n_labels)`` probabilities that each label applies."""
        if not hasattr(self, "models_"):
            raise SchemaError("MultiLabelModel is not fitted yet: call fit(Ls) first")
        self._check(Ls)
        cols = [model.predict_proba(L)[:, 1] for model, L in zip(self.models_, Ls, strict=True)]
        return np.column_stack(cols)

    def predict(self, Ls: Sequence[LabelMatrix], *, threshold: float = 0.5) -> IntArray:
        """``(n, n_labels)`` 0/1 indicators: 1 where ``P(label) > threshold``."""
        return (self.predict_proba(Ls) > threshold).astype(np.int64)

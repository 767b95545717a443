"""When to stop labeling: stabilising predictions (Bloodgood & Vijay-Shanker 2009).

Keep a fixed *stop set* of unlabeled records. After each retraining, predict it and compare
with the previous model's predictions by Cohen's kappa. Once successive models agree (kappa
at least ``threshold``, 0.99 by default) for ``window`` checks in a row, more labels barely
change the model: stop.

>>> rule = StabilizingPredictions(threshold=0.99, window=2)
>>> [rule.update(p) for p in ([0, 1, 1, 0], [0, 1, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0])]
[False, False, False, True]
>>> rule.summary()["kappas"]
[0.5, 1.0, 1.0]
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from goldsmith.errors import SchemaError

__all__ = ["StabilizingPredictions", "cohen_kappa", "stop_set"]


def cohen_kappa(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Cohen's kappa between two label vectors (or the mean over columns of 0/1 matrices).

    Two identical constant vectors agree perfectly (1.0) although kappa is 0/0 there.

    >>> cohen_kappa([0, 1, 2, 2], [0, 1, 2, 1])
    0.6363636363636364
    """
    x, y = np.asarray(a), np.asarray(b)
    if x.shape != y.shape:
        raise SchemaError(f"predictions to compare differ in shape: {x.shape} vs {y.shape}")
    if x.ndim == 2:  # multi-label indicator: one kappa per label
        return float(np.mean([cohen_kappa(x[:, j], y[:, j]) for j in range(x.shape[1])]))
    if x.size == 0:
        raise SchemaError("cannot compare empty predictions; the stop set has no records")
    classes, codes = np.unique(np.concatenate([x.ravel(), y.ravel()]), return_inverse=True)
    k = classes.size
    counts = np.bincount(codes[: x.size] * k + codes[x.size :], minlength=k * k)
    table = counts.reshape(k, k) / x.size
    observed = float(np.trace(table))
    expected = float(table.sum(axis=1) @ table.sum(axis=0))
    if expected >= 1.0:
        return 1.0 if observed >= 1.0 else 0.0
    return (observed - expected) / (1.0 - expected)


def stop_set(
    n_rows: int,
    *,
    size: int = 2000,
    labeled: npt.ArrayLike | None = None,
    rng: np.random.Generator | int | None = None,
) -> npt.NDArray[np.intp]:
    """A fixed random sample of ``size`` unlabeled rows (fewer if fewer exist), sorted."""
    free = np.ones(n_rows, dtype=bool)
    if labeled is not None:
        lab = np.asarray(labeled)
        free[lab if lab.dtype == np.bool_ else lab.astype(np.intp)] = False
    idx = np.flatnonzero(free)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return np.sort(gen.choice(idx, size=min(size, idx.size), replace=False)).astype(np.intp)


class StabilizingPredictions:
    """Stop when successive models' predictions on a fixed stop set stop changing.

    Parameters
    ----------
    threshold : float
        Kappa between two successive models that counts as agreement.
    window : int
        Agreeing checks needed: in a row (``rule="consecutive"``), or the mean of the last
        ``window`` kappas (``rule="mean"``, the paper's rule with ``window=3``).
    rule : {"consecutive", "mean"}
        How the last ``window`` kappas are combined.

    Attributes
    ----------
    kappas_ : list of float
        Kappa of each check against the previous one.
    stopped_ : bool
        Whether the rule has fired (it stays fired).
    """

    def __init__(
        self,
        *,
        threshold: float = 0.99,
        window: int = 3,
        rule: Literal["consecutive", "mean"] = "consecutive",
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise SchemaError(f"threshold must be in (0, 1], got {threshold}")
        if window < 1:
            raise SchemaError(f"window must be at least 1, got {window}")
        if rule not in ("consecutive", "mean"):
            raise SchemaError(f"rule must be 'consecutive' or 'mean', got {rule!r}")
        self.threshold = threshold
        self.window = window
        self.rule = rule
        self.kappas_: list[float] = []
        self.stopped_ = False
        self._last: npt.NDArray[Any] | None = None

    def update(self, predictions: npt.ArrayLike) -> bool:
        """Record the new model's predictions on the stop set; True once it is time to stop.

        Parameters
        ----------
        predictions : array-like
            Class indices of the stop-set records (or a 0/1 matrix for multi-label), in the
            same record order at every call.
        """
        pred = np.array(predictions)
        if self._last is not None:
            self.kappas_.append(cohen_kappa(self._last, pred))
        self._last = pred
        last = self.kappas_[-self.window :]
        if len(last) == self.window:
            if self.rule == "consecutive":
                fired = min(last) >= self.threshold
            else:
                fired = float(np.mean(last)) >= self.threshold
            self.stopped_ = self.stopped_ or fired
        return self.stopped_

    @property
    def streak(self) -> int:
        """Checks in a row, up to now, whose kappa reached the threshold."""
        n = 0
        for kappa in reversed(self.kappas_):
            if kappa < self.threshold:
                break
            n += 1
        return n

    def summary(self) -> dict[str, Any]:
        """A JSON-able summary for ``goldsmith status``."""
        return {
            "rule": f"stabilising predictions ({self.rule}, kappa >= {self.threshold}, "
            f"window {self.window})",
            "checks": len(self.kappas_) + (self._last is not None),
            "kappas": [round(k, 6) for k in self.kappas_],
            "last_kappa": self.kappas_[-1] if self.kappas_ else None,
            "streak": self.streak,
            "stop": self.stopped_,
            "stop_set_size": None if self._last is None else int(len(self._last)),
        }

    def to_dict(self) -> dict[str, Any]:
        """The full state (settings, kappas, last predictions) as JSON-able values."""
        return {
            "threshold": self.threshold,
            "window": self.window,
            "rule": self.rule,
            "kappas": list(self.kappas_),
            "stopped": self.stopped_,
            "last": None if self._last is None else self._last.tolist(),
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> StabilizingPredictions:
        """Rebuild a rule saved with :meth:`to_dict` (e.g. between CLI runs)."""
        rule = cls(threshold=state["threshold"], window=state["window"], rule=state["rule"])
        rule.kappas_ = [float(k) for k in state["kappas"]]
        rule.stopped_ = bool(state["stopped"])
        rule._last = None if state["last"] is None else np.array(state["last"])
        return rule

"""A two-class Dawid-Skene fit with one sensitivity and one false-positive rate per annotator,
shared over many binary decisions (every label of a multi-label question, every candidate
span): far more evidence per parameter than a model per label.

``marks[d, j]`` is 1 when annotator ``j`` said yes to decision ``d``, 0 when they saw it and
said no, -1 when they did not see it. ``fixed[d]`` is the known answer (gold), or -1.
``weights[d]`` counts identical decisions as one row (the many places on a text where nobody
marked a span, say). Returns ``P(yes)`` per decision and each annotator's ``(sensitivity,
false-positive rate)``.

>>> import numpy as np
>>> marks = np.array([[1, 1, 0], [1, 1, 1], [0, 0, 1], [0, 0, 0], [1, 1, -1]])
>>> p, sens, fpr = binary_em(marks)
>>> (p > 0.5).tolist()
[True, True, False, False, True]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
CLIP = (1e-3, 1 - 1e-3)


def binary_em(
    marks: npt.NDArray[np.int64],
    *,
    fixed: npt.NDArray[np.int64] | None = None,
    groups: npt.NDArray[np.int64] | None = None,
    weights: FloatArray | None = None,
    max_iter: int = 100,
    tol: float = 1e-7,
    clip: tuple[float, float] = CLIP,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """See the module docstring; ``groups[d]`` gives each decision a prior of its own group
    (a label's base rate), one shared prior when None."""
    seen = marks >= 0
    yes = (marks == 1).astype(np.float64)
    no = (marks == 0).astype(np.float64)
    w = np.ones(marks.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    n_seen = np.maximum(seen.sum(axis=1), 1)
    p = yes.sum(axis=1) / n_seen  # start from the vote share
    known = fixed if fixed is not None else np.full(marks.shape[0], -1)
    g = groups if groups is not None else np.zeros(marks.shape[0], dtype=np.int64)
    n_groups = int(g.max()) + 1 if g.size else 1
    p = np.where(known >= 0, known, p)
    sens = fpr = np.zeros(marks.shape[1])
    for _ in range(max_iter):
        wp, wq = (w * p)[:, None], (w * (1 - p))[:, None]
        sens = np.clip((wp * yes).sum(0) / np.maximum((wp * seen).sum(0), 1e-12), *clip)
        fpr = np.clip((wq * yes).sum(0) / np.maximum((wq * seen).sum(0), 1e-12), *clip)
        prior = np.clip(
            np.bincount(g, weights=w * p, minlength=n_groups)
            / np.maximum(np.bincount(g, weights=w, minlength=n_groups), 1e-12),
            *clip,
        )
        logit = np.log(prior[g] / (1 - prior[g]))
        logit = logit + yes @ np.log(sens / fpr) + no @ np.log((1 - sens) / (1 - fpr))
        new = 1.0 / (1.0 + np.exp(-logit))
        new = np.where(known >= 0, known, new)
        done = np.abs(new - p).max(initial=0.0) < tol
        p = new
        if done:
            break
    return p, sens, fpr

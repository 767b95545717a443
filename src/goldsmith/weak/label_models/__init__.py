"""Label models: turn a label matrix ``L`` into class probabilities ``P`` (n x k).

Every model follows scikit-learn conventions: parameters in ``__init__``, ``fit(L)``
returns ``self``, learned attributes end with ``_``, and ``predict_proba(L)`` /
``predict(L, tie_break=...)`` take dense or sparse label matrices. See
:mod:`goldsmith.weak.label_models._base` for the tie and no-vote policy they share.
"""

from goldsmith.weak.label_models.dawid_skene import DawidSkene
from goldsmith.weak.label_models.label_model import LabelModel
from goldsmith.weak.label_models.majority import MajorityVote

__all__ = ["DawidSkene", "LabelModel", "MajorityVote"]

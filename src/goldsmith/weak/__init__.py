"""Weak supervision: labeling functions, the applier, diagnostics and label models.

>>> from goldsmith.weak import labeling_function, keyword_lf, regex_lf, ABSTAIN
"""

from goldsmith.weak.label_models import DawidSkene, LabelModel, MajorityVote
from goldsmith.weak.label_models.multilabel import MultiLabelModel
from goldsmith.weak.label_models.select import CANDIDATES, Selection, make_model, select_model
from goldsmith.weak.label_models.spans import SpanLabelModel, span_f1, spans_to_token_matrix
from goldsmith.weak.lf import (
    ABSTAIN,
    LF,
    LFKind,
    LFRecord,
    collect_lfs,
    keyword_lf,
    labeling_function,
    regex_lf,
)
from goldsmith.weak.matrix import as_dense, as_sparse, check_matrix, one_hot, vote_counts

__all__ = [
    "ABSTAIN",
    "CANDIDATES",
    "LF",
    "DawidSkene",
    "LFKind",
    "LFRecord",
    "LabelModel",
    "MajorityVote",
    "MultiLabelModel",
    "Selection",
    "SpanLabelModel",
    "as_dense",
    "as_sparse",
    "check_matrix",
    "collect_lfs",
    "keyword_lf",
    "labeling_function",
    "make_model",
    "one_hot",
    "regex_lf",
    "select_model",
    "span_f1",
    "spans_to_token_matrix",
    "vote_counts",
]

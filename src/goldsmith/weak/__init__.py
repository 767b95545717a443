"""Weak supervision: labeling functions, the applier, diagnostics and label models.

>>> from goldsmith.weak import labeling_function, keyword_lf, regex_lf, ABSTAIN
>>> from goldsmith.weak import NOT, model_lf, similarity_lf, regex_span_lf, gazetteer_lf
"""

from goldsmith.weak.label_models import DawidSkene, LabelModel, MajorityVote
from goldsmith.weak.label_models.multilabel import MultiLabelModel
from goldsmith.weak.label_models.select import CANDIDATES, Selection, make_model, select_model
from goldsmith.weak.label_models.spans import SpanLabelModel, span_f1, spans_to_token_matrix
from goldsmith.weak.lf import (
    ABSTAIN,
    LF,
    NOT,
    LFKind,
    LFRecord,
    collect_lfs,
    keyword_lf,
    labeling_function,
    regex_lf,
)
from goldsmith.weak.matrix import as_dense, as_sparse, check_matrix, one_hot, vote_counts
from goldsmith.weak.model_lfs import model_lf, similarity_lf
from goldsmith.weak.span_lfs import gazetteer_lf, regex_span_lf

__all__ = [
    "ABSTAIN",
    "CANDIDATES",
    "LF",
    "DawidSkene",
    "LFKind",
    "NOT",
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
    "gazetteer_lf",
    "keyword_lf",
    "labeling_function",
    "make_model",
    "model_lf",
    "one_hot",
    "regex_lf",
    "regex_span_lf",
    "select_model",
    "similarity_lf",
    "span_f1",
    "spans_to_token_matrix",
    "vote_counts",
]

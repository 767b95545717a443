"""Weak supervision: labeling functions, the applier, diagnostics and label models.

>>> from goldsmith.weak import labeling_function, keyword_lf, regex_lf, ABSTAIN
"""

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

__all__ = [
    "ABSTAIN",
    "LF",
    "LFKind",
    "LFRecord",
    "collect_lfs",
    "keyword_lf",
    "labeling_function",
    "regex_lf",
]

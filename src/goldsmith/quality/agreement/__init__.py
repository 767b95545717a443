"""Inter-annotator agreement with item-bootstrap confidence intervals.

Arrays in, numbers out: a reliability matrix ``R`` (n_annotators, n_items) of floats with
``nan`` for a missing rating, as the ``krippendorff`` package takes it. ``nan`` is the only
gap marker: an integer matrix is complete, and -1 in it is a value (convert a label matrix
with ``np.where(L < 0, np.nan, L)``). Build ``R`` from ``(item_id, annotator, value)``
triples with :func:`reliability_matrix`, or ask for the whole JSON-ready report with
:func:`agreement_report`.

Modules: :mod:`.alpha` (Krippendorff's alpha), :mod:`.kappa` (Cohen, Fleiss, observed and
per-category agreement), :mod:`.similarity` (spans, text, rankings, label sets),
:mod:`.matrix` (triples to arrays), :mod:`.bootstrap` (item bootstrap), :mod:`.report`.

>>> from goldsmith.quality.agreement import krippendorff_alpha, reliability_matrix
>>> rel = reliability_matrix([(1, "ann", "pos"), (1, "bob", "pos"),
...                           (2, "ann", "neg"), (2, "bob", "pos"),
...                           (3, "ann", "neg"), (3, "bob", "neg")])
>>> round(krippendorff_alpha(rel.matrix), 3)
0.444
"""

from goldsmith.quality.agreement._arrays import category_counts
from goldsmith.quality.agreement.alpha import (
    LEVELS,
    Level,
    alpha_problem,
    alpha_statistic,
    krippendorff_alpha,
)
from goldsmith.quality.agreement.bootstrap import (
    Estimate,
    ItemStatistic,
    bootstrap,
    estimate,
    percentile_ci,
)
from goldsmith.quality.agreement.kappa import (
    agreement_statistic,
    category_statistics,
    cohen_kappa,
    cohen_statistic,
    fleiss_kappa,
    fleiss_statistic,
    percent_agreement,
)
from goldsmith.quality.agreement.matrix import (
    KINDS,
    Reliability,
    ValueTable,
    check_labels,
    jaccard_distances,
    label_indicators,
    reliability_matrix,
    value_table,
)
from goldsmith.quality.agreement.report import METRIC_TITLES, agreement_report
from goldsmith.quality.agreement.similarity import (
    jaccard_agreement,
    jaccard_score,
    preference_agreement,
    ranking_score,
    span_f1,
    span_score,
    text_agreement,
    text_score,
    token_f1,
)

__all__ = [
    "KINDS",
    "LEVELS",
    "METRIC_TITLES",
    "Estimate",
    "ItemStatistic",
    "Level",
    "Reliability",
    "ValueTable",
    "agreement_report",
    "agreement_statistic",
    "alpha_problem",
    "alpha_statistic",
    "bootstrap",
    "category_counts",
    "category_statistics",
    "check_labels",
    "cohen_kappa",
    "cohen_statistic",
    "estimate",
    "fleiss_kappa",
    "fleiss_statistic",
    "jaccard_agreement",
    "jaccard_distances",
    "jaccard_score",
    "krippendorff_alpha",
    "label_indicators",
    "percent_agreement",
    "percentile_ci",
    "preference_agreement",
    "ranking_score",
    "reliability_matrix",
    "span_f1",
    "span_score",
    "text_agreement",
    "text_score",
    "token_f1",
    "value_table",
]

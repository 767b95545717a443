"""Consensus and annotator scores for every kind of question.

A question kind says how its answers compare (``QuestionKind.agreement``: ``nominal``,
``sets``, ``spans``, ``text``, ``interval``, ``ranking``); :func:`rule_for` returns the
:class:`~goldsmith.quality.by_kind.base.KindRule` that knows, for that comparison, how to
merge several annotators' answers into one (:meth:`KindRule.consensus`) and how close an
answer is to a reference (:meth:`KindRule.score`, in [0, 1]).

* ``nominal`` (single label): Dawid-Skene or majority (:mod:`.labels`);
* ``sets`` (multi-label): per-label Dawid-Skene (:mod:`.sets`);
* ``spans``: overlap-matched span voting weighted by each annotator's estimated reliability
  (:mod:`.spans`);
* ``text``: the most central answer by token similarity, or an LLM judge (:mod:`.text`);
* ``interval`` (rating): the median, with mean and dispersion (:mod:`.ratings`);
* ``ranking`` (preference): Bradley-Terry over the pairs the rankings imply (:mod:`.rankings`).

A consensus value is one that some annotator gave, or it says ``model_proposed`` (a set, a
span set or an order that nobody gave as a whole): such a value is never accepted by one key.
:func:`~goldsmith.quality.by_kind.scores.annotator_scores` turns a rule into each annotator's
gold score (with an interval) and skill estimate, or "not enough data" with the reason.
"""

from goldsmith.quality.by_kind.base import Answers, Consensus, KindRule
from goldsmith.quality.by_kind.rules import RULES, rule_for

__all__ = ["RULES", "Answers", "Consensus", "KindRule", "rule_for"]

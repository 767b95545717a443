"""Which rule each kind of question uses (see :mod:`goldsmith.quality.by_kind`)."""

from __future__ import annotations

from typing import Any

from goldsmith.errors import SchemaError
from goldsmith.quality.by_kind.base import KindRule
from goldsmith.quality.by_kind.labels import LabelRule
from goldsmith.quality.by_kind.rankings import RankingRule
from goldsmith.quality.by_kind.ratings import RatingRule
from goldsmith.quality.by_kind.sets import SetRule
from goldsmith.quality.by_kind.spans import SpanRule
from goldsmith.quality.by_kind.text import TextRule

RULES: dict[str, type[KindRule]] = {
    "nominal": LabelRule,
    "sets": SetRule,
    "spans": SpanRule,
    "text": TextRule,
    "interval": RatingRule,
    "ranking": RankingRule,
}
"""The rule of each way answers compare (``QuestionKind.agreement``)."""


def rule_for(question: Any, **options: Any) -> KindRule:
    """The consensus-and-score rule of ``question`` (any question kind)."""
    rule = RULES.get(getattr(question, "agreement", ""))
    if rule is None:
        name = getattr(question, "name", question)
        raise SchemaError(f"question {name!r} has no consensus rule")
    return rule(question, **options)

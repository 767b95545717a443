"""Synthetic examples that earn their place: rules, LLM rewrites, filters and an honest
with/without evaluation. Nothing here writes to a store; the project stores what comes back
with provenance ``synthetic``. See ``docs/augment.md``.
"""

from goldsmith.augment.evaluate import AugmentEvalRow, evaluate_augmentation
from goldsmith.augment.filters import FilterReport, filter_synthetic
from goldsmith.augment.llm import (
    AugmentRun,
    build_augment_request,
    counterfactual,
    evol_instruct,
    paraphrase,
    self_instruct,
)
from goldsmith.augment.rules import DEFAULT_TEMPLATES, entity_swap, template_augment
from goldsmith.augment.synthetic import Synthetic

__all__ = [
    "DEFAULT_TEMPLATES",
    "AugmentEvalRow",
    "AugmentRun",
    "FilterReport",
    "Synthetic",
    "build_augment_request",
    "counterfactual",
    "entity_swap",
    "evaluate_augmentation",
    "evol_instruct",
    "filter_synthetic",
    "paraphrase",
    "self_instruct",
    "template_augment",
]

"""Near-duplicate detection: MinHash LSH with exact verification, groups and leakage.

``near_duplicate_groups(texts)`` groups texts whose character 5-gram sets have Jaccard
similarity at or above a threshold; ``assign_near_dup_groups(store)`` writes those groups
to ``records.dup_group`` (which group-aware splits keep together); ``leakage_report``
counts near duplicates that straddle splits.
"""

from goldsmith.dedup.groups import NearDupResult, components, exact_jaccard, near_duplicate_groups
from goldsmith.dedup.leakage import leakage_report
from goldsmith.dedup.shingles import Shingles, normalise, shingle
from goldsmith.dedup.store import StoreDedupResult, assign_near_dup_groups, record_text

__all__ = [
    "NearDupResult",
    "Shingles",
    "StoreDedupResult",
    "assign_near_dup_groups",
    "components",
    "exact_jaccard",
    "leakage_report",
    "near_duplicate_groups",
    "normalise",
    "record_text",
    "shingle",
]

"""Disagreeing labels of one record imported as gold: count them, resolve them or refuse.

A record from a multi-annotator file (Label Studio, Argilla, Prodigy) can carry several
submitted answers to one question. Stored as responses, each one is kept; stored as gold,
the record keeps a single final value, so answers that disagree are a conflict. The policy
(:class:`~goldsmith.ingest.options.OnConflict`) picks the value or refuses the import:

>>> votes = GoldVotes(OnConflict.MAJORITY, "f.json")
>>> votes.resolve("line 3", "label", ["a", "b", "b"])
'b'
>>> (votes.n_conflicts, votes.n_lost)
(1, 1)
"""

from __future__ import annotations

import json
from typing import Any

from goldsmith.errors import InputError
from goldsmith.ingest.options import OnConflict

EXAMPLES = 3  # conflicts named in a refusal


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _short(value: Any) -> str:
    text = _key(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class GoldVotes:
    """Resolve each record's gold answers per question under ``policy``.

    Parameters
    ----------
    policy:
        ``first``, ``majority`` or ``error`` (collect, then :meth:`check` refuses).
    file:
        Named in the refusal.
    """

    def __init__(self, policy: OnConflict, file: str) -> None:
        self.policy = policy
        self.file = file
        self.n_conflicts = 0  # (record, question) pairs whose answers disagreed
        self.n_lost = 0  # answers that were not stored because another one won
        self.examples: list[str] = []

    def resolve(self, where: str, question: str, values: list[Any]) -> Any:
        """The value to store for one record's ``question`` from its answers in file order.

        ``where`` names the record in a refusal (its line, and its id when it has one).
        """
        if len(values) == 1:
            return values[0]
        counts: dict[str, int] = {}
        first: dict[str, Any] = {}
        for value in values:
            key = _key(value)
            counts[key] = counts.get(key, 0) + 1
            first.setdefault(key, value)
        if len(counts) == 1:  # several annotators, one answer: no conflict
            return values[0]
        self.n_conflicts += 1
        if len(self.examples) < EXAMPLES:
            shown = " vs ".join(_short(v) for v in first.values())
            self.examples.append(f"{where}, question {question!r}: {shown}")
        if self.policy == OnConflict.MAJORITY:
            best = max(counts.values())
            key = next(k for k in first if counts[k] == best)  # a tie: the first of them
        else:
            key = next(iter(first))
        self.n_lost += len(values) - counts[key]
        return first[key]

    def check(self) -> None:
        """Refuse the import when there were conflicts and the policy is ``error``."""
        if self.policy != OnConflict.ERROR or not self.n_conflicts:
            return
        more = self.n_conflicts - len(self.examples)
        named = "; ".join(self.examples) + (f"; and {more} more" if more > 0 else "")
        raise InputError(
            f"{self.n_conflicts} record(s) have disagreeing answers to one question ({named}). "
            "Imported as gold a record keeps one value: pass --on-conflict first or "
            "--on-conflict majority to pick it, or --labels-as response to keep every "
            "annotator's answer; nothing was imported",
            file=self.file,
        )

    def summary(self) -> str | None:
        """A one-line note for the import report, or None when nothing disagreed."""
        if not self.n_conflicts:
            return None
        return (
            f"{self.n_conflicts} record(s) had disagreeing gold answers, resolved by "
            f"--on-conflict {self.policy.value}: {self.n_lost} answer(s) not stored"
        )

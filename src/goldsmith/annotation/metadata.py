"""Which of a record's metadata the annotation and review pages show, and to whom.

Metadata is whatever an import kept besides the fields: columns such as ``channel`` or
``note``. ``[task.settings] show_metadata = ["channel", ...]`` names the keys shown under the
record, in that order.

* Owners and reviewers see every key when ``show_metadata`` is not set.
* Annotators see only the keys ``show_metadata`` names: nothing by default. They must never be
  able to tell gold or honeypot records apart, and metadata often does (gold imported from
  its own file with its own columns, a ``source = "gold.csv"`` column). The owner names the
  keys that are the same kind of thing on every record. Even then some keys are always left
  out for annotators:

  * the keys goldsmith's own exports write (``id``, ``external_id``, ``record_id``,
    ``provenance``, ``confidence``, ``prodigy_dataset``, ``metadata``): an export imported
    again as plain data keeps them, and ``provenance = "gold"`` would say it all;
  * a key named like a question (an exported answer column kept as metadata is the answer);
  * any key whose name mentions gold or honeypot, or starts with ``_``.

  Keys are left out by name, never by value, so that every record shows the same keys: a
  value hidden only on gold records would itself tell them apart.

>>> shown = MetadataView.for_annotators(("channel", "provenance", "label"), ("label",))
>>> shown({"channel": "email", "provenance": "gold", "label": "cancel", "note": "x"})
{'channel': 'email'}
>>> MetadataView.for_annotators(None, ("label",))({"note": "x"})
{}
>>> MetadataView()({"note": "x", "provenance": "gold"})  # owners and reviewers: all of it
{'note': 'x', 'provenance': 'gold'}
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

EXPORT_KEYS = frozenset(
    {
        "id",
        "external_id",
        "record_id",
        "provenance",
        "confidence",
        "prodigy_dataset",
        "metadata",
    }
)
"""Keys goldsmith's own exports write next to the fields (tabular columns, Label Studio and
Prodigy ``meta``): never shown to annotators."""
_TELLING = re.compile(r"gold|honeypot", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class MetadataView:
    """The metadata one caller sees: ``keys`` (None: all, in stored order) minus ``hidden``
    names and, when ``strict``, minus any name that mentions gold or starts with ``_``."""

    keys: tuple[str, ...] | None = None
    hidden: frozenset[str] = frozenset()
    strict: bool = False

    @classmethod
    def for_annotators(
        cls, keys: Sequence[str] | None, question_names: Sequence[str]
    ) -> MetadataView:
        """What annotators see: the ``keys`` ``show_metadata`` names (None: no key) without
        any telling key."""
        hidden = EXPORT_KEYS | frozenset(question_names)
        return cls(tuple(keys or ()), hidden, strict=True)

    def allows(self, key: str) -> bool:
        if key in self.hidden:
            return False
        return not (self.strict and (key.startswith("_") or _TELLING.search(key)))

    def __call__(self, metadata: Mapping[str, Any]) -> dict[str, Any]:
        names = metadata.keys() if self.keys is None else self.keys
        return {k: metadata[k] for k in names if k in metadata and self.allows(k)}

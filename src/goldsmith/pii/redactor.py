"""The :class:`Redactor`: detection + redaction behind one object, usable as the ``Redact``
hook of the LLM prompt builder, and a :meth:`Redactor.scan` report over many texts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from goldsmith.pii.detect import detect, parse_kinds
from goldsmith.pii.kinds import PiiKind
from goldsmith.pii.redact import Mode, Redacted, redact, salt_bytes

CONTEXT_CHARS = 30


@dataclass(frozen=True)
class ScanReport:
    """What :meth:`Redactor.scan` found.

    Attributes
    ----------
    n_texts
        Texts scanned.
    n_with_pii
        Texts with at least one finding.
    counts
        Findings per kind.
    examples
        Per kind, up to ``max_examples`` snippets around a finding, masked (``[EMAIL_1]``):
        the report never contains the PII itself.
    """

    n_texts: int
    n_with_pii: int
    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def to_text(self) -> str:
        """A short plain-text summary, one line per kind."""
        lines = [f"{self.n_with_pii} of {self.n_texts} texts contain PII"]
        for kind, n in sorted(self.counts.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {kind}: {n}")
            lines.extend(f"    … {ex} …" for ex in self.examples.get(kind, []))
        return "\n".join(lines)


class Redactor:
    """Detect and replace PII in text.

    Parameters
    ----------
    mode
        ``"mask"``, ``"hash"`` or ``"fake"`` (see :func:`~goldsmith.pii.redact.redact`).
    kinds
        Kinds to redact (names or :class:`PiiKind`); ``None`` for all.
    salt
        Secret key, required for ``hash`` and ``fake``.

    Examples
    --------
    >>> Redactor().redact_text("Write to ann@example.org")
    'Write to [EMAIL_1]'

    A ``Redactor`` is a ``Callable[[str], str]``, so it can be passed as the ``redact`` hook of
    :func:`goldsmith.llm.prompt.build_request`.
    """

    def __init__(
        self,
        mode: Mode = "mask",
        kinds: Iterable[str | PiiKind] | None = None,
        salt: str | bytes | None = None,
    ) -> None:
        salt_bytes(salt, mode)
        self.mode: Mode = mode
        self.kinds = parse_kinds(kinds)
        self.salt = salt

    def __repr__(self) -> str:
        kinds = sorted(k.value for k in self.kinds)
        return f"Redactor(mode={self.mode!r}, kinds={kinds})"

    def redact(self, text: str) -> Redacted:
        """Detect and redact; the full result with mapping and offset map."""
        return redact(text, detect(text, self.kinds), mode=self.mode, salt=self.salt)

    def redact_text(self, text: str) -> str:
        """Detect and redact; only the redacted text."""
        return self.redact(text).text

    __call__ = redact_text

    def scan(self, texts: Iterable[str], *, max_examples: int = 3) -> ScanReport:
        """Count PII per kind over ``texts``, with a few masked examples of each."""
        counts: Counter[str] = Counter()
        examples: dict[str, list[str]] = {}
        n = n_with = 0
        for text in texts:
            n += 1
            masked = redact(text, detect(text, self.kinds), mode="mask")
            if masked.spans:
                n_with += 1
            for span, piece in zip(masked.spans, masked.offset_map.pieces, strict=True):
                counts[span.kind.value] += 1
                shown = examples.setdefault(span.kind.value, [])
                if len(shown) < max_examples:
                    lo = max(0, piece.red_start - CONTEXT_CHARS)
                    hi = piece.red_end + CONTEXT_CHARS
                    shown.append(" ".join(masked.text[lo:hi].split()))
        return ScanReport(n, n_with, dict(counts), examples)

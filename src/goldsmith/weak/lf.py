"""Labeling functions: small objects that vote a label for a record, or abstain.

>>> from goldsmith.weak import labeling_function, keyword_lf, ABSTAIN
>>> @labeling_function()
... def mentions_tumour(record):
...     return "neoplasms" if "tumour" in record.text.lower() else ABSTAIN
>>> cardio = keyword_lf("cardiovascular", ["myocardial", "coronary"])
>>> (mentions_tumour.name, cardio.name)
('mentions_tumour', 'keyword_cardiovascular')

Building an LF registers nothing: a module of LFs is read with :func:`collect_lfs`. Every LF
has a ``version``, a digest of its definition, so a changed LF is recomputed and an unchanged
one is not.

Keyword and regex LFs are *declarative*: the applier merges all of them into one RE2 pattern
set and scans each text once. Their patterns use RE2 syntax (no look-around or
back-references; ``\\b`` and ``\\w`` are ASCII); a pattern RE2 cannot compile falls back to
Python's :mod:`re` for that LF alone.

Other kinds live beside these: :func:`~goldsmith.weak.model_lfs.model_lf` and
:func:`~goldsmith.weak.model_lfs.similarity_lf` run vectorised over a batch of texts, and
:func:`~goldsmith.weak.span_lfs.regex_span_lf` and :func:`~goldsmith.weak.span_lfs.gazetteer_lf`
emit character spans for a ``spans`` question.

Votes on a ``multilabel`` question are per label: an LF returns a label name, a list of label
names (each a positive vote), :class:`NOT` of a label (a negative vote: the label is absent),
a list mixing both, or ``ABSTAIN``. Labels it does not name are abstains.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import ModuleType
from typing import Any

from goldsmith.errors import LabelingFunctionError, RegistryError, SchemaError

ABSTAIN = -1
"""What an LF returns when it has no opinion (``None`` works too)."""


class LFKind(StrEnum):
    PYTHON = "python"
    KEYWORD = "keyword"
    REGEX = "regex"
    MODEL = "model"  # batch: predict_proba of a model
    SIMILARITY = "similarity"  # batch: nearest labeled examples
    LLM = "llm"  # batch: an LLM asked per record
    SPAN_REGEX = "span_regex"  # spans: every match of a pattern
    GAZETTEER = "gazetteer"  # spans: every whole-word occurrence of a term


BATCH_KINDS = frozenset({LFKind.MODEL, LFKind.SIMILARITY, LFKind.LLM})
SPAN_KINDS = frozenset({LFKind.SPAN_REGEX, LFKind.GAZETTEER})
DECLARATIVE_KINDS = frozenset({LFKind.KEYWORD, LFKind.REGEX})


@dataclass(frozen=True, slots=True)
class NOT:
    """A negative vote on a multi-label question: ``NOT("spam")`` says *spam* is absent.

    >>> NOT("spam")
    NOT('spam')
    """

    label: str

    def __repr__(self) -> str:
        return f"NOT({self.label!r})"


BatchFn = Callable[[Sequence[str], Sequence[str]], Sequence[Any]]
"""``(texts, task labels) -> one vote per text`` (a label name, a list, ``NOT``, ``ABSTAIN``)."""


class LFRecord:
    """What a Python LF sees: the record's fields as attributes (``record.text``), plus
    ``record.id`` and ``record.metadata``."""

    __slots__ = ("id", "fields", "metadata")

    def __init__(self, id: int, fields: Mapping[str, Any], metadata: Mapping[str, Any]) -> None:
        self.id = id
        self.fields = fields
        self.metadata = metadata

    def __getattr__(self, name: str) -> Any:
        try:
            return self.fields[name]
        except KeyError:
            raise AttributeError(
                f"record has no field {name!r}; its fields are {sorted(self.fields)}"
            ) from None


@dataclass(frozen=True, slots=True)
class LF:
    """One labeling function. Build it with :func:`labeling_function`, :func:`keyword_lf` or
    :func:`regex_lf` rather than directly."""

    name: str
    kind: LFKind
    version: str
    fn: Callable[[LFRecord], Any] | None = None
    label: str | None = None  # the label a keyword or regex LF votes
    patterns: tuple[str, ...] = ()  # Python ``re`` patterns of a keyword or regex LF
    re2_patterns: tuple[str, ...] = ()  # the same in RE2 syntax, for the merged scan
    flags: int = 0  # re flags of a regex LF
    field: str = "text"
    negative: bool = False  # a keyword or regex LF that votes NOT(label) (multi-label only)
    batch_fn: BatchFn | None = None  # a model or similarity LF: votes for a batch of texts
    meta: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)

    def __call__(self, record: LFRecord) -> Any:
        """Run the LF on one record (the applier runs the other kinds in bulk instead).

        A span LF returns its spans as ``(start, end, label)`` tuples (code-point offsets).
        """
        if self.fn is not None:
            return self.fn(record)
        text = str(getattr(record, self.field))
        if self.batch_fn is not None:
            return self.batch_fn([text], [])[0]
        if self.kind in SPAN_KINDS:
            assert self.label is not None
            found = (
                m.span(1 if m.re.groups else 0) for p in self.patterns for m in re.finditer(p, text)
            )
            return sorted({(a, b, self.label) for a, b in found if b > a})
        for pattern in self.patterns:
            if re.search(pattern, text):
                return NOT(self.label) if self.negative and self.label else self.label
        return ABSTAIN


def digest(*parts: Any) -> str:
    """A short stable digest of JSON-able ``parts`` (an LF's version)."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.blake2b(blob, digest_size=8).hexdigest()


def source_of(fn: Callable[..., Any]) -> str:
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):  # built in a REPL or from a lambda without source
        code = getattr(fn, "__code__", None)
        return repr(code.co_code + repr(code.co_consts).encode()) if code else repr(fn)


def labeling_function(
    name: str | None = None, *, field: str = "text"
) -> Callable[[Callable[[LFRecord], Any]], LF]:
    """Decorator that turns ``fn(record) -> label name | ABSTAIN`` into an :class:`LF`.

    ``field`` names the text field that span LFs and diagnostics refer to.
    """
    if callable(name):
        raise LabelingFunctionError(
            "Looks like this decorator is missing parentheses! "
            "Write @labeling_function() instead of @labeling_function",
            lf=getattr(name, "__name__", repr(name)),
            record=None,
        )

    def wrap(fn: Callable[[LFRecord], Any]) -> LF:
        return LF(
            name=name or fn.__name__,
            kind=LFKind.PYTHON,
            version=digest("python", source_of(fn)),
            fn=fn,
            field=field,
        )

    return wrap


def keyword_lf(
    label: str,
    keywords: Iterable[str],
    *,
    name: str | None = None,
    field: str = "text",
    case_sensitive: bool = False,
    negative: bool = False,
) -> LF:
    """Vote ``label`` when any of ``keywords`` starts a word of ``field``.

    A keyword matches at a word start (letters and digits in any script count as word
    characters), so ``"arrhythm"`` matches *arrhythmia* but ``"art"`` does not match *heart*.
    ``negative=True`` (multi-label questions only) votes ``NOT(label)`` instead.
    """
    words = tuple(dict.fromkeys(k.strip() for k in keywords if k.strip()))
    if not words:
        raise SchemaError(f"keyword_lf for {label!r} needs at least one keyword")
    # a word start: the text's start or a character that is not a letter, digit or underscore
    alternatives = "(?:" + "|".join(re.escape(w) for w in words) + ")"
    flag = "" if case_sensitive else "(?i)"
    python = flag + r"(?:^|[^\w])" + alternatives
    re2 = flag + r"(?:^|[^\pL\pN_])" + alternatives
    return LF(
        name=name or f"keyword_{'not_' if negative else ''}{label}",
        kind=LFKind.KEYWORD,
        version=digest("keyword", label, words, case_sensitive, field, *(["neg"] * negative)),
        label=label,
        patterns=(python,),
        re2_patterns=(re2,),
        field=field,
        negative=negative,
        meta={"keywords": list(words), "case_sensitive": case_sensitive},
    )


_RE2_FLAGS = {re.IGNORECASE: "i", re.MULTILINE: "m", re.DOTALL: "s"}


def regex_lf(
    label: str,
    pattern: str | Sequence[str],
    *,
    name: str | None = None,
    field: str = "text",
    flags: int = re.IGNORECASE,
    negative: bool = False,
) -> LF:
    """Vote ``label`` when ``pattern`` (or any of several) is found in ``field``.

    ``flags`` takes ``re.IGNORECASE``, ``re.MULTILINE`` and ``re.DOTALL``.
    ``negative=True`` (multi-label questions only) votes ``NOT(label)`` instead.
    """
    patterns = (pattern,) if isinstance(pattern, str) else tuple(pattern)
    inlined = inline_flags("regex_lf", label, patterns, flags)
    return LF(
        name=name or f"regex_{'not_' if negative else ''}{label}",
        kind=LFKind.REGEX,
        version=digest("regex", label, patterns, flags, field, *(["neg"] * negative)),
        label=label,
        patterns=inlined,
        re2_patterns=inlined,
        flags=flags,
        field=field,
        negative=negative,
        meta={"patterns": list(patterns)},
    )


def inline_flags(builder: str, label: str, patterns: Sequence[str], flags: int) -> tuple[str, ...]:
    """``patterns`` with ``flags`` written inline (``(?i)``), after checking they compile."""
    unsupported = flags & ~(re.IGNORECASE | re.MULTILINE | re.DOTALL)
    if unsupported:
        raise SchemaError(f"{builder} supports IGNORECASE, MULTILINE and DOTALL, not {flags!r}")
    if not patterns:
        raise SchemaError(f"{builder} for {label!r} needs at least one pattern")
    inline = "".join(ch for flag, ch in _RE2_FLAGS.items() if flags & flag)
    for p in patterns:
        try:
            re.compile(p, flags)
        except re.error as exc:
            raise SchemaError(f"{builder} for {label!r}: bad pattern {p!r}: {exc}") from exc
    return tuple(f"(?{inline}){p}" if inline else p for p in patterns)


def collect_lfs(module: ModuleType | Mapping[str, Any]) -> list[LF]:
    """The LFs defined in a module (or a namespace), in definition order; names must be unique."""
    namespace = vars(module) if isinstance(module, ModuleType) else module
    found = [v for v in namespace.values() if isinstance(v, LF)]
    names = [lf.name for lf in found]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise RegistryError(f"labeling function names must be unique; repeated: {dupes}")
    return found

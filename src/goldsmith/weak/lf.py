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

from goldsmith.errors import RegistryError, SchemaError

ABSTAIN = -1
"""What an LF returns when it has no opinion (``None`` works too)."""


class LFKind(StrEnum):
    PYTHON = "python"
    KEYWORD = "keyword"
    REGEX = "regex"


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
    meta: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)

    def __call__(self, record: LFRecord) -> Any:
        """Run the LF on one record (the applier runs declarative LFs in bulk instead)."""
        if self.fn is not None:
            return self.fn(record)
        text = str(getattr(record, self.field))
        for pattern in self.patterns:
            if re.search(pattern, text):
                return self.label
        return ABSTAIN


def _digest(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.blake2b(blob, digest_size=8).hexdigest()


def _source(fn: Callable[..., Any]) -> str:
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
        raise TypeError(
            "Looks like this decorator is missing parentheses! "
            "Write @labeling_function() instead of @labeling_function"
        )

    def wrap(fn: Callable[[LFRecord], Any]) -> LF:
        return LF(
            name=name or fn.__name__,
            kind=LFKind.PYTHON,
            version=_digest("python", _source(fn)),
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
) -> LF:
    """Vote ``label`` when any of ``keywords`` starts a word of ``field``.

    A keyword matches at a word start (letters and digits in any script count as word
    characters), so ``"arrhythm"`` matches *arrhythmia* but ``"art"`` does not match *heart*.
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
        name=name or f"keyword_{label}",
        kind=LFKind.KEYWORD,
        version=_digest("keyword", label, words, case_sensitive, field),
        label=label,
        patterns=(python,),
        re2_patterns=(re2,),
        field=field,
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
) -> LF:
    """Vote ``label`` when ``pattern`` (or any of several) is found in ``field``.

    ``flags`` takes ``re.IGNORECASE``, ``re.MULTILINE`` and ``re.DOTALL``.
    """
    patterns = (pattern,) if isinstance(pattern, str) else tuple(pattern)
    unsupported = flags & ~(re.IGNORECASE | re.MULTILINE | re.DOTALL)
    if unsupported:
        raise SchemaError(f"regex_lf supports IGNORECASE, MULTILINE and DOTALL, not {flags!r}")
    inline = "".join(ch for flag, ch in _RE2_FLAGS.items() if flags & flag)
    for p in patterns:
        try:
            re.compile(p, flags)
        except re.error as exc:
            raise SchemaError(f"regex_lf for {label!r}: bad pattern {p!r}: {exc}") from exc
    inlined = tuple(f"(?{inline}){p}" if inline else p for p in patterns)
    return LF(
        name=name or f"regex_{label}",
        kind=LFKind.REGEX,
        version=_digest("regex", label, patterns, flags, field),
        label=label,
        patterns=inlined,
        re2_patterns=inlined,
        flags=flags,
        field=field,
        meta={"patterns": list(patterns)},
    )


def collect_lfs(module: ModuleType | Mapping[str, Any]) -> list[LF]:
    """The LFs defined in a module (or a namespace), in definition order; names must be unique."""
    namespace = vars(module) if isinstance(module, ModuleType) else module
    found = [v for v in namespace.values() if isinstance(v, LF)]
    names = [lf.name for lf in found]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise RegistryError(f"labeling function names must be unique; repeated: {dupes}")
    return found

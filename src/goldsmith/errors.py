"""The single exception tree of goldsmith.

::

    GoldsmithError
    ├── ConfigError            project folder, goldsmith.toml or settings are wrong
    ├── ArgumentError          a function or option got a value it cannot take (a ValueError)
    │   └── NotFittedError     an estimator was used before ``fit``
    ├── SchemaError            a task definition (fields, questions, values) is invalid
    ├── RegistryError          unknown or duplicate name in a registry (formats, strategies, ...)
    ├── MissingExtraError      an optional extra is not installed
    ├── StoreError             the store cannot be opened or used
    │   ├── StoreVersionError  the store was written by a newer goldsmith
    │   └── NotFoundError      a record, guideline version or user does not exist
    ├── InputError             bad input data: names the file, line and field
    ├── ConflictError          the change clashes with stored state (a full record, a taken name)
    ├── LabelingFunctionError  a labeling function raised or returned an unknown label
    ├── AccessError            who is asking may not do this
    │   ├── AuthenticationError  no, unknown or expired credentials
    │   ├── PermissionDeniedError  the user's role does not allow the action
    │   └── RateLimitedError   too many failed attempts; ``retry_after`` says when to retry
    └── ExportError            an export cannot be written
        └── DataValidationError  an exported training file breaks its format's rules

Every message says what went wrong and, where it can, what to do about it.

``ArgumentError`` is also a :class:`ValueError`, as Python and scikit-learn callers expect of
an out-of-range or wrongly shaped argument. Pydantic validators keep raising plain
``ValueError`` (pydantic turns it into a ``ValidationError`` that names the field).
"""

from __future__ import annotations

from typing import Any


def _rebuild(cls: type[Exception], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Exception:
    """Unpickle an error whose constructor takes keyword-only arguments."""
    return cls(*args, **kwargs)


class GoldsmithError(Exception):
    """Base class of every error goldsmith raises on purpose."""


class ConfigError(GoldsmithError):
    """The project folder, its ``goldsmith.toml`` or a setting is wrong."""


class ArgumentError(GoldsmithError, ValueError):
    """A function or CLI option got a value it cannot take: out of range or wrongly shaped.

    The message names the argument, the value and what it must be.
    """


class NotFittedError(ArgumentError):
    """An estimator (classifier, calibrator, ...) was used before ``fit``; call ``fit`` first."""


class SchemaError(GoldsmithError):
    """A task definition or a value for one of its questions is invalid."""


class RegistryError(GoldsmithError):
    """An unknown or duplicate name in one of the registries."""


class MissingExtraError(GoldsmithError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, extra: str, package: str) -> None:
        super().__init__(
            f"This needs the optional package {package!r}: pip install 'goldsmith[{extra}]'"
        )
        self.extra = extra
        self.package = package


class StoreError(GoldsmithError):
    """The store cannot be opened, migrated or written."""


class StoreVersionError(StoreError):
    """The store was migrated by a newer goldsmith than the one running."""


class NotFoundError(StoreError):
    """A requested object does not exist in the store."""


class InputError(GoldsmithError):
    """Bad input data. ``file``, ``line`` and ``field`` locate the problem."""

    def __init__(
        self, message: str, *, file: str, line: int | None = None, field: str | None = None
    ) -> None:
        where = file
        if line is not None:
            where += f", line {line}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {message}")
        self.file = file
        self.line = line
        self.field = field
        self.reason = message

    def __reduce__(self) -> tuple[Any, ...]:  # keyword-only arguments: survive pickling
        return (
            _rebuild,
            (
                type(self),
                (self.reason,),
                {"file": self.file, "line": self.line, "field": self.field},
            ),
        )


class ExportError(GoldsmithError):
    """An export cannot be written."""


class DataValidationError(ExportError):
    """A training-data file breaks the rules of its format.

    ``problems`` lists ``(line, kind, message)`` for every problem found.
    """

    def __init__(self, file: str, problems: list[tuple[int, str, str]]) -> None:
        head = "; ".join(f"line {ln}: {kind}: {msg}" for ln, kind, msg in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"{file}: {len(problems)} problem(s): {head}{more}")
        self.file = file
        self.problems = problems


class ConflictError(GoldsmithError):
    """The change clashes with the store's current state (a full record, a taken name)."""


class AccessError(GoldsmithError):
    """The caller may not do this."""


class AuthenticationError(AccessError):
    """No credentials, or unknown or expired ones."""


class PermissionDeniedError(AccessError):
    """The caller's role does not allow the action."""


class RateLimitedError(AccessError):
    """Too many failed attempts; retry after ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LabelingFunctionError(GoldsmithError):
    """A labeling function failed on a record; ``lf`` and ``record`` say which."""

    def __init__(self, message: str, *, lf: str, record: int | None) -> None:
        where = f"labeling function {lf!r}" + ("" if record is None else f" on record {record}")
        super().__init__(f"{where}: {message}")
        self.lf = lf
        self.record = record
        self.reason = message

    def __reduce__(self) -> tuple[Any, ...]:  # crosses process-pool boundaries intact
        return (_rebuild, (type(self), (self.reason,), {"lf": self.lf, "record": self.record}))

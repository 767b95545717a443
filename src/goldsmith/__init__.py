"""goldsmith: turn raw domain text into measured, high-quality fine-tuning datasets.

Only the error tree is imported with the package; every other public name (``Project``,
``Client``, the options and the schema) is loaded on first use (PEP 562 ``__getattr__``), so
``import goldsmith`` and every CLI command start at once.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from goldsmith.errors import (
    AccessError,
    ArgumentError,
    AuthenticationError,
    ConfigError,
    ConflictError,
    DataValidationError,
    ExportError,
    GoldsmithError,
    InputError,
    MissingExtraError,
    NotFittedError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RegistryError,
    SchemaError,
    StoreError,
    StoreVersionError,
)

if _typing.TYPE_CHECKING:
    from goldsmith.client import ApiError, Client
    from goldsmith.export.options import ExportOptions, ExportReport
    from goldsmith.ingest.options import ImportOptions, ImportReport, LabelsAs
    from goldsmith.project import Project
    from goldsmith.schema import (
        FinalLabel,
        Provenance,
        Record,
        Response,
        ResponseStatus,
        Role,
        Suggestion,
        SuggestionKind,
        Task,
        User,
    )

__version__ = "0.1.0"

__all__ = [
    "AccessError",
    "ArgumentError",
    "ApiError",
    "AuthenticationError",
    "Client",
    "ConfigError",
    "ConflictError",
    "DataValidationError",
    "ExportError",
    "ExportOptions",
    "ExportReport",
    "FinalLabel",
    "GoldsmithError",
    "ImportOptions",
    "ImportReport",
    "InputError",
    "LabelsAs",
    "MissingExtraError",
    "NotFittedError",
    "NotFoundError",
    "PermissionDeniedError",
    "Project",
    "Provenance",
    "RateLimitedError",
    "Record",
    "RegistryError",
    "Response",
    "ResponseStatus",
    "Role",
    "SchemaError",
    "StoreError",
    "StoreVersionError",
    "Suggestion",
    "SuggestionKind",
    "Task",
    "User",
    "__version__",
]


def __getattr__(name: str) -> _typing.Any:
    """Import the module behind a public name on its first use and keep the name here.

    The modules are the ones imported under ``TYPE_CHECKING`` above.
    """
    where = {
        "ApiError": "goldsmith.client",
        "Client": "goldsmith.client",
        "ExportOptions": "goldsmith.export.options",
        "ExportReport": "goldsmith.export.options",
        "ImportOptions": "goldsmith.ingest.options",
        "ImportReport": "goldsmith.ingest.options",
        "LabelsAs": "goldsmith.ingest.options",
        "Project": "goldsmith.project",
        **dict.fromkeys(
            [
                "FinalLabel",
                "Provenance",
                "Record",
                "Response",
                "ResponseStatus",
                "Role",
                "Suggestion",
                "SuggestionKind",
                "Task",
                "User",
            ],
            "goldsmith.schema",
        ),
    }
    if name not in where:
        raise AttributeError(f"module 'goldsmith' has no attribute {name!r}")
    value = getattr(_importlib.import_module(where[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

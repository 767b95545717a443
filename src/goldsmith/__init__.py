"""goldsmith: turn raw domain text into measured, high-quality fine-tuning datasets."""

from goldsmith.client import ApiError, Client
from goldsmith.errors import (
    AccessError,
    AuthenticationError,
    ConfigError,
    ConflictError,
    DataValidationError,
    ExportError,
    GoldsmithError,
    InputError,
    MissingExtraError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RegistryError,
    SchemaError,
    StoreError,
    StoreVersionError,
)
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

"""goldsmith: turn raw domain text into measured, high-quality fine-tuning datasets."""

from goldsmith.errors import (
    ConfigError,
    DataValidationError,
    ExportError,
    GoldsmithError,
    InputError,
    MissingExtraError,
    NotFoundError,
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
    Suggestion,
    SuggestionKind,
    Task,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
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
    "Project",
    "Provenance",
    "Record",
    "RegistryError",
    "Response",
    "ResponseStatus",
    "SchemaError",
    "StoreError",
    "StoreVersionError",
    "Suggestion",
    "SuggestionKind",
    "Task",
    "__version__",
]

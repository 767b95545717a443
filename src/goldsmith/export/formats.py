"""The registry of export formats.

:data:`EXPORTERS` maps a format name to an :class:`~goldsmith.export.exporter.Exporter`. The
built-in formats register through :func:`register_exporter`, the same call a third party
uses::

    from goldsmith.export.exporter import jsonl_exporter
    from goldsmith.export.formats import register_exporter

    register_exporter(jsonl_exporter("my-format", my_rows, kinds={"label"}))

A name registered twice is an error naming it; asking for an unknown name is an error listing
the known ones. Pass ``registry=`` to work with a registry of your own instead of the default.

Built-in formats, by the question kinds they fit. A format asks the kind for a capability
(``Exporter.accepts``), so a new kind fits each format whose capability it has:

====================================================  ====================================
openai-chat, trl-sft, trl-sft-chat, alpaca, sharegpt  ``trains_sft``: label, multilabel,
                                                      spans, span_multilabel, text, rating
openai-dpo, trl-preference, trl-kto                   ``ranks_candidates``: preference
parquet, csv                                          every kind
label-studio                                          ``label_studio``: all but preference
prodigy                                               ``prodigy``: label, multilabel, spans
conll                                                 ``conll``: spans
====================================================  ====================================
"""

from __future__ import annotations

from collections.abc import Iterator

from goldsmith.errors import ExportError, RegistryError
from goldsmith.export.exporter import Exporter
from goldsmith.export.interop import interop_exporters
from goldsmith.export.preference import preference_exporters
from goldsmith.export.sft import sft_exporters
from goldsmith.export.tabular import tabular_exporters
from goldsmith.schema import Question


class ExporterRegistry:
    """Format name → :class:`Exporter`."""

    def __init__(self) -> None:
        self._items: dict[str, Exporter] = {}

    def register(self, exporter: Exporter) -> Exporter:
        """Add ``exporter``; a name already taken raises :class:`RegistryError`."""
        if exporter.name in self._items:
            raise RegistryError(
                f"an exporter named {exporter.name!r} is already registered; "
                "pick another name for yours"
            )
        self._items[exporter.name] = exporter
        return exporter

    def get(self, name: str) -> Exporter:
        """The exporter called ``name``; an unknown name raises :class:`RegistryError`."""
        try:
            return self._items[name]
        except KeyError:
            raise RegistryError(
                f"unknown export format {name!r}; known formats: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._items)

    def fitting(self, question: Question) -> list[str]:
        """Names of the formats that fit ``question``, sorted."""
        return [n for n in self.names() if self._items[n].fits(question)]

    def check_fits(self, name: str, question: Question) -> Exporter:
        """The exporter ``name``, or :class:`ExportError` naming the formats that do fit."""
        exporter = self.get(name)
        if not exporter.fits(question):
            raise ExportError(
                f"format {name!r} does not fit question {question.name!r} "
                f"(a {question.kind} question); formats that fit: "
                f"{', '.join(self.fitting(question))}"
            )
        return exporter

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[Exporter]:
        return iter(self._items[n] for n in self.names())

    def __len__(self) -> int:
        return len(self._items)


def builtin_exporters() -> list[Exporter]:
    """Fresh instances of the built-in exporters."""
    return [
        *sft_exporters(),
        *preference_exporters(),
        *tabular_exporters(),
        *interop_exporters(),
    ]


def default_registry() -> ExporterRegistry:
    """A new registry holding the built-in exporters (for isolated use, e.g. in tests)."""
    registry = ExporterRegistry()
    for exporter in builtin_exporters():
        register_exporter(exporter, registry=registry)
    return registry


EXPORTERS = ExporterRegistry()
"""The default registry that :func:`goldsmith.export.run.export` looks formats up in."""


def register_exporter(exporter: Exporter, *, registry: ExporterRegistry | None = None) -> Exporter:
    """Register ``exporter`` in ``registry`` (default :data:`EXPORTERS`) and return it.

    Raises
    ------
    RegistryError
        When the name is taken.
    """
    return (EXPORTERS if registry is None else registry).register(exporter)


def get_exporter(name: str, *, registry: ExporterRegistry | None = None) -> Exporter:
    """The exporter called ``name``.

    Raises
    ------
    RegistryError
        When no exporter has that name; the message lists the known ones.
    """
    return (EXPORTERS if registry is None else registry).get(name)


def exporter_names(*, registry: ExporterRegistry | None = None) -> list[str]:
    """Names of the registered formats, sorted."""
    return (EXPORTERS if registry is None else registry).names()


for _exporter in builtin_exporters():
    register_exporter(_exporter)

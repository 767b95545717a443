"""Export: the format registry, splits, dataset cards and the training-file validator.

The package imports nothing on its own (``goldsmith.export.options`` stays cheap); use the
modules:

- :mod:`~goldsmith.export.run` — ``export(store, task, options, *, progress)``, what
  ``Project.export`` calls;
- :mod:`~goldsmith.export.formats` — the registry: ``register_exporter``, ``get_exporter``,
  ``exporter_names``, ``EXPORTERS``, ``ExporterRegistry``;
- :mod:`~goldsmith.export.exporter` — ``Exporter``, ``ExportContext``, ``Sink`` and the
  ``jsonl_exporter`` / ``json_array_exporter`` helpers for new formats;
- :mod:`~goldsmith.export.validate` — ``validate_file(path, fmt, *, max_tokens)``;
- :mod:`~goldsmith.export.tokens` — offline token counts (``count_text``,
  ``count_messages``);
- :mod:`~goldsmith.export.card` — the dataset card; :mod:`~goldsmith.export.plan` and
  :mod:`~goldsmith.export.splits` — the splits; :mod:`~goldsmith.export.prompts` — the
  wording of prompts and answers;
- :mod:`~goldsmith.export.folder` — the output folder's manifest (stale files removed, other
  files refused); :mod:`~goldsmith.export.label_config` — Label Studio's ``label_config.xml``;
- the built-in formats: :mod:`~goldsmith.export.sft`, :mod:`~goldsmith.export.preference`,
  :mod:`~goldsmith.export.tabular`, :mod:`~goldsmith.export.interop`.
"""

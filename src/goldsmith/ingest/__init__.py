"""Import: readers for tabular and interop formats, field mapping, the transactional pipeline.

Modules, one concept each:

* ``pipeline``  -- :func:`~goldsmith.ingest.pipeline.import_file`, all or nothing;
* ``staging``   -- an import's chunks hidden until published, taken back on failure or
  after a crash, one import at a time;
* ``formats``   -- the format registry and :func:`~goldsmith.ingest.formats.detect_format`;
* ``readers``   -- the read context, decoded lines and the JSON readers;
* ``delimited`` -- csv and tsv (an Arrow fast path with an exact :mod:`csv` fallback);
* ``columnar``  -- parquet and Hugging Face dataset folders;
* ``label_studio``, ``prodigy``, ``argilla`` -- the annotation tools' exports, with what
  they share in ``interop`` (question matching, task ``meta``, scores);
* ``sft``       -- goldsmith's SFT exports (openai-chat, trl-sft, alpaca, sharegpt) back in;
* ``mapping``   -- rows to records: fields, ids, metadata, label resolution, input checks;
* ``conflicts`` -- disagreeing answers imported as gold: counted, resolved or refused;
* ``rejects``   -- where invalid rows go when they are skipped;
* ``options``   -- :class:`ImportOptions` and :class:`ImportReport`.
"""

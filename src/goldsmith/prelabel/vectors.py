"""Record embeddings through the store's cache: compute only what is missing.

:func:`embed_records` reads the records' texts, asks the store which have no vector for the
embedder's id, encodes just those in batches (each batch written in its own transaction, so
an interrupted run keeps its progress) and returns the matrix aligned with the record ids.
A :class:`~goldsmith.prelabel.embed.CorpusEmbedder` (tfidf) is fitted on the texts of the
records asked for, and only when some vector of that fit is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from goldsmith.prelabel.embed import Embedder, as_corpus_embedder
from goldsmith.progress import SILENT, Progress
from goldsmith.schema import Record
from goldsmith.store import Store

TextOf = Callable[[Record], str]


def record_text(record: Record) -> str:
    """A record's text for embedding: its text fields (and chat message contents), joined."""
    parts: list[str] = []
    for value in record.fields.values():
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            parts.extend(str(m.get("content") or "") for m in value if isinstance(m, dict))
    return "\n".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class Embedded:
    """Vectors (n, d) float32, row ``i`` for ``record_ids[i]``, under ``model_id``."""

    model_id: str
    record_ids: npt.NDArray[np.int64]
    vectors: npt.NDArray[np.float32]
    n_computed: int  # how many were encoded now; the rest came from the store


def embed_records(
    store: Store,
    embedder: Embedder,
    record_ids: Sequence[int] | None = None,
    *,
    text_of: TextOf = record_text,
    batch_size: int = 1000,
    progress: Progress = SILENT,
) -> Embedded:
    """Vectors of ``record_ids`` (None: every record, by id), computing only missing ones.

    Row ``i`` of the result belongs to ``record_ids[i]`` (a repeated id repeats its row).

    Parameters
    ----------
    store : Store
        The project's store; vectors are cached in it per (record, ``embedder.id``).
    embedder : Embedder
        What encodes texts; a corpus embedder that is not yet fitted is fitted on the texts
        of these records when something is missing.
    record_ids : sequence of int, optional
        Records to embed, in the order the rows should have.
    text_of : callable
        A record's text (default :func:`record_text`).
    batch_size : int
        Texts encoded and written per transaction.
    progress : Progress
        Told the number of vectors to compute and advanced per batch.
    """
    texts = _texts(store, record_ids, text_of)
    ids = list(texts) if record_ids is None else [int(i) for i in record_ids]
    corpus = as_corpus_embedder(embedder)
    to_fit = corpus if corpus is not None and not corpus.fitted else None
    model_id = embedder.id if to_fit is None else to_fit.id_for(list(texts.values()))
    with store.read() as tx:
        todo = tx.missing_embeddings(model_id, list(texts))
    if todo and to_fit is not None:
        to_fit.fit(list(texts.values()))
    progress.start(f"embedding with {model_id}", total=len(todo))
    try:
        for start in range(0, len(todo), batch_size):
            part = todo[start : start + batch_size]
            vectors = embedder.encode([texts[i] for i in part])
            with store.write() as tx:
                tx.put_embeddings(model_id, part, vectors)
            progress.advance(len(part))
    finally:
        progress.finish()
    with store.read() as tx:
        matrix = tx.get_embeddings(model_id, ids)
    return Embedded(model_id, np.asarray(ids, dtype=np.int64), matrix, len(todo))


def _texts(store: Store, record_ids: Sequence[int] | None, text_of: TextOf) -> dict[int, str]:
    """Each record's text, keyed by id in the order asked (ids ascending for None)."""
    out: dict[int, str] = {}
    with store.read() as tx:
        if record_ids is None:
            for batch in tx.iter_records():
                out.update((int(r.id), text_of(r)) for r in batch if r.id is not None)
        else:
            wanted = list(dict.fromkeys(int(i) for i in record_ids))
            out.update((int(r.id), text_of(r)) for r in tx.get_records(wanted) if r.id is not None)
    return out

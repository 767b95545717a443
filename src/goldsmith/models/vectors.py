"""Record embeddings through the store's cache: compute only what is missing.

:func:`ensure_embeddings` gives every record a vector for the embedder's id, streaming: it
reads the records a page at a time (each page in its own short read transaction), encodes
the missing ones in batches and writes each batch in its own transaction, so an interrupted
run keeps its progress and memory stays bounded by a page, whatever the corpus size.
:func:`iter_vectors` streams the stored vectors back in pages, and :func:`embed_records`
returns them as one matrix for callers that need it (small corpora, or a subset of records).

A :class:`~goldsmith.models.embed.CorpusEmbedder` (tfidf) is fitted on :func:`fit_texts`:
every record's text up to :data:`FIT_SAMPLE` records, else that many spread evenly over the
ids, and only when some vector of that fit is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from goldsmith.models.embed import CorpusEmbedder, Embedder, as_corpus_embedder
from goldsmith.progress import SILENT, Progress
from goldsmith.schema import Record
from goldsmith.store import Store

TextOf = Callable[[Record], str]
FIT_SAMPLE = 100_000
"""Records a corpus embedder is fitted on at most (a vocabulary and an SVD need no more)."""
PAGE = 2_000
"""Records read per short read transaction."""
VECTOR_PAGE = 50_000
"""Vectors per page of :func:`iter_vectors` (50k x 256 float32: 51 MB)."""


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


@dataclass(frozen=True, slots=True)
class EmbedSummary:
    """What :func:`ensure_embeddings` did: every record has a vector under ``model_id``."""

    model_id: str
    n_records: int
    n_computed: int  # encoded by this call; the rest were already stored


def fit_texts(store: Store, text_of: TextOf = record_text, *, limit: int = FIT_SAMPLE) -> list[str]:
    """The texts a corpus embedder is fitted on, in id order: every record's when there are
    at most ``limit`` records, else ``limit`` records spread evenly over the ids (the same
    sample for the same store, so the fit's id is stable)."""
    with store.read() as tx:
        ids = tx.record_id_array()
    if len(ids) <= limit:  # every record: keyset pages beat lists of ids
        return [text_of(r) for page in _pages(store) for r in page]
    # positions strictly increase: (n - 1) / (limit - 1) > 1
    ids = ids[np.linspace(0, len(ids) - 1, limit).round().astype(np.int64)]
    texts: list[str] = []
    for start in range(0, len(ids), PAGE):
        with store.read() as tx:
            texts.extend(text_of(r) for r in tx.get_records(ids[start : start + PAGE].tolist()))
    return texts


def ensure_embeddings(
    store: Store,
    embedder: Embedder,
    *,
    text_of: TextOf = record_text,
    batch_size: int = 1000,
    progress: Progress = SILENT,
) -> EmbedSummary:
    """Give every record a vector for ``embedder``, encoding only the missing ones.

    Memory is bounded by a page of records and a batch of vectors (plus the fit sample of a
    corpus embedder). Missing records are encoded ``batch_size`` at a time in id order, each
    batch written in its own transaction.

    Parameters
    ----------
    store : Store
        The project's store; vectors are cached in it per (record, model id).
    embedder : Embedder
        What encodes texts; an unfitted corpus embedder is fitted on :func:`fit_texts` when
        some vector of that fit is missing.
    text_of : callable
        A record's text (default :func:`record_text`).
    batch_size : int
        Texts encoded and written per transaction.
    progress : Progress
        Told the number of vectors to compute and advanced per batch.
    """
    model_id, to_fit, sample = model_id_of(store, embedder, text_of)
    with store.read() as tx:
        n_records = tx.count_records()
        n_missing = n_records - tx.count_embeddings(model_id)
    if n_missing and to_fit is not None:
        to_fit.fit(sample)
    del sample

    def encode(part: list[Record]) -> None:
        vectors = embedder.encode([text_of(r) for r in part])
        with store.write() as tx:
            tx.put_embeddings(model_id, [int(r.id or 0) for r in part], vectors)
        progress.advance(len(part))

    progress.start(f"embedding with {model_id}", total=n_missing)
    computed = 0
    try:
        pending: list[Record] = []  # batches of consecutive missing records, as Ray's
        pages = missing_pages(store, model_id, everything=n_missing == n_records)
        for page in pages if n_missing else ():
            pending += page
            while len(pending) >= batch_size:
                encode(pending[:batch_size])
                computed += batch_size
                pending = pending[batch_size:]
        if pending:
            encode(pending)
            computed += len(pending)
    finally:
        progress.finish()
    return EmbedSummary(model_id, n_records, computed)


def model_id_of(
    store: Store, embedder: Embedder, text_of: TextOf
) -> tuple[str, CorpusEmbedder | None, list[str]]:
    """The id of ``embedder``'s vectors, the corpus embedder still to fit on the returned
    texts (None when ``embedder`` needs no fit, and then no texts)."""
    corpus = as_corpus_embedder(embedder)
    if corpus is None or corpus.fitted:
        return embedder.id, None, []
    sample = fit_texts(store, text_of, limit=FIT_SAMPLE)
    return corpus.id_for(sample), corpus, sample


def missing_pages(store: Store, model_id: str, *, everything: bool) -> Iterator[list[Record]]:
    """Pages of the records without a ``model_id`` vector, in id order. ``everything``: no
    record has one, so skip the lookups."""
    for page in _pages(store):
        if not everything:
            with store.read() as tx:
                todo = set(tx.missing_embeddings(model_id, [int(r.id or 0) for r in page]))
            page = [r for r in page if r.id in todo]
        yield page


def _pages(store: Store) -> Iterator[list[Record]]:
    """Every record in id order, :data:`PAGE` at a time, each page in its own read."""
    last = 0
    while True:
        with store.read() as tx:
            page = next(tx.iter_records(after_id=last, batch_size=PAGE), [])
        if not page:
            return
        last = int(page[-1].id or 0)
        yield page


def iter_vectors(
    store: Store, model_id: str, *, page: int = VECTOR_PAGE
) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]]:
    """Every stored ``model_id`` vector as ``(record ids, (n, d) vectors)`` pages in id
    order, each page read in its own short transaction."""
    last = 0
    while True:
        with store.read() as tx:
            ids, vectors = tx.embedding_page(model_id, after_id=last, limit=page)
        if len(ids) == 0:
            return
        yield ids, vectors
        last = int(ids[-1])


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
    if record_ids is None:
        summary = ensure_embeddings(
            store, embedder, text_of=text_of, batch_size=batch_size, progress=progress
        )
        with store.read() as tx:
            all_ids = tx.record_id_array()
            matrix = tx.get_embeddings(summary.model_id, all_ids)
        return Embedded(summary.model_id, all_ids, matrix, summary.n_computed)
    texts = _texts(store, record_ids, text_of)
    ids = [int(i) for i in record_ids]
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


def _texts(store: Store, record_ids: Sequence[int], text_of: TextOf) -> dict[int, str]:
    """Each record's text, keyed by id in the order asked."""
    wanted = list(dict.fromkeys(int(i) for i in record_ids))
    with store.read() as tx:
        return {int(r.id): text_of(r) for r in tx.get_records(wanted) if r.id is not None}


def encode_outside(
    store: Store, embedder: Embedder, texts: Sequence[str], *, text_of: TextOf = record_text
) -> tuple[str, npt.NDArray[np.float32]]:
    """Vectors of texts that are not records of the store (e.g. a held-out test file), in
    the space of the store's vectors: a corpus embedder is fitted on the store's texts, as
    for its records, never on these. Returns ``(model id, vectors)``."""
    model_id, corpus, sample = model_id_of(store, embedder, text_of)
    if corpus is not None:
        corpus.fit(sample)
    return model_id, embedder.encode(list(texts))

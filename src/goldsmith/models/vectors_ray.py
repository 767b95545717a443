"""Embedding and classifier scoring on Ray, over Parquet partitions, resumable.

:func:`embed_records_ray` is :func:`~goldsmith.models.vectors.ensure_embeddings` with
the encoding done by Ray tasks: the driver fits a corpus embedder (tfidf) on the local
engine's sample when one of its vectors is missing, writes the records still without a vector
as Parquet partitions (``id``, ``text``) into a job folder keyed by the embedder id and those
records, and runs one task per partition. Each task encodes its texts
in the local engine's batches and saves the vectors; the driver bulk-loads each partition
into the store's cache the moment it finishes. The vectors are the local engine's: the same
embedder object encodes the same texts in the same batches (partitions hold a whole number
of batches), so they are bit-identical.

Resume: a killed run leaves the finished partitions' vectors in the store (and their result
files in the job folder); the rerun embeds only what is still missing.

:func:`predict_proba_ray` scores a fitted classifier (anything with ``predict_proba``, such
as the :class:`~goldsmith.models.classifier.LoopClassifier`) on stored vectors, one Ray task
per Parquet partition of (``id``, ``vector``) rows; the probabilities are the local ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.models.embed import Embedder
from goldsmith.models.vectors import (
    VECTOR_PAGE,
    EmbedSummary,
    TextOf,
    missing_pages,
    model_id_of,
    record_text,
)
from goldsmith.progress import SILENT, Progress
from goldsmith.ray_jobs import (
    MAX_RETRIES,
    Job,
    by_value_modules,
    cluster,
    commit_file,
    digest,
    import_ray,
    pickle_by_value,
    run_partitions,
)
from goldsmith.store import Store

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq
else:
    pa = lazy_module("pyarrow")
    pq = lazy_module("pyarrow.parquet")

BATCH_SIZE = 1000
"""Texts encoded per call, as in the local engine."""
ROWS_PER_FILE = 20 * BATCH_SIZE


def embed_records_ray(
    store: Store,
    embedder: Embedder,
    *,
    jobs_dir: str | Path,
    text_of: TextOf = record_text,
    batch_size: int = BATCH_SIZE,
    batches_per_file: int = ROWS_PER_FILE // BATCH_SIZE,
    address: str | None = None,
    num_cpus: int | None = None,
    max_retries: int = MAX_RETRIES,
    progress: Progress = SILENT,
) -> EmbedSummary:
    """Give every record a vector, computing the missing ones on Ray.

    Parameters
    ----------
    store, embedder, text_of, batch_size
        As for :func:`~goldsmith.models.vectors.embed_records`.
    jobs_dir
        Folder of resumable jobs (a project's ``.goldsmith/jobs``); with ``address`` it must
        be on storage the cluster's workers see.
    batches_per_file
        Partition size, in batches: one Ray task per partition.
    address, num_cpus
        The Ray cluster (see :func:`goldsmith.ray_jobs.cluster`).
    max_retries
        Ray retries of a failed task.
    progress
        Told the number of vectors to compute and advanced per finished partition.

    Returns
    -------
    EmbedSummary
        As the local engine's :func:`~goldsmith.models.vectors.ensure_embeddings`;
        ``n_computed`` counts vectors computed by this run and by the unfinished earlier
        runs it resumed.
    """
    import_ray()
    model_id, to_fit, sample = model_id_of(store, embedder, text_of)
    with store.read() as tx:
        n_records = tx.count_records()
        stored = tx.count_embeddings(model_id)
    pages = missing_pages(store, model_id, everything=stored == 0) if stored < n_records else ()
    todo = np.fromiter((int(r.id or 0) for page in pages for r in page), dtype=np.int64)
    if len(todo):
        if to_fit is not None:
            to_fit.fit(sample)
        del sample
        rows = batch_size * batches_per_file
        key = digest(model_id, batch_size, rows, todo.tobytes())
        job = Job(jobs_dir, "embed", key, "npy")

        def write(folder: Path) -> list[Path]:
            out = []
            for n, start in enumerate(range(0, len(todo), rows)):
                part = todo[start : start + rows].tolist()
                with store.read() as tx:
                    texts = [text_of(r) for r in tx.get_records(part)]
                out.append(folder / f"part-{n:05d}.parquet")
                pq.write_table(pa.table({"id": part, "text": texts}), out[-1])
            return out

        def load(part: Path, _: Any) -> int:
            part_ids = pq.read_table(part, columns=["id"]).column("id").to_pylist()
            vectors = np.load(job.result_path(part))
            with store.write() as tx:
                tx.put_embeddings(model_id, part_ids, vectors)
            return len(part_ids)

        parts = job.write_inputs(write)
        with cluster(address, num_cpus) as ray, pickle_by_value(by_value_modules([embedder])):
            run_partitions(
                ray,
                _encode_partition,
                job,
                parts,
                (ray.put(embedder), batch_size),
                load,
                description=f"embedding with {model_id} on Ray",
                total=len(todo),
                progress=progress,
                max_retries=max_retries,
            )
        job.remove()
    return EmbedSummary(model_id, n_records, len(todo))


def _encode_partition(path: str, out: str, embedder: Embedder, batch_size: int) -> int:
    """One Ray task: encode a partition's texts in batches and save the (n, d) vectors."""
    texts = pq.read_table(path, columns=["text"]).column("text").to_pylist()
    parts = [embedder.encode(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
    vectors = np.concatenate(parts) if parts else np.zeros((0, embedder.dim), np.float32)
    commit_file(Path(out), lambda tmp: _save(tmp, vectors))
    return len(texts)


def _save(path: Path, array: npt.NDArray[Any]) -> None:
    with path.open("wb") as fh:  # a file object: np.save would add ".npy" to a name
        np.save(fh, array)


def predict_proba_ray(
    model: Any,
    store: Store,
    model_id: str,
    record_ids: Sequence[int],
    *,
    jobs_dir: str | Path,
    rows_per_file: int = 50_000,
    address: str | None = None,
    num_cpus: int | None = None,
    max_retries: int = MAX_RETRIES,
    progress: Progress = SILENT,
) -> npt.NDArray[np.float64]:
    """``model.predict_proba`` of the stored vectors (``model_id``) of ``record_ids``, on Ray.

    Row ``i`` belongs to ``record_ids[i]``. The vectors are written as Parquet partitions
    (``id``, ``vector``) into a job folder; each task scores one partition with the same
    fitted model. The job folder is keyed by the model (pickled) and the ids, so a rerun of
    an interrupted scoring skips the partitions already scored.
    """
    ray_module = import_ray()
    ids = [int(i) for i in record_ids]
    if not ids:
        return np.zeros((0, 0), dtype=np.float64)
    blob = ray_module.cloudpickle.dumps(model)
    key = digest(model_id, rows_per_file, blob, np.asarray(ids, dtype=np.int64).tobytes())
    job = Job(jobs_dir, "score", key, "npy")

    def write(folder: Path) -> list[Path]:
        out = []
        for n, start in enumerate(range(0, len(ids), rows_per_file)):
            part = ids[start : start + rows_per_file]
            with store.read() as tx:
                X = np.ascontiguousarray(tx.get_embeddings(model_id, part), dtype=np.float32)
            flat = pa.array(X.reshape(-1), pa.float32())
            vector = pa.FixedSizeListArray.from_arrays(flat, X.shape[1])
            out.append(folder / f"part-{n:05d}.parquet")
            pq.write_table(pa.table({"id": part, "vector": vector}), out[-1])
        return out

    found: list[npt.NDArray[np.float64]] = []
    order: list[Path] = []

    def load(part: Path, _: Any) -> int:
        order.append(part)
        found.append(np.load(job.result_path(part)))
        return len(found[-1])

    parts = job.write_inputs(write)
    with cluster(address, num_cpus) as ray, pickle_by_value(by_value_modules([model])):
        run_partitions(
            ray,
            _score_partition,
            job,
            parts,
            (ray.put(model),),
            load,
            description="scoring on Ray",
            total=len(ids),
            progress=progress,
            max_retries=max_retries,
        )
    by_part = dict(zip(order, found, strict=True))
    proba = np.concatenate([by_part[p] for p in parts])
    job.remove()
    return proba


def _score_partition(path: str, out: str, model: Any) -> int:
    """One Ray task: ``predict_proba`` of one partition's vectors, saved."""
    column = pq.read_table(path, columns=["vector"]).column("vector").combine_chunks()
    X = np.asarray(column.flatten().to_numpy(), dtype=np.float32).reshape(len(column), -1)
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    commit_file(Path(out), lambda tmp: _save(tmp, proba))
    return len(proba)


def ray_scorer(
    store: Store, jobs_dir: str | Path, address: str | None = None
) -> Callable[[Any, str, npt.NDArray[np.int64]], Iterator[tuple[Any, npt.NDArray[Any]]]]:
    """A ``score`` for :func:`goldsmith.active.loop.retrain`: the fitted classifier's
    probabilities for every record, computed on Ray from the stored vectors and handed back
    in pages."""

    def score(
        model: Any, model_id: str, ids: npt.NDArray[np.int64]
    ) -> Iterator[tuple[Any, npt.NDArray[Any]]]:
        proba = predict_proba_ray(
            model, store, model_id, ids.tolist(), jobs_dir=jobs_dir, address=address
        )
        for start in range(0, len(ids), VECTOR_PAGE):
            yield ids[start : start + VECTOR_PAGE], proba[start : start + VECTOR_PAGE]

    return score

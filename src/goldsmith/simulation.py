"""``goldsmith simulate`` on a project: gather what the simulator replays, run it, write it.

The pool is the project's records with a human-grade label of the question (gold, review,
human, consensus), replayed as the annotator. The test set is, in the honest protocol, a
file of labeled records outside the project (``test_file``): read and embedded here, never
stored, and any of its records whose content is also in the project dropped (and counted).
Without one, each repeat holds out a share of the pool.

Machine labels never count as human labels, and nothing is fitted on the test records or on
gold the simulated annotator has not revealed:

* ``with_weak``: the project's LF votes; the label model is fitted inside the simulation on
  the pool's votes, with the labels revealed so far as its dev set. The label model's
  suggestions in the store are *not* used: they were fitted on every gold label.
* ``with_llm``: the LLM's suggestions with their calibrated confidences (an error when the
  project has none).
* ``semi_supervised``: labels spread over the pool's k-NN graph.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from goldsmith import labels as _labels
from goldsmith._lazy import lazy_module
from goldsmith.active.simulate import simulate
from goldsmith.errors import SchemaError
from goldsmith.ingest.options import ImportOptions
from goldsmith.ingest.pipeline import read_items
from goldsmith.kinds.base import Labelled
from goldsmith.models.embed import Embedder
from goldsmith.models.setfit import SetFitClassifier
from goldsmith.models.vectors import embed_records, encode_outside, record_text
from goldsmith.progress import SILENT, Progress
from goldsmith.schema import Record, Task, content_hash
from goldsmith.store import Store
from goldsmith.train.classifier import LEARNERS
from goldsmith.weak.label_models.select import make_model
from goldsmith.weak.run import load_label_matrix

if TYPE_CHECKING:
    import scipy.sparse as sp
else:
    sp = lazy_module("scipy.sparse")

__all__ = ["SimulationRequest", "run_simulation"]


@dataclass(frozen=True)
class SimulationRequest:
    """The options of one ``simulate`` run (see :meth:`goldsmith.project.Project.simulate`)."""

    strategies: tuple[str, ...] = ("random", "auto")
    seed_size: int = 20
    step: int = 20
    budget: int = 500
    repeats: int = 5
    with_weak: bool = False
    with_llm: bool = False
    semi_supervised: bool = False
    test_file: Path | None = None
    test_options: ImportOptions | None = None
    question: str | None = None
    seed: int = 0
    learner: str = "logistic"


def run_simulation(
    store: Store,
    task: Task,
    embedder: Embedder,
    out: Path,
    req: SimulationRequest,
    *,
    progress: Progress = SILENT,
) -> dict[str, Any]:
    """Run the simulation; write ``curves.csv``, ``curves.png`` and ``summary.json`` into
    ``out`` and return the summary."""
    q = _labels.loop_question(task, req.question)
    targets = _labels.labeled_targets(store, task, q.name)
    if len(targets) < 2 * max(req.seed_size, 2):
        raise SchemaError(
            f"simulate needs labeled records to replay: {len(targets)} found on {q.name!r}, "
            f"at least {2 * max(req.seed_size, 2)} needed (or a smaller --seed-size)"
        )
    ids = sorted(targets)
    multilabel = q.many_labels
    X = embed_records(store, embedder, ids, progress=progress).vectors
    k = len(q.labels)
    y = _labels.target_array([targets[i] for i in ids], k, multilabel)
    if req.learner not in LEARNERS:
        raise SchemaError(f"unknown learner {req.learner!r}; pick one of {', '.join(LEARNERS)}")
    test = None
    dropped = 0
    test_texts: list[str] = []
    if req.test_file is not None:
        X_test, y_test, dropped, test_texts = _test_set(store, task, q, embedder, req)
        test = (X_test, y_test)
    factory, features = None, None
    if req.learner == "setfit":
        factory, features = _setfit(store, ids, test_texts, multilabel)
    result = simulate(
        X,
        y,
        test=test,
        strategies=req.strategies,
        seed_size=req.seed_size,
        step=req.step,
        budget=req.budget,
        repeats=req.repeats,
        seed=req.seed,
        n_classes=k,
        with_llm=_llm_labels(store, q, ids) if req.with_llm else None,
        weak_votes=_weak_votes(store, task, q.name, ids, req.seed) if req.with_weak else None,
        semi_supervised=req.semi_supervised,
        model_factory=factory,
        features=features,
        progress=progress,
    )
    out.mkdir(parents=True, exist_ok=True)
    result.write_csv(out / "curves.csv")
    extras = [n for n, on in (("weak", req.with_weak), ("LLM", req.with_llm),
                              ("semi-supervised", req.semi_supervised)) if on]  # fmt: skip
    title = f"{task.name}: {q.name}" + (f" (+ {', '.join(extras)} labels)" if extras else "")
    if req.learner != "logistic":
        title += f", {req.learner}"
    result.plot(out / "curves.png", title=title)
    summary = result.summary()
    summary["test"] = str(req.test_file) if req.test_file else "held out from the pool"
    summary["test_records_dropped_as_in_project"] = dropped
    summary["learner"] = req.learner
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def _test_set(
    store: Store,
    task: Task,
    q: Labelled,
    embedder: Embedder,
    req: SimulationRequest,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[Any], int, list[str]]:
    """Vectors, class targets and texts of the test file (rows also in the project dropped)
    and how many rows were dropped."""
    assert req.test_file is not None
    options = req.test_options or ImportOptions()
    items = read_items(task, req.test_file, options)
    index = {label: i for i, label in enumerate(q.labels)}
    values: list[Any] = []
    missing: list[int] = []
    for item in items:
        found = [lab.value for lab in item.labels if lab.question == q.name]
        if not found:
            missing.append(item.line)
        values.append(found[0] if found else None)
    if missing:
        where = ", ".join(map(str, missing[:5])) + (" ..." if len(missing) > 5 else "")
        raise SchemaError(
            f"--test-file {req.test_file}: {len(missing)} row(s) have no label for question "
            f"{q.name!r} (line(s) {where}); every test record needs one: pass --label-field"
        )
    hashes = [content_hash(item.fields) for item in items]
    with store.read() as tx:
        inside = tx.existing_hashes(hashes)
    seen = set(inside)  # rows also in the project, then rows already kept: dropped
    keep = []
    for i, h in enumerate(hashes):
        if h not in seen:
            seen.add(h)
            keep.append(i)
    if not keep:
        raise SchemaError(f"--test-file {req.test_file}: no record outside the project")
    multilabel = q.many_labels

    def target(value: Any) -> Any:
        if multilabel:
            names = value if isinstance(value, list) else [value]
            return frozenset(index[v] for v in names if v in index)
        return index[value]

    y = _labels.target_array([target(values[i]) for i in keep], len(q.labels), multilabel)
    texts = [record_text(Record(fields=items[i].fields)) for i in keep]
    _, vectors = encode_outside(store, embedder, texts)
    return vectors, y, len(items) - len(keep), texts


def _setfit(
    store: Store, ids: list[int], test_texts: list[str], multilabel: bool
) -> tuple[Any, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64] | None]]:
    """A SetFit model factory over the pool's texts then the test texts, and the row indices
    the models read (the embeddings stay the strategies' geometry)."""
    if multilabel:
        raise SchemaError("--learner setfit is single-label only")
    with store.read() as tx:
        by_id = {r.id: record_text(r) for r in tx.get_records(ids)}
    texts = [by_id[i] for i in ids]
    n = len(texts)
    factory = SetFitClassifier.for_texts(texts + test_texts)
    rows = np.arange(n, dtype=np.int64)
    test_rows = np.arange(n, n + len(test_texts), dtype=np.int64) if test_texts else None
    return factory, (rows, test_rows)


def _weak_votes(
    store: Store, task: Task, question: str, ids: list[int], seed: int
) -> tuple[sp.csr_matrix, Any]:
    """The replayed records' LF votes (``label + 1``, 0 = abstain) and a label-model factory."""
    data = load_label_matrix(store, task, question)
    if not data.lfs:
        raise SchemaError(
            "--with-weak needs LF votes and none are stored: run `goldsmith lf apply` first"
        )
    position = {int(rid): i for i, rid in enumerate(data.record_ids)}
    blank = data.L.shape[0]  # an appended empty row: records no LF voted on
    rows = np.array([position.get(rid, blank) for rid in ids], dtype=np.int64)
    padded = sp.vstack([data.L, sp.csr_matrix((1, data.L.shape[1]), dtype=data.L.dtype)])
    L = sp.csr_matrix(padded.tocsr()[rows])
    return L, lambda k: make_model("label-model", k, seed=seed)


def _llm_labels(
    store: Store, q: Labelled, ids: list[int]
) -> tuple[list[int], list[int], list[float]]:
    """The LLM's suggestions on the replayed records: (row, class index, confidence)."""
    if q.many_labels:
        raise SchemaError("--with-llm is single-label only in the simulator")
    row = {rid: i for i, rid in enumerate(ids)}
    with store.read() as tx:
        found = tx.suggestions_for(list(ids))
    triples = [
        (row[s.record_id], q.labels.index(s.value), 1.0 if s.score is None else float(s.score))
        for s in found
        if s.question == q.name
        and s.agent.startswith("llm:")
        and isinstance(s.value, str)
        and s.value in q.labels
    ]
    if not triples:
        raise SchemaError(
            f"--with-llm: no LLM suggestions on question {q.name!r} among the labeled "
            "records; run `goldsmith prelabel --with llm` first"
        )
    return [t[0] for t in triples], [t[1] for t in triples], [t[2] for t in triples]

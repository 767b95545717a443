"""LLM prelabeling of a project: few-shot by similarity, calibrated against gold, routed.

:func:`prelabel_with_llm`

1. picks the records to label: those without a gold, human or consensus label, in queue
   order (at most ``limit``);
2. adds up to ``calibrate_on`` gold records, which the LLM labels too (never shown its own
   label: a record is never its own few-shot example);
3. chooses each record's few-shot examples among the labeled records, by cosine similarity
   of the project's embeddings;
4. asks the LLM through :func:`~goldsmith.llm.batch.prelabel_records` (cache, budget,
   retries and resumption are the client's);
5. calibrates the raw confidences against the gold answers with isotonic regression and
   reports the expected calibration error before and after (cross-fitted on two halves, so
   the "after" figure is measured on answers the calibrator did not see);
6. stores the suggestions (agent ``llm:<model>``, score = calibrated confidence) and routes:
   at or above ``threshold`` the answer becomes a final label with provenance ``llm``; below
   it the record moves to the front of the annotation queue, least confident first.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from goldsmith.errors import SchemaError
from goldsmith.labels import labeled_targets
from goldsmith.llm.batch import prelabel_records
from goldsmith.llm.client import LLMClient
from goldsmith.llm.prompt import Example
from goldsmith.models.calibrate import IsotonicCalibrator, expected_calibration_error
from goldsmith.models.embed import Embedder
from goldsmith.models.vectors import embed_records
from goldsmith.prelabel.options import LLMPrelabelOptions
from goldsmith.progress import SILENT, Progress
from goldsmith.schema import (
    FinalLabel,
    Provenance,
    Question,
    Record,
    Suggestion,
    SuggestionKind,
    Task,
)
from goldsmith.store import Store
from goldsmith.store.queue import LLM_FRONT

MIN_CALIBRATION = 10
"""Gold answers needed before confidences are calibrated (fewer: raw confidences)."""


@dataclass(frozen=True, slots=True)
class LLMPrelabelReport:
    """What :func:`prelabel_with_llm` did."""

    question: str
    model: str
    n_sent: int  # records asked (gold for calibration included)
    n_ok: int
    n_failed: int
    n_not_sent: int  # skipped because the budget or the endpoint gave out
    tokens: int
    stopped: str | None
    n_calibration: int  # gold answers the calibration used
    gold_accuracy: float | None
    ece_raw: float | None
    ece_calibrated: float | None
    n_suggestions: int
    n_final: int  # answers at or above the threshold: final labels with provenance llm
    n_to_humans: int  # answers below it: moved to the front of the queue

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def prelabel_with_llm(
    store: Store,
    task: Task,
    client: LLMClient,
    embedder: Embedder,
    options: LLMPrelabelOptions | None = None,
    *,
    progress: Progress = SILENT,
) -> LLMPrelabelReport:
    """Prelabel unlabeled records with the LLM, calibrate on gold, and route by confidence.

    Parameters
    ----------
    store, task
        The project's store and task.
    client
        An :class:`~goldsmith.llm.client.LLMClient` (its config holds the model, endpoint,
        token budget and concurrency; its cache makes a rerun free).
    embedder
        The project's embedder, for choosing few-shot examples by similarity.
    options
        What to ask and how to route (:class:`~goldsmith.prelabel.options.LLMPrelabelOptions`;
        its defaults when None).
    progress
        Advanced once per record.
    """
    opts = options or LLMPrelabelOptions()
    question, limit, calibrate_on = opts.question, opts.limit, opts.calibrate_on
    shots, threshold, redact, seed = opts.shots, opts.threshold, opts.redact, opts.seed
    q = task.question(question)
    if not q.classifies():  # one of its labels per record
        raise SchemaError(f"LLM prelabeling with routing needs a label question; {q.name!r} is not")
    targets = labeled_targets(store, task, q.name)
    with store.read() as tx:
        gold = {r: v for r, v in tx.final_values(q.name, [str(Provenance.GOLD)]) if r in targets}
        _, guidelines = tx.guideline() if tx.latest_guideline_version() else (None, "")
    embedded = embed_records(store, embedder, progress=progress)
    ids = embedded.record_ids
    with store.read() as tx:
        ranks = tx.queue_ranks(ids.tolist())
    todo = sorted((int(r) for r in ids if int(r) not in targets), key=lambda r: (ranks[r], r))
    todo = todo[:limit] if limit is not None else todo
    rng = np.random.default_rng(seed)
    gold_ids = sorted(gold)
    cal = sorted(rng.permutation(gold_ids)[:calibrate_on].tolist()) if gold_ids else []
    with store.read() as tx:
        records = tx.get_records([*cal, *todo])
        labeled_records = {r.id: r for r in tx.get_records(sorted(targets)) if r.id is not None}

    examples_for = _nearest_examples(
        ids, embedded.vectors, targets, labeled_records, q, shots=shots
    )
    run = prelabel_records(
        client,
        task,
        guidelines,
        records,
        questions=[q.name],
        examples_for=examples_for,
        redact=redact,
        progress=progress,
    )
    answers = {
        r.record_id: (r.values[q.name], r.confidence.get(q.name))
        for r in run.results
        if r.status == "ok" and r.record_id is not None and q.name in r.values
    }
    cal_set = set(cal)
    conf = np.array([_conf(answers[r][1]) for r in cal if r in answers])
    right = np.array([answers[r][0] == gold[r] for r in cal if r in answers], dtype=float)
    calibrator, ece_raw, ece_cal = _calibrate(conf, right, seed)

    suggestions: list[Suggestion] = []
    finals: list[FinalLabel] = []
    doubtful: list[tuple[int, float]] = []
    for rid, (value, raw) in answers.items():
        if rid in cal_set:
            continue
        score = _conf(raw)
        if calibrator is not None:
            score = float(calibrator.predict(np.array([score]))[0])
        suggestions.append(Suggestion(rid, q.name, value, run.agent, SuggestionKind.LLM, score))
        if score >= threshold:
            finals.append(FinalLabel(rid, q.name, value, Provenance.LLM, score))
        else:
            doubtful.append((rid, score))
    # the least confident first, ahead of every record the strategies ranked
    front = [(rid, LLM_FRONT + s) for rid, s in doubtful]
    with store.write() as tx:
        tx.delete_suggestions(q.name, agent_prefix=run.agent, record_ids=list(answers))
        tx.add_suggestions(suggestions)
        tx.set_final_labels(finals)
        tx.set_queue_ranks(front)
    return LLMPrelabelReport(
        question=q.name,
        model=run.model,
        n_sent=len(records),
        n_ok=run.count("ok"),
        n_failed=run.count("failed"),
        n_not_sent=run.count("not_sent"),
        tokens=run.tokens,
        stopped=run.stopped,
        n_calibration=len(conf),
        gold_accuracy=float(right.mean()) if right.size else None,
        ece_raw=ece_raw,
        ece_calibrated=ece_cal,
        n_suggestions=len(suggestions),
        n_final=len(finals),
        n_to_humans=len(doubtful),
    )


def _conf(value: float | None) -> float:
    return 0.0 if value is None else min(max(float(value), 0.0), 1.0)


def _calibrate(
    conf: npt.NDArray[np.float64], right: npt.NDArray[np.float64], seed: int
) -> tuple[IsotonicCalibrator | None, float | None, float | None]:
    """Isotonic calibrator on every gold answer; ECE raw and cross-fitted over two halves."""
    if conf.size < MIN_CALIBRATION:
        return None, None, None
    raw = expected_calibration_error(conf, right)
    halves = np.array_split(np.random.default_rng(seed).permutation(conf.size), 2)
    fitted = np.empty_like(conf)
    for held, train in ((halves[0], halves[1]), (halves[1], halves[0])):
        fitted[held] = IsotonicCalibrator().fit(conf[train], right[train]).predict(conf[held])
    return IsotonicCalibrator().fit(conf, right), raw, expected_calibration_error(fitted, right)


def _nearest_examples(
    ids: npt.NDArray[np.int64],
    vectors: npt.NDArray[np.float32],
    targets: dict[int, Any],
    labeled: dict[int, Record],
    q: Question,
    *,
    shots: int,
) -> Any:
    """``record -> examples``: the ``shots`` labeled records most similar to it (cosine),
    never the record itself."""
    row = {int(r): i for i, r in enumerate(ids.tolist())}
    pool = [r for r in sorted(targets) if r in row and r in labeled]
    if not pool or shots <= 0:
        return None
    P = vectors[[row[r] for r in pool]].astype(np.float32)
    P /= np.maximum(np.linalg.norm(P, axis=1, keepdims=True), 1e-12)

    def examples(record: Record) -> list[Example]:
        if record.id is None or record.id not in row:
            return []
        v = vectors[row[record.id]].astype(np.float32)
        sims = P @ (v / max(float(np.linalg.norm(v)), 1e-12))
        out: list[Example] = []
        for j in np.argsort(-sims, kind="stable").tolist():
            if pool[j] == record.id:
                continue
            out.append((labeled[pool[j]], {q.name: q.class_names()[targets[pool[j]]]}))
            if len(out) == shots:
                break
        return out

    return examples

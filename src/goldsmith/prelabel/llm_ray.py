"""LLM prelabeling on Ray: the requests go out from Ray workers, the store is written once.

:func:`prelabel_with_llm_ray` runs in three passes, so that everything the local engine
decides (which records, their few-shot examples, calibration, routing) is decided by the
local code itself, and only the paid, slow part (asking the endpoint) is spread out:

1. **Plan.** :func:`~goldsmith.prelabel.llm_store.prelabel_with_llm` runs with a client that
   records each request instead of sending it (it answers "not sent", so the store is left
   as it was). These are exactly the requests the local engine would send.
2. **Ask, on Ray.** The requests are written as Parquet partitions (``index``,
   ``record_id``, ``request``) into a job folder keyed by the requests and the answer-shaping
   settings of the config. One Ray task per partition runs the ordinary client
   (:func:`~goldsmith.llm.batch.answer_many`: retries, re-asks, confidence, and
   ``config.concurrency`` requests in flight *per worker*).
3. **Replay.** ``prelabel_with_llm`` runs again with a normal client and a token budget of
   0: every answer comes from the cache (nothing more is paid), and the suggestions,
   calibration and routing are written by the local code, so they equal the local engine's.

**Why one ledger actor owns the cache and the budget.** The SQLite cache and the token budget
must stay one per run whatever the number of workers. Workers on other machines may not see
the project's cache file, and SQLite's file locks are not to be trusted on network file
systems; a budget split into per-partition slices would either strand tokens or overspend.
So a single Ray actor, started beside the driver, opens the project's cache file and holds
the budget: a worker's client asks it for each cache lookup, stores each paid answer through
it (committed at once, as locally) and checks and spends the budget through it, exactly as
the local client's threads share a :class:`~goldsmith.llm.client.TokenBudget`. The actor
serialises these calls; each is a SQLite point lookup or insert, microseconds beside an LLM
call. A retried task finds its paid answers in the cache and pays nothing twice.

**Resume.** A partition whose every request got a final answer (``ok``, or a failure no
retry can fix) writes its result file, the done marker. A rerun skips those partitions; the
others (killed, or cut short by the budget or by endpoint failures) run again, their cached
answers free.
"""

from __future__ import annotations

import json
import logging
import pickle
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from goldsmith._lazy import lazy_module
from goldsmith.llm.batch import answer_many
from goldsmith.llm.cache import LLMCache, canonical_json
from goldsmith.llm.client import LLMClient, LLMConfig, LLMResult, TokenBudget
from goldsmith.llm.prompt import ChatRequest
from goldsmith.llm.structured import AnswerFormat
from goldsmith.models.embed import Embedder
from goldsmith.prelabel.llm_store import LLMPrelabelReport, prelabel_with_llm
from goldsmith.prelabel.options import LLMPrelabelOptions
from goldsmith.progress import SILENT, Progress
from goldsmith.ray_jobs import (
    MAX_RETRIES,
    Job,
    cluster,
    commit_file,
    digest,
    import_ray,
    run_partitions,
)
from goldsmith.schema import Task
from goldsmith.store import Store

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq
else:
    pa = lazy_module("pyarrow")
    pq = lazy_module("pyarrow.parquet")

ROWS_PER_FILE = 200
"""Requests per partition (one Ray task)."""
_ANSWER_SETTINGS = (
    "model",
    "temperature",
    "max_tokens",
    "max_reasks",
    "response_format",
    "confidence",
    "top_logprobs",
    "samples",
    "sample_temperature",
)
"""The config fields that shape the answers, and so key the job folder."""


def prelabel_with_llm_ray(
    store: Store,
    task: Task,
    config: LLMConfig,
    embedder: Embedder,
    *,
    cache: str | Path,
    jobs_dir: str | Path,
    options: LLMPrelabelOptions | None = None,
    rows_per_file: int = ROWS_PER_FILE,
    address: str | None = None,
    num_cpus: int | None = None,
    max_retries: int = MAX_RETRIES,
    progress: Progress = SILENT,
) -> LLMPrelabelReport:
    """:func:`~goldsmith.prelabel.llm_store.prelabel_with_llm` with the requests on Ray.

    Parameters
    ----------
    store, task, config, embedder, options
        As for ``prelabel_with_llm`` (the config's ``concurrency`` is per Ray worker, its
        ``token_budget`` for the whole run).
    cache
        The project's LLM cache file, shared through the ledger actor (see the module).
    jobs_dir
        Folder of resumable jobs (a project's ``.goldsmith/jobs``).
    rows_per_file
        Requests per partition.
    address, num_cpus, max_retries
        The Ray cluster and the retries of a failed task.
    progress
        Advanced per finished partition, by its requests.

    Returns
    -------
    LLMPrelabelReport
        The local engine's report; ``tokens`` are those paid by the Ray workers and the
        counts of ok, failed and not sent are theirs.
    """
    import_ray()
    planner = _Planner(config)
    with planner:
        prelabel_with_llm(store, task, planner, embedder, options)
    requests = [planner.requests[i] for i in range(len(planner.requests))]

    settings = {name: getattr(config, name) for name in _ANSWER_SETTINGS}
    bodies = [canonical_json([r.messages, r.response_format, r.record_id]) for r in requests]
    job = Job(jobs_dir, "llm", digest(settings, rows_per_file, *bodies), "json")

    def write(folder: Path) -> list[Path]:
        out = []
        for n, start in enumerate(range(0, len(requests), rows_per_file)):
            part = requests[start : start + rows_per_file]
            table = pa.table(
                {
                    "index": pa.array(range(start, start + len(part)), pa.int64()),
                    "record_id": pa.array([r.record_id for r in part], pa.int64()),
                    "request": pa.array([_pack(r) for r in part], pa.binary()),
                }
            )
            out.append(folder / f"part-{n:05d}.parquet")
            pq.write_table(table, out[-1])
        return out

    statuses: Counter[str] = Counter()
    tokens, stopped = 0, None

    def collect(part: Path, value: Any) -> int:
        nonlocal tokens, stopped
        summary = value if value is not None else json.loads(job.result_path(part).read_text())
        statuses.update(summary["statuses"])
        tokens += summary["tokens"]
        stopped = stopped or summary["stopped"]
        return sum(summary["statuses"].values())

    parts = job.write_inputs(write)
    if requests:
        with cluster(address, num_cpus) as ray:
            ledger = ray.remote(num_cpus=0)(_Ledger).remote(str(cache), config.token_budget)
            run_partitions(
                ray,
                _ask_partition,
                job,
                parts,
                (config, ledger),
                collect,
                description=f"asking {config.model} on Ray",
                total=len(requests),
                progress=progress,
                max_retries=max_retries,
            )
            exhausted = not ray.get(ledger.allows.remote()) and statuses["not_sent"] > 0
            ray.get(ledger.close.remote())
        if exhausted:
            stopped = (
                f"the token budget of {config.token_budget} is spent and "
                f"{statuses['not_sent']} request(s) were not sent; answers so far are cached: "
                "raise the budget and run again to finish"
            )
    if all(job.done(part) for part in parts):
        job.remove()  # every request answered for good: nothing left to resume

    replay = config.model_copy(update={"token_budget": 0})
    quiet = logging.getLogger("goldsmith.llm.client")  # its "budget of 0" would mislead
    level, quiet.disabled = quiet.disabled, True
    try:
        with LLMClient(replay, cache=cache) as client:
            report = prelabel_with_llm(store, task, client, embedder, options)
    finally:
        quiet.disabled = level
    return replace(
        report,
        n_ok=statuses["ok"],
        n_failed=statuses["failed"],
        n_not_sent=statuses["not_sent"],
        tokens=tokens,
        stopped=stopped,
    )


class _Planner(LLMClient):
    """A client that records each request (by its index in the run) and sends nothing."""

    def __init__(self, config: LLMConfig) -> None:
        super().__init__(config, cache=None)
        self.requests: dict[int, ChatRequest] = {}

    def answer(
        self, request: ChatRequest, *, index: int = 0, budget: TokenBudget | None = None
    ) -> LLMResult:
        self.requests[index] = request
        return LLMResult(index, request.record_id, "not_sent", {}, {})


class _Ledger:
    """The Ray actor that owns a run's LLM cache file and its token budget."""

    def __init__(self, cache: str, limit: int | None) -> None:
        self.cache = LLMCache(cache)
        self.budget = TokenBudget(limit)

    def get(self, key: str) -> dict[str, Any] | None:
        return self.cache.get(key)

    def put(self, key: str, model: str, response: dict[str, Any]) -> None:
        self.cache.put(key, model, response)

    def allows(self) -> bool:
        return self.budget.allows()

    def spend(self, tokens: int) -> None:
        self.budget.spend(tokens)

    def close(self) -> None:
        self.cache.close()


class _LedgerCache(LLMCache):
    """A worker's view of the ledger's cache (same interface as :class:`LLMCache`)."""

    def __init__(self, ledger: Any) -> None:  # no file of its own: the ledger has it
        self.path = Path("ray-ledger")
        self._ledger = ledger

    def get(self, key: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = import_ray().get(self._ledger.get.remote(key))
        return found

    def put(self, key: str, model: str, response: Any) -> None:
        import_ray().get(self._ledger.put.remote(key, model, dict(response)))

    def close(self) -> None:
        pass


class _LedgerBudget(TokenBudget):
    """A worker's view of the ledger's token budget."""

    def __init__(self, ledger: Any) -> None:
        super().__init__(None)
        self._ledger = ledger

    def allows(self) -> bool:
        return bool(import_ray().get(self._ledger.allows.remote()))

    def spend(self, tokens: int) -> None:
        import_ray().get(self._ledger.spend.remote(tokens))


class _WorkerClient(LLMClient):
    """The ordinary client, with the ledger's cache and budget in place of its own."""

    def __init__(self, config: LLMConfig, ledger: Any) -> None:
        super().__init__(config, cache=_LedgerCache(ledger))
        self._shared = _LedgerBudget(ledger)

    def answer(
        self, request: ChatRequest, *, index: int = 0, budget: TokenBudget | None = None
    ) -> LLMResult:
        return super().answer(request, index=index, budget=self._shared)


def _ask_partition(path: str, out: str, config: LLMConfig, ledger: Any) -> dict[str, Any]:
    """One Ray task: answer a partition's requests with bounded concurrency. Writes its
    summary (the done marker) only when every request got a final answer."""
    table = pq.read_table(path, columns=["request"])
    requests = [_unpack(b) for b in table.column("request").to_pylist()]
    with _WorkerClient(config, ledger) as client:
        run = answer_many(client, requests)
    summary = {
        "statuses": dict(Counter(r.status for r in run.results)),
        "tokens": sum(r.tokens for r in run.results),
        "stopped": run.stopped,
    }
    if all(r.status == "ok" or (r.status == "failed" and not r.transient) for r in run.results):
        commit_file(Path(out), lambda tmp: tmp.write_text(json.dumps(summary), "utf-8"))
    return summary


def _pack(request: ChatRequest) -> bytes:
    """A request as bytes: its answer format travels as its questions (the validator is a
    class built at run time, which pickle cannot name) and is rebuilt by :func:`_unpack`."""
    answer = (request.answer.questions, request.answer.name)
    fields = dict(request.fields)
    return pickle.dumps(
        (request.messages, request.response_format, answer, fields, request.record_id)
    )


def _unpack(blob: bytes) -> ChatRequest:
    messages, response_format, (questions, name), fields, record_id = pickle.loads(blob)
    return ChatRequest(messages, response_format, AnswerFormat(questions, name), fields, record_id)

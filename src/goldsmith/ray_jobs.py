"""What every Ray job of goldsmith shares: the cluster, shipping code, and resumable partitions.

A job (LF application, embedding, classifier scoring, LLM prelabeling) cuts its input into
partitions and runs one Ray task per partition. :class:`Job` keeps a resumable job in a
folder named after its inputs (``<jobs>/<kind>-<digest>/``)::

    inputs.done                 the partitions below are complete (written last)
    part-00000.parquet          one partition of the input
    part-00000.result.<ext>     its result; written to a temporary name and renamed, so the
                                file existing *is* the partition's done marker

A rerun of the same inputs finds the folder and runs only the partitions without a result;
:func:`run_partitions` also hands each result to the driver the moment its task finishes,
so the store holds every finished partition even when a later task fails. A task whose
worker dies, or which raises, is retried by Ray (``max_retries``) before the job fails.

Needs the ``ray`` extra (``pip install 'goldsmith[ray]'``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from goldsmith._lazy import optional
from goldsmith.errors import SchemaError
from goldsmith.progress import SILENT, Progress

JOBS_DIR = Path(".goldsmith") / "jobs"
"""Where a project keeps its resumable Ray jobs, relative to the project folder."""
MAX_RETRIES = 2
"""Ray retries of a failed task (a dead worker or an exception) before the job fails."""


def use_ray(engine: str) -> bool:
    """Whether ``engine`` (``local`` or ``ray``) is Ray; another name is a SchemaError."""
    if engine not in ("local", "ray"):
        raise SchemaError(f"engine must be 'local' or 'ray', got {engine!r}")
    return engine == "ray"


def import_ray() -> Any:
    """The ``ray`` module, or :class:`~goldsmith.errors.MissingExtraError` naming the extra."""
    return optional("ray", "ray")


@contextmanager
def cluster(address: str | None = None, num_cpus: int | None = None) -> Iterator[Any]:
    """Yield ``ray`` connected: to the running Ray, else to ``address``, else to a new local
    cluster of ``num_cpus`` CPUs (default: the CPU count). Disconnects (and stops a local
    cluster) only when this call connected."""
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    usage = os.environ.get("RAY_USAGE_STATS_ENABLED")
    os.environ["RAY_USAGE_STATS_ENABLED"] = usage or "0"  # no usage report to Anyscale
    try:
        if address is None:
            ray.init(
                num_cpus=num_cpus or os.cpu_count() or 1,
                include_dashboard=False,
                configure_logging=False,
            )
        else:
            ray.init(address=address, configure_logging=False)
    finally:
        if usage is None:
            del os.environ["RAY_USAGE_STATS_ENABLED"]
    try:
        yield ray
    finally:
        ray.shutdown()


def by_value_modules(objects: Sequence[Any]) -> list[ModuleType]:
    """Modules that Ray workers may not import by name (a test module, an ``lfs.py`` read
    from a path) defining ``objects`` (functions, or instances of their classes): pickled by
    value, with the helpers and constants they use."""
    found: dict[str, ModuleType] = {}
    for obj in objects:
        name = getattr(obj, "__module__", None) or getattr(type(obj), "__module__", None)
        if not name or name in ("__main__", "builtins") or name.split(".")[0] == "goldsmith":
            continue
        module = sys.modules.get(name)
        installed = "site-packages" in str(getattr(module, "__file__", None) or "")
        if module is not None and not installed:  # installed packages: imported by name
            found[name] = module
    return list(found.values())


@contextmanager
def pickle_by_value(modules: list[ModuleType]) -> Iterator[None]:
    """Within the block, Ray pickles the functions and classes of ``modules`` by value."""
    from ray import cloudpickle as ray_cloudpickle

    cloudpickle: Any = ray_cloudpickle  # untyped module
    registered = []
    try:
        for module in modules:
            if module.__name__ not in cloudpickle.list_registry_pickle_by_value():
                cloudpickle.register_pickle_by_value(module)
                registered.append(module)
        yield
    finally:
        for module in registered:
            cloudpickle.unregister_pickle_by_value(module)


def digest(*parts: Any) -> str:
    """A short stable digest of JSON-able ``parts`` (bytes are hashed as they are)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else json.dumps(part, sort_keys=True).encode())
        h.update(b"\0")
    return h.hexdigest()[:20]


class Job:
    """A resumable job's folder: its input partitions and their results (see the module).

    Parameters
    ----------
    jobs_dir
        The folder of all jobs (a project's ``.goldsmith/jobs``).
    kind
        What the job does (``embed``, ``llm``, ...): the folder name's prefix.
    key
        The digest of the job's inputs (:func:`digest`): the same inputs, the same folder.
    result_ext
        The extension of the result files (``npy``, ``json``).
    """

    def __init__(self, jobs_dir: str | Path, kind: str, key: str, result_ext: str) -> None:
        self.root = Path(jobs_dir) / f"{kind}-{key}"
        self.result_ext = result_ext

    @property
    def ready(self) -> bool:
        """Whether the input partitions are all written (by this run or an earlier one)."""
        return (self.root / "inputs.done").exists()

    def write_inputs(self, write: Callable[[Path], list[Path]]) -> list[Path]:
        """Write the partitions with ``write(folder)`` (into a fresh folder), unless a
        complete earlier write exists; return them in order."""
        if not self.ready:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root.mkdir(parents=True)
            write(self.root)
            (self.root / "inputs.done").write_text("", encoding="utf-8")
        return self.partitions()

    def partitions(self) -> list[Path]:
        return sorted(self.root.glob("part-*.parquet"))

    def result_path(self, partition: Path) -> Path:
        return partition.with_suffix(f".result.{self.result_ext}")

    def done(self, partition: Path) -> bool:
        return self.result_path(partition).exists()

    def remove(self) -> None:
        """Delete the folder: the job is finished and its results are in the store."""
        shutil.rmtree(self.root, ignore_errors=True)


def commit_file(path: Path, write: Callable[[Path], object]) -> None:
    """``write`` to a temporary name beside ``path``, then rename: ``path`` appears whole
    or not at all (a worker killed mid-write leaves no half result)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, path)


def run_partitions(
    ray: Any,
    fn: Callable[..., Any],
    job: Job,
    partitions: Sequence[Path],
    args: Sequence[Any],
    on_done: Callable[[Path, Any], int],
    *,
    description: str,
    total: int | None = None,
    progress: Progress = SILENT,
    max_retries: int = MAX_RETRIES,
) -> int:
    """Run ``fn(partition, result_path, *args)`` as one Ray task per partition not done yet.

    ``on_done(partition, value)`` is called on the driver for each partition as it finishes
    (``value`` is what the task returned; None for a partition done by an earlier run) and
    returns how many items it covered, for the progress bar. When a task fails for good, the
    tasks still running are waited for (and their results handed over), then its error is
    raised: a rerun resumes from there. Returns the number of tasks run.
    """
    task = ray.remote(num_cpus=1, max_retries=max_retries, retry_exceptions=True)(fn)
    progress.start(description, total=total)
    try:
        pending: dict[Any, Path] = {}
        for part in partitions:
            if job.done(part):
                progress.advance(on_done(part, None))
            else:
                ref = task.remote(str(part), str(job.result_path(part)), *args)
                pending[ref] = part
        n_tasks = len(pending)
        error: BaseException | None = None
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            part = pending.pop(ready[0])
            try:
                value = ray.get(ready[0])
            except Exception as exc:  # a task that failed for good: keep the others' work
                error = error or exc
                continue
            progress.advance(on_done(part, value))
        if error is not None:
            raise error
        return n_tasks
    finally:
        progress.finish()

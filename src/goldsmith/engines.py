"""Where the heavy work of a project runs: in this process, or on Ray.

:func:`make_engine` turns the ``engine`` option (``local`` or ``ray``) into one object,
chosen once per call of :class:`~goldsmith.project.Project`, so the front never branches on
the engine's name. Both engines give the same results (the Ray tests compare them); Ray
runs resumable jobs under the project's ``.goldsmith/jobs``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from goldsmith.active.loop import Score
from goldsmith.llm.client import LLMClient, LLMConfig
from goldsmith.models.embed import Embedder
from goldsmith.models.vectors import EmbedSummary, ensure_embeddings
from goldsmith.models.vectors_ray import embed_records_ray, ray_scorer
from goldsmith.prelabel.llm_ray import prelabel_with_llm_ray
from goldsmith.prelabel.llm_store import LLMPrelabelReport, prelabel_with_llm
from goldsmith.prelabel.options import LLMPrelabelOptions
from goldsmith.progress import Progress
from goldsmith.ray_jobs import JOBS_DIR, use_ray
from goldsmith.schema import Task
from goldsmith.store import Store


class Engine(Protocol):
    """What a project runs on an engine."""

    @property
    def distributed(self) -> bool:
        """Whether the work leaves this process (then records are embedded up front)."""
        ...

    def embed(self, store: Store, embedder: Embedder, progress: Progress) -> EmbedSummary:
        """Embed every record not embedded yet with ``embedder`` (cached in the store)."""
        ...

    def scorer(self, store: Store) -> Score | None:
        """How the model in the loop scores every record (None: in this process)."""
        ...

    def prelabel_llm(
        self,
        store: Store,
        task: Task,
        config: LLMConfig,
        embedder: Embedder,
        options: LLMPrelabelOptions,
        *,
        cache: Path,
        progress: Progress,
    ) -> LLMPrelabelReport:
        """LLM prelabeling (see :mod:`goldsmith.prelabel.llm_store`)."""
        ...


@dataclass(frozen=True, slots=True)
class LocalEngine:
    """Everything in this process."""

    distributed: bool = False

    def embed(self, store: Store, embedder: Embedder, progress: Progress) -> EmbedSummary:
        return ensure_embeddings(store, embedder, progress=progress)

    def scorer(self, store: Store) -> Score | None:
        return None

    def prelabel_llm(
        self,
        store: Store,
        task: Task,
        config: LLMConfig,
        embedder: Embedder,
        options: LLMPrelabelOptions,
        *,
        cache: Path,
        progress: Progress,
    ) -> LLMPrelabelReport:
        with LLMClient(config, cache=cache) as client:
            return prelabel_with_llm(store, task, client, embedder, options, progress=progress)


@dataclass(frozen=True, slots=True)
class RayEngine:
    """Ray, local or at ``address``, with resumable jobs in ``jobs_dir``."""

    jobs_dir: Path
    address: str | None = None
    distributed: bool = True

    def embed(self, store: Store, embedder: Embedder, progress: Progress) -> EmbedSummary:
        return embed_records_ray(
            store, embedder, jobs_dir=self.jobs_dir, address=self.address, progress=progress
        )

    def scorer(self, store: Store) -> Score | None:
        return ray_scorer(store, self.jobs_dir, self.address)

    def prelabel_llm(
        self,
        store: Store,
        task: Task,
        config: LLMConfig,
        embedder: Embedder,
        options: LLMPrelabelOptions,
        *,
        cache: Path,
        progress: Progress,
    ) -> LLMPrelabelReport:
        return prelabel_with_llm_ray(
            store, task, config, embedder, cache=cache, jobs_dir=self.jobs_dir,
            options=options, address=self.address, progress=progress,
        )  # fmt: skip


def make_engine(name: str, root: Path, address: str | None = None) -> Engine:
    """The engine ``name`` (``local`` or ``ray``; another name is a SchemaError) of the
    project in ``root``; ``address`` is the Ray cluster's (a local one when None)."""
    if use_ray(name):
        return RayEngine(root / JOBS_DIR, address)
    return LocalEngine()

"""The weak-supervision half of :class:`goldsmith.project.Project`: labeling functions, their
report and the label model (mixed into ``Project``; each method delegates to
:mod:`goldsmith.weak`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from goldsmith._lazy import lazy_module
from goldsmith.progress import SILENT, Progress
from goldsmith.schema import Task
from goldsmith.store import Store

if TYPE_CHECKING:
    from goldsmith.weak import fit as _fit
    from goldsmith.weak import loader as _loader
    from goldsmith.weak import report as _report
    from goldsmith.weak import run as _weak
    from goldsmith.weak.fit import FitReport
    from goldsmith.weak.lf import LF
    from goldsmith.weak.run import ApplyReport
else:  # loaded when a method first needs them, so the CLI starts at once
    _fit = lazy_module("goldsmith.weak.fit")
    _report = lazy_module("goldsmith.weak.report")
    _weak = lazy_module("goldsmith.weak.run")
    _loader = lazy_module("goldsmith.weak.loader")


class WeakFront:
    """LFs and label models; needs ``store`` and ``task`` from the class it is mixed into."""

    store: Store

    @property
    def task(self) -> Task:
        raise NotImplementedError

    def apply_lfs(
        self,
        lfs: str | Path | Sequence[LF],
        *,
        question: str | None = None,
        workers: int | None = None,
        engine: str = "local",
        ray_address: str | None = None,
        progress: Progress = SILENT,
    ) -> ApplyReport:
        """Apply labeling functions (a file such as ``lfs.py``, or LF objects) incrementally:
        unchanged LFs run only on new records, changed ones on all."""
        found = _loader.load_lf_file(lfs) if isinstance(lfs, str | Path) else list(lfs)
        return _weak.apply_to_store(
            self.store,
            self.task,
            found,
            question=question,
            workers=workers,
            engine=engine,
            ray_address=ray_address,
            progress=progress,
        )

    def lf_report(self, question: str | None = None) -> dict[str, Any]:
        """Coverage, overlaps, conflicts, polarity and accuracy (vs gold and human labels)
        of every applied LF, plus totals, as JSON-ready data."""
        return _report.lf_report(self.store, self.task, question)

    def fit_label_model(
        self,
        model: str = "auto",
        *,
        question: str | None = None,
        threshold: float | None = None,
        seed: int = 0,
    ) -> FitReport:
        """Fit a label model on the applied LFs' votes; write its probabilistic labels as
        suggestions and, at or above ``threshold``, as final labels with provenance weak."""
        return _fit.fit_to_store(
            self.store, self.task, model=model, question=question, threshold=threshold, seed=seed
        )

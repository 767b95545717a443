"""``goldsmith demo``: the whole loop, as far as it has been built, on real data.

Today: create a project, set guidelines, import the medical abstracts with their labels as
one annotator's responses, resolve final labels, promote a stratified 10 % to gold, export
``openai-chat`` and ``parquet`` with 80/10/10 splits, validate, and summarise.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from goldsmith.errors import ConfigError
from goldsmith.export.options import ExportOptions
from goldsmith.ingest.options import ImportOptions, LabelsAs
from goldsmith.progress import SILENT, Progress
from goldsmith.project import Project

LABELS = ("neoplasms", "digestive", "nervous", "cardiovascular", "general")

GUIDELINES = """\
# Medical abstracts: condition category

Read the abstract and choose the **one** condition category it is mainly about.

| label | use it for |
|---|---|
| neoplasms | tumours, cancers, neoplastic growth and their treatment |
| digestive | diseases of the digestive system: liver, bowel, stomach, pancreas |
| nervous | diseases of the nervous system: brain, spinal cord, nerves, sleep |
| cardiovascular | heart and blood-vessel diseases, hypertension, stroke as vascular event |
| general | general pathological conditions that fit none of the above |

When two categories apply, pick the one the study's outcome measures are about.
"""


def run_demo(
    data: Path,
    *,
    workdir: Path | None = None,
    seed: int = 7,
    gold_fraction: float = 0.1,
    progress: Progress = SILENT,
    log: Callable[[str], Any] = lambda _msg: None,
) -> dict[str, Any]:
    """Run the demo on ``data`` (the medical abstracts CSV) and return a summary."""
    if not data.is_file():
        raise ConfigError(f"demo data not found: {data}; pass --data PATH to medical_tc_test.csv")
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="goldsmith-demo-"))
    started = time.perf_counter()
    project_dir = root / "clin"
    with Project.init(project_dir, name="clin", labels=LABELS) as project:
        log(f"[1/6] project created in {project_dir}")
        version = project.set_guidelines(GUIDELINES)
        log(f"[2/6] guidelines v{version} set")
        report = project.import_records(
            data,
            ImportOptions(
                text_field="medical_abstract",
                label_field="condition_label",
                labels_as=LabelsAs.RESPONSE,
                label_user="corpus-annotator",
            ),
            progress=progress,
        )
        log(
            f"[3/6] imported {report.n_inserted} abstracts "
            f"({report.n_duplicates} exact duplicates skipped, carrying "
            f"{report.n_duplicate_labels} labels that were not stored)"
        )
        resolved = project.resolve_final_labels()
        n_gold = project.mark_gold(gold_fraction, seed=seed)
        log(f"[4/6] {resolved} final labels resolved, {n_gold} promoted to gold")
        exports: dict[str, Any] = {}
        for fmt in ("openai-chat", "parquet"):
            out = root / "export" / fmt
            rep = project.export(
                ExportOptions(
                    fmt=fmt,
                    out=out,
                    split=(0.8, 0.1, 0.1),
                    seed=seed,
                    command=f"goldsmith demo --data {data} --seed {seed}",
                ),
                progress=progress,
            )
            exports[fmt] = {
                "folder": str(out),
                "files": {k: str(v) for k, v in rep.files.items()},
                "counts": rep.counts,
                "validated": rep.validated,
                "card": str(rep.card),
            }
        log(f"[5/6] exported openai-chat and parquet to {root / 'export'}")
        status = project.status()
        log("[6/6] done")
    return {
        "project": str(project_dir),
        "import": {
            "read": report.n_read,
            "inserted": report.n_inserted,
            "duplicates": report.n_duplicates,
        },
        "records": status["records"],
        "provenance": status["provenance"],
        "labels": status["labels"],
        "exports": exports,
        "seconds": round(time.perf_counter() - started, 2),
    }

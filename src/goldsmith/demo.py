"""``goldsmith demo``: the whole loop, as far as it has been built, on real data.

Today, on the medical abstracts: create a project and set guidelines; import the abstracts
with their corpus labels as suggestions of agent ``import`` (the answer key that the
simulated annotators replay); scan them for PII and group near duplicates; apply keyword
labeling functions and fit the label model (its labels become suggestions); embed the
records and let the model in the loop order the queue; serve the project and let simulated
annotators work the queue over the REST API with the SDK while the classifier retrains in
the background; resolve final labels and promote a stratified 10 % to gold; flag suspected
label errors with cleanlab and write the QA report; retrain, and simulate the default
strategy ``auto`` against random, scored on a held-out slice of the file that never enters the
project (20 %, stratified, drawn before anything else), with 95 % intervals over 5 repeats,
then again with weak labels from the LFs (a label model fitted inside the simulation on the
revealed labels only); export ``openai-chat`` and ``parquet`` with
80/10/10 splits and validate; train the classifier on the final labels and score it on
held-out gold, plus (with the ``train`` extra) a short LoRA SFT of a tiny base model scored
base against tuned; summarise.
"""

from __future__ import annotations

import csv
import random
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from goldsmith.client import Client
from goldsmith.errors import ConfigError
from goldsmith.export.options import ExportOptions
from goldsmith.ingest.options import ImportOptions, LabelsAs
from goldsmith.progress import SILENT, Progress
from goldsmith.project import Project
from goldsmith.schema import Role
from goldsmith.server import ServerSettings, create_app
from goldsmith.server.background import serving
from goldsmith.simulation import SimulationRequest
from goldsmith.train.extra import available as hf_available
from goldsmith.train.sft import LoraSettings
from goldsmith.train.tiny import build_tiny_model
from goldsmith.weak import LF, keyword_lf

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

KEYWORDS = {
    "neoplasms": ["tumor", "tumour", "cancer", "carcinoma", "lymphoma", "leukemia", "metastatic"],
    "digestive": ["liver", "hepatic", "bowel", "colon", "gastric", "pancreatitis", "cirrhosis"],
    "nervous": ["brain", "seizure", "epilepsy", "alzheimer", "parkinson", "dementia", "nerve"],
    "cardiovascular": ["cardiac", "coronary", "myocardial", "hypertension", "heart", "aortic"],
}
"""The demo's labeling functions: one keyword LF per condition category."""

HELD_OUT = 0.2
"""Share of the demo file held out (stratified by label) as the simulation's test slice."""

RETRAIN_EVERY = 500
"""Submitted answers between two background retrains while the demo annotators work."""


def demo_lfs() -> list[LF]:
    """One keyword LF per category of :data:`KEYWORDS`."""
    return [keyword_lf(label, words) for label, words in KEYWORDS.items()]


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
    pool_csv, held_csv = hold_out(data, root, share=HELD_OUT, seed=seed)
    with Project.init(project_dir, name="clin", labels=LABELS) as project:
        log(
            f"[1/10] project created in {project_dir}; {HELD_OUT:.0%} of {data.name} held out "
            f"as the test slice ({held_csv}), never imported"
        )
        version = project.set_guidelines(GUIDELINES)
        log(f"[2/10] guidelines v{version} set")
        report = project.import_records(
            pool_csv,
            ImportOptions(
                text_field="medical_abstract",
                label_field="condition_label",
                labels_as=LabelsAs.SUGGESTION,
            ),
            progress=progress,
        )
        log(
            f"[3/10] imported {report.n_inserted} abstracts with their labels as suggestions "
            f"({report.n_duplicates} exact duplicates skipped, carrying "
            f"{report.n_duplicate_labels} labels that were not stored)"
        )
        pii = project.pii_scan()
        near = project.dedup(near=0.8)
        hygiene = {
            "pii_findings": dict(pii.counts),
            "near_duplicate_records": len(near.groups),
            "near_duplicate_groups": len(set(near.groups.values())),
        }
        log(
            f"      PII scan: {pii.n_with_pii} of {pii.n_texts} abstracts with a finding "
            f"({', '.join(f'{k} {n}' for k, n in sorted(pii.counts.items())) or 'none'}); "
            f"{hygiene['near_duplicate_records']} abstracts in "
            f"{hygiene['near_duplicate_groups']} near-duplicate groups (kept in one split)"
        )
        applied = project.apply_lfs(demo_lfs(), progress=progress)
        fit = project.fit_label_model("label-model")
        totals = project.lf_report()["totals"]
        weak = {
            "lfs": len(applied.new_votes),
            "coverage": round(float(totals["coverage"]), 3),
            "suggestions": fit.n_suggestions,
        }
        log(
            f"[4/10] {weak['lfs']} keyword LFs cover {weak['coverage']:.0%} of the abstracts; "
            f"the label model suggested a label for {fit.n_suggestions}"
        )
        embedded = project.embed("tfidf", progress=progress)
        cold = project.retrain(progress=progress)
        log(
            f"[5/10] {embedded.n_records} abstracts embedded ({embedded.model_id}); "
            f"no labels yet, so the queue starts in {cold.strategy} order"
        )
        keys = [project.create_api_key(_add(project, f"annotator-{i}")) for i in range(3)]
    annotation = annotate_over_rest(
        project_dir, keys, progress=progress, retrain_every=RETRAIN_EVERY
    )
    log(
        f"[6/10] {annotation['annotators']} annotators submitted {annotation['submitted']} "
        f"responses through the server in {annotation['seconds']} s "
        f"({annotation['submits_per_second']} submits/s); the classifier retrained "
        f"{annotation['retrains']} times in the background"
    )
    with Project.open(project_dir) as project:
        resolved = project.resolve_final_labels()
        n_gold = project.mark_gold(gold_fraction, seed=seed)
        issues = project.label_issues(limit=50, seed=seed)
        qa_html = project.write_qa_report(root / "qa.html")
        log(
            f"[7/10] {resolved} final labels resolved, {n_gold} promoted to gold; cleanlab "
            f"flagged {len(issues)} suspected label errors for review; QA report in {qa_html}"
        )
        loop = project.retrain(seed=seed)
        request = SimulationRequest(
            strategies=("random", "auto"),
            seed_size=50,
            step=50,
            budget=500,
            repeats=5,
            seed=seed,
            test_file=held_csv,
            test_options=ImportOptions(
                text_field="medical_abstract", label_field="condition_label"
            ),
        )
        curves = project.simulate(root / "curves", request, progress=progress)
        weak_curves = project.simulate(
            root / "curves-weak", replace(request, with_weak=True), progress=progress
        )
        log(
            f"[8/10] learning curves on the {curves['test_size']} held-out abstracts "
            f"({curves['test_records_dropped_as_in_project']} held-out rows dropped: their text "
            f"is also in the project), pool {curves['pool_size']}, {request.repeats} "
            f"repeats, 95 % intervals, in {root / 'curves'}:"
        )
        for name, result in (("human labels", curves), ("+ weak labels", weak_curves)):
            log("       " + describe_curves(name, result))
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
        log(f"[9/10] exported openai-chat and parquet to {root / 'export'}")
        trained = train_and_evaluate(project, root / "models", seed=seed, progress=progress)
        clf = trained["classifier"]
        log(
            f"[10/10] classifier trained on {clf['n_train']} final labels, scored on "
            f"{clf['n_test']} held-out gold abstracts: macro-F1 {clf['macro_f1']:.3f} (majority "
            f"class {clf['majority_macro_f1']:.3f}); report in {clf['report']}"
        )
        if "sft" in trained:
            sft = trained["sft"]
            log(
                f"       tiny LoRA SFT ({sft['steps']} steps): accuracy on {sft['n']} held-out "
                f"gold base {sft['base_accuracy']:.3f} -> tuned {sft['tuned_accuracy']:.3f}"
            )
        else:
            log("       (pip install 'goldsmith[train]' adds a tiny LoRA SFT run here)")
        status = project.status()
    return {
        "project": str(project_dir),
        "import": {
            "read": report.n_read,
            "inserted": report.n_inserted,
            "duplicates": report.n_duplicates,
        },
        "hygiene": hygiene,
        "weak_supervision": weak,
        "quality": {
            "label_issues": len(issues),
            "report": str(qa_html),
        },
        "annotation": annotation,
        "active_learning": {
            "labels": loop.n_labeled,
            "suggestions": loop.n_suggestions,
            "kappa": loop.kappa,
            "curves": str(root / "curves"),
            "aulc_vs_random": {k: v["aulc_vs_random"] for k, v in curves["strategies"].items()},
            "full_f1": curves["full_f1"],
            "test_size": curves["test_size"],
            "labels_to_95": {k: v["labels_to_target"] for k, v in curves["strategies"].items()},
            "with_weak": {
                "aulc_vs_random": {
                    k: v["aulc_vs_random"] for k, v in weak_curves["strategies"].items()
                },
                "labels_to_95": {
                    k: v["labels_to_target"] for k, v in weak_curves["strategies"].items()
                },
            },
        },
        "records": status["records"],
        "provenance": status["provenance"],
        "labels": status["labels"],
        "exports": exports,
        "training": trained,
        "seconds": round(time.perf_counter() - started, 2),
    }


def hold_out(data: Path, root: Path, *, share: float, seed: int) -> tuple[Path, Path]:
    """Split the demo CSV by label into the project's part and a held-out test slice, written
    as ``pool.csv`` and ``held_out.csv`` under ``root``."""
    with data.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    if "condition_label" not in fields:
        raise ConfigError(f"{data}: no condition_label column; the demo expects medical_tc_test")
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_label.setdefault(row["condition_label"], []).append(i)
    held: set[int] = set()
    for members in by_label.values():
        held.update(rng.sample(members, round(share * len(members))))
    root.mkdir(parents=True, exist_ok=True)
    out = (root / "pool.csv", root / "held_out.csv")
    for path, keep in zip(out, (False, True), strict=True):
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            writer.writeheader()
            writer.writerows(r for i, r in enumerate(rows) if (i in held) == keep)
    return out


def describe_curves(name: str, summary: dict[str, Any]) -> str:
    """One line per simulation: auto against random with its interval, labels to 95 %."""
    auto, rand = summary["strategies"]["auto"], summary["strategies"]["random"]
    low, high = auto["aulc_vs_random_ci"]

    def need(row: dict[str, Any]) -> str:
        n = row["labels_to_target"]
        return "not within the budget" if n is None else f"{n}"

    return (
        f"{name}: auto's AULC {auto['aulc']:.3f} is {auto['aulc_vs_random']:.3f}x random's "
        f"(95 % CI {low:.3f}-{high:.3f}; smallest gap over budgets "
        f"{auto['min_diff_vs_random']:+.3f}); labels to 95 % of the all-labels macro-F1 "
        f"({summary['target_f1']:.3f}): auto {need(auto)}, random {need(rand)}"
    )


def train_and_evaluate(
    project: Project, out: Path, *, seed: int, progress: Progress = SILENT
) -> dict[str, Any]:
    """Train the classifier on the final labels and score it on held-out gold; with the
    ``train`` extra, also a short LoRA SFT of a tiny base model built from the abstracts."""
    manifest, report = project.train_classifier(out / "classifier", seed=seed, progress=progress)
    row = report.rows["classifier"]
    result: dict[str, Any] = {
        "classifier": {
            "n_train": manifest.data["n_train"],
            "n_test": report.n,
            "macro_f1": row["macro_f1"],
            "accuracy": row["accuracy"],
            "majority_macro_f1": report.rows["majority class"]["macro_f1"],
            "data_version": manifest.data["version"],
            "report": str(out / "classifier" / "eval" / "eval-test.html"),
        }
    }
    if not hf_available():
        return result
    texts = [str(r.fields.get("text", "")) for r in project.records(limit=2000)]
    base = build_tiny_model([*texts, *LABELS], out / "tiny-base", seed=seed)
    settings = LoraSettings(max_steps=30, batch_size=16, learning_rate=5e-3, max_length=256)
    sft = project.train_llm(out / "sft", base, settings=settings, progress=progress)
    evaluation, _ = project.evaluate(out / "sft", limit=40, max_new_tokens=8, progress=progress)
    result["sft"] = {
        "steps": sft.train_metrics["steps"],
        "n": evaluation.n,
        "base_accuracy": evaluation.rows["base"]["accuracy"],
        "tuned_accuracy": evaluation.rows["tuned"]["accuracy"],
        "report": str(out / "sft" / "eval" / "eval-test.html"),
    }
    return result


def _add(project: Project, name: str) -> str:
    project.add_user(name, Role.ANNOTATOR)
    return name


def annotate_over_rest(
    project_dir: Path, keys: list[str], *, progress: Progress = SILENT, retrain_every: int = 0
) -> dict[str, Any]:
    """Serve the project and let one simulated annotator per API key work the queue until it
    is empty, each submitting the corpus label (the suggestion of agent ``import``)."""
    lock = threading.Lock()
    submitted: list[int] = []
    errors: list[BaseException] = []

    def work(base_url: str, key: str) -> None:
        try:
            with Client(base_url, api_key=key) as client:
                item = client.next()
                while item is not None:  # accept the suggestion; the answer brings the next
                    values = {
                        s["question"]: s["value"]
                        for s in item["suggestions"]
                        if s["agent"].startswith("import")
                    }
                    rid = item["record"]["id"]
                    item = client.submit_and_next(rid, values, time_spent=0.0)
                    with lock:
                        submitted.append(rid)
                        progress.advance()
        except BaseException as exc:  # surfaced after the threads are joined
            errors.append(exc)

    with Project.open(project_dir) as project:
        total = project.status()["records"]["total"]
    app = create_app(ServerSettings(project_root=project_dir, retrain_every=retrain_every))
    started = time.perf_counter()
    progress.start("annotating over REST", total=total)
    with serving(app) as base_url:
        threads = [threading.Thread(target=work, args=(base_url, k)) for k in keys]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    retrains = app.state.retrainer.runs  # final: shutting down waited for a running one
    progress.finish()
    if errors:
        raise errors[0]
    seconds = time.perf_counter() - started
    return {
        "annotators": len(keys),
        "submitted": len(submitted),
        "distinct_records": len(set(submitted)),
        "seconds": round(seconds, 2),
        "submits_per_second": round(len(submitted) / seconds, 1),
        "retrains": retrains,
    }

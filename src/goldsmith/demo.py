"""``goldsmith demo``: the whole loop, as far as it has been built, on real data.

Today, on the medical abstracts: create a project (overlap 2, annotators paused below 0.7 on
gold) and set guidelines; import a stratified 10 % of the abstracts as gold and the rest with
their corpus labels as suggestions of agent ``import`` (the answer key); scan them for PII and
group near duplicates; apply keyword labeling functions and fit the label model (its labels
become suggestions); embed the records and let the model in the loop order the queue; open a
round with gold checks mixed in, serve the project and let three simulated annotators of
known, different accuracy (:data:`TEAM`: 0.95, 0.85 and a careless 0.6, their errors on
confusable categories) work the queue over the REST API with the SDK while the classifier
retrains in the background; close the round (Dawid-Skene consensus, review items, the careless
one paused by the pause rule), let a reviewer decide the top review item (feedback to the
annotators who got it wrong), compare the Dawid-Skene accuracy estimates with the simulated
annotators' true accuracies; flag suspected label errors with cleanlab; retrain, and simulate
the default
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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from goldsmith.client import Client
from goldsmith.config import template_task, write_config
from goldsmith.errors import ConfigError
from goldsmith.export.options import ExportOptions
from goldsmith.ingest.options import ImportOptions, LabelsAs, OnConflict
from goldsmith.progress import SILENT, Progress
from goldsmith.project import Project
from goldsmith.schema import Role, normalise_text
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

REVIEWER = "reviewer"
"""The demo's reviewer, who decides one review item."""

RETRAIN_EVERY = 500
"""Submitted answers between two background retrains while the demo annotators work."""

SETTINGS = {"overlap": 2, "pause_below": 0.7, "pause_min_gold": 50}
"""The demo task's ``[task.settings]``: two answers per record, and an annotator whose gold
accuracy is below 0.7 once they have answered 50 gold checks is paused. Fewer checks would
pause the 0.85 annotator by bad luck: after 5, about 3 runs in 10 would; after 50, about 1 in
200, while the 0.6 one is paused in all but about 1 in 5,000."""

GOLD_RATE = 0.1
"""The share of leases that are gold checks during the demo's round."""

CONFUSABLE = {
    "neoplasms": "digestive",  # tumours of the digestive tract
    "digestive": "neoplasms",
    "nervous": "cardiovascular",  # stroke: a vascular event in the brain
    "cardiovascular": "nervous",
    "general": "cardiovascular",
}
"""For each category, the one a simulated annotator most often mistakes it for."""


@dataclass(frozen=True)
class SimulatedAnnotator:
    """A demo annotator who gives the corpus label with probability ``accuracy``. A wrong
    answer is the :data:`CONFUSABLE` category 70 % of the time, else another wrong one.
    Answers are seeded by the annotator and the text: the same record, the same answer."""

    name: str
    accuracy: float

    def answer(self, truth: str, text: str, *, seed: int) -> str:
        """This annotator's answer to an abstract whose corpus label is ``truth``."""
        rng = random.Random(f"{seed}/{self.name}/{text}")
        if rng.random() < self.accuracy:
            return truth
        partner = CONFUSABLE[truth]
        if rng.random() < 0.7:
            return partner
        return rng.choice([lab for lab in LABELS if lab not in (truth, partner)])


TEAM = (
    SimulatedAnnotator("careful", 0.95),
    SimulatedAnnotator("steady", 0.85),
    SimulatedAnnotator("careless", 0.6),
)
"""The demo's annotators; the careless one falls below the pause threshold on gold."""


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
    rest_csv, gold_csv = hold_out(
        pool_csv, root, share=gold_fraction, seed=seed, names=("to_label.csv", "gold.csv")
    )
    truth = answer_key(gold_csv, rest_csv)
    with create_project(project_dir) as project:
        log(
            f"[1/10] project created in {project_dir} (overlap {SETTINGS['overlap']}; "
            f"annotators paused below {SETTINGS['pause_below']} on gold after "
            f"{SETTINGS['pause_min_gold']} gold checks); {HELD_OUT:.0%} of "
            f"{data.name} held out as the test slice ({held_csv}), never imported"
        )
        version = project.set_guidelines(GUIDELINES)
        log(f"[2/10] guidelines v{version} set")
        columns = ImportOptions(text_field="medical_abstract", label_field="condition_label")
        gold = project.import_records(
            gold_csv,
            replace(columns, labels_as=LabelsAs.GOLD, on_conflict=OnConflict.FIRST),
            progress=progress,
        )
        report = project.import_records(
            rest_csv, replace(columns, labels_as=LabelsAs.SUGGESTION), progress=progress
        )
        log(
            f"[3/10] imported {gold.n_inserted} abstracts as gold ({gold_fraction:.0%}, "
            f"stratified) and {report.n_inserted} with their labels as suggestions "
            f"({gold.n_duplicates + report.n_duplicates} exact duplicates skipped, carrying "
            f"{gold.n_duplicate_labels + report.n_duplicate_labels} labels that were not stored)"
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
        keys = {project.create_api_key(_add(project, a.name)): a for a in TEAM}
        _add(project, REVIEWER, Role.REVIEWER)
        opened = project.start_round(size=report.n_inserted, gold_rate=GOLD_RATE)
    annotation = annotate_over_rest(
        project_dir, keys, truth, seed=seed, progress=progress, retrain_every=RETRAIN_EVERY
    )
    log(
        f"[6/10] round {opened['number']} over {report.n_inserted} abstracts with the "
        f"{opened['honeypots']} gold ones mixed in as checks at {GOLD_RATE:.0%}: "
        f"{annotation['annotators']} annotators submitted {annotation['submitted']} responses "
        f"through the server in {annotation['seconds']} s ({annotation['submits_per_second']} "
        f"submits/s); the classifier retrained {annotation['retrains']} times in the background"
    )
    with Project.open(project_dir) as project:
        closed = project.close_round()
        qa = quality_summary(project, annotation["team"])
        decision = review_top_item(project, truth)
        issues = project.label_issues(limit=50, seed=seed)
        qa["review_items"] = len(project.reviews(limit=100_000))
        qa["decision"] = decision
        log(describe_quality(closed, qa, n_issues=len(issues)))
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
            "read": gold.n_read + report.n_read,
            "inserted": gold.n_inserted + report.n_inserted,
            "duplicates": gold.n_duplicates + report.n_duplicates,
            "gold": gold.n_inserted,
        },
        "hygiene": hygiene,
        "weak_supervision": weak,
        "quality": {
            **qa,
            "final_labels": closed["final_labels"],
            "label_issues": len(issues),
            "report": closed["report"],
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


def hold_out(
    data: Path,
    root: Path,
    *,
    share: float,
    seed: int,
    names: tuple[str, str] = ("pool.csv", "held_out.csv"),
) -> tuple[Path, Path]:
    """Split the demo CSV by label into the project's part and a held-out ``share``, written
    under ``root`` as ``names`` (by default ``pool.csv`` and ``held_out.csv``)."""
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
    out = (root / names[0], root / names[1])
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


def _add(project: Project, name: str, role: Role = Role.ANNOTATOR) -> str:
    project.add_user(name, role)
    return name


def create_project(root: Path) -> Project:
    """The demo project: the classification template over :data:`LABELS` with
    :data:`SETTINGS` (overlap 2, the pause rule)."""
    root.mkdir(parents=True, exist_ok=True)
    task = template_task("clin", "classification", list(LABELS))
    write_config(root, {**task, "settings": dict(SETTINGS)})
    return Project.open(root)


def answer_key(*files: Path) -> dict[str, str]:
    """The corpus label of each abstract, by its normalised text (the first row wins, as
    the import keeps the first of exact duplicates): what the simulated annotators know.
    The file's labels are codes 1-5, positions in :data:`LABELS`, as the import reads them."""
    key: dict[str, str] = {}
    for path in files:
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                code = row["condition_label"].strip()
                label = LABELS[int(code) - 1] if code.isdigit() else code
                key.setdefault(normalise_text(row["medical_abstract"]), label)
    return key


def quality_summary(project: Project, team: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The closed round's agreement and, per simulated annotator, the true accuracy beside
    the Dawid-Skene estimate, the gold accuracy and whether the pause rule paused them."""
    report = project.qa_report()
    scores = {a["name"]: a for a in project.annotator_scores(report)}
    agreement = report.get("agreement") or {}
    annotators = {}
    for name, done in team.items():
        row = scores.get(name, {})
        annotators[name] = {
            "simulated_accuracy": done["accuracy"],
            "true_accuracy": done["correct"] / done["answered"] if done["answered"] else None,
            "answered": done["answered"],
            "ds_accuracy": row.get("ds_accuracy"),
            "gold_accuracy": row.get("gold_accuracy"),
            "gold_n": row.get("gold_n"),
            "paused": bool(row.get("paused")),
        }
    measured = {k: agreement.get(k) for k in ("value", "low", "high")}
    metric = report.get("agreement_metric")
    return {"agreement": {"metric": metric, **measured}, "annotators": annotators}


def review_top_item(project: Project, truth: dict[str, str]) -> dict[str, Any] | None:
    """The demo reviewer decides the first open disagreement (else gold failure) that
    someone answered wrongly: accept the proposal when it is the corpus label, else edit to
    it; the annotators who answered otherwise get the comment as feedback. Returns what was
    decided."""
    for item in sorted(project.reviews(limit=200), key=lambda i: i["kind"] == "gold"):
        text = next((v for v in item["fields"].values() if isinstance(v, str)), "")
        right = truth.get(normalise_text(text))
        answers = (item.get("detail") or {}).get("answers") or {}
        if right is None or all(v == right for v in answers.values()):
            continue
        proposed = (item.get("detail") or {}).get("proposed")
        action: Literal["accept", "edit"] = "accept" if proposed == right else "edit"
        project.decide_review(
            item["id"],
            reviewer=REVIEWER,
            action=action,
            value=None if action == "accept" else right,
            comment=f"The outcome measures are about {right} conditions (guidelines v1).",
            confirm=True,
        )
        feedback = {name: len(project.feedback(name)) for name in answers}
        return {
            "kind": item["kind"],
            "answers": answers,
            "proposed": proposed,
            "action": action,
            "final": right,
            "feedback": {name: n for name, n in feedback.items() if n},
        }
    return None


def _num(x: float | None) -> str:
    return "n/a" if x is None or x != x else f"{x:.3f}"  # x != x: NaN


def describe_quality(closed: dict[str, Any], qa: dict[str, Any], *, n_issues: int) -> str:
    """The QA step's lines: agreement, estimates against the truth, pauses, the review."""
    agr = qa["agreement"]
    value = "undefined" if agr["value"] is None else f"{agr['value']:.3f}"
    ci = "" if agr["low"] is None else f" (95 % CI {agr['low']:.3f}-{agr['high']:.3f})"
    lines = [
        f"[7/10] round closed: {closed['final_labels']} consensus labels; {agr['metric']} "
        f"{value}{ci}; Dawid-Skene accuracy estimates against each annotator's true accuracy:"
    ]
    for name, a in qa["annotators"].items():
        lines.append(
            f"       {name:<9} simulated {a['simulated_accuracy']:.2f}, true "
            f"{_num(a['true_accuracy'])} on {a['answered']} answers, Dawid-Skene "
            f"{_num(a['ds_accuracy'])}, gold {_num(a['gold_accuracy'])} on {a['gold_n'] or 0}"
            + (" -> paused by the pause rule" if a["paused"] else "")
        )
    d = qa["decision"]
    if d is not None:
        fed = ", ".join(d["feedback"]) or "nobody"
        said = ", ".join(f"{n} said {v}" for n, v in d["answers"].items())
        lines.append(
            f"       reviewer: {d['action']} on a {d['kind']} item ({said}) -> {d['final']}; "
            f"the comment goes to {fed} as feedback"
        )
    lines.append(
        f"       {qa['review_items']} review items open (cleanlab added {n_issues} suspected "
        f"label errors); QA report in {closed['report']}"
    )
    return "\n".join(lines)


def annotate_over_rest(
    project_dir: Path,
    team: dict[str, SimulatedAnnotator],
    truth: dict[str, str],
    *,
    seed: int,
    progress: Progress = SILENT,
    retrain_every: int = 0,
) -> dict[str, Any]:
    """Serve the project and let each simulated annotator of ``team`` (by API key) work the
    queue over REST until it has nothing left for them, or the pause rule pauses them; each
    answer is :meth:`SimulatedAnnotator.answer` to the record's label in ``truth``."""
    lock = threading.Lock()
    submitted: list[str] = []
    done = {a.name: {"accuracy": a.accuracy, "answered": 0, "correct": 0} for a in team.values()}
    errors: list[BaseException] = []
    with Project.open(project_dir) as project:
        total = project.status()["records"]["total"]
        question = project.task.questions[0].name

    def work(base_url: str, key: str, annotator: SimulatedAnnotator) -> None:
        try:
            with Client(base_url, api_key=key) as client:
                item = client.next()
                while item is not None:  # the answer brings the next; None once paused too
                    text = str(item["record"]["fields"].get("text", ""))
                    right = truth[normalise_text(text)]
                    label = annotator.answer(right, text, seed=seed)
                    rid = item["record"]["id"]
                    item = client.submit_and_next(rid, {question: label}, time_spent=0.0)
                    with lock:  # the id is a per-annotator handle: count records by text
                        submitted.append(normalise_text(text))
                        done[annotator.name]["answered"] += 1
                        done[annotator.name]["correct"] += label == right
                        progress.advance()
        except BaseException as exc:  # surfaced after the threads are joined
            errors.append(exc)

    app = create_app(ServerSettings(project_root=project_dir, retrain_every=retrain_every))
    started = time.perf_counter()
    progress.start("annotating over REST", total=2 * total)
    with serving(app) as base_url:
        threads = [threading.Thread(target=work, args=(base_url, k, a)) for k, a in team.items()]
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
        "annotators": len(team),
        "submitted": len(submitted),
        "distinct_records": len(set(submitted)),
        "seconds": round(seconds, 2),
        "submits_per_second": round(len(submitted) / seconds, 1),
        "retrains": retrains,
        "team": done,
    }

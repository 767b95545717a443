"""goldsmith's Label Studio and Prodigy exports keep the annotators (issue 18, round trips).

A project with two annotators at overlap 2, a skip and final labels is exported in each tool's
format and imported into fresh projects: as gold, the final labels come back without a single
conflict (the annotators disagree on purpose); as responses, every annotator's answers come
back as they were, skip included, and no response is made up for the final label. NER texts
hold "no entity" answers and astral characters before their spans.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from goldsmith import ExportOptions, FinalLabel, ImportOptions, Project, Provenance, Response
from goldsmith.config import template_task, write_config
from goldsmith.ingest.options import LabelsAs
from goldsmith.schema import ResponseStatus

CLASSES = ["pos", "neg", "neu"]
TAGS = ["a", "b", "c"]
ENTITIES = ["PER", "LOC"]

NER_TEXTS = [
    "🧬 Ana met Bob in Paris.",
    "Nothing to see here.",
    "𝔘𝔫𝔦 report: Zoë flew to Tōkyō 👩‍⚕️ today",
    "Berlin is big.",
]


def _span(text: str, word: str, label: str) -> dict[str, Any]:
    start = text.index(word)
    return {"start": start, "end": start + len(word), "label": label}


# kind -> (template, labels, question, [(fields, final, ann1, ann2)]); ann2 disagrees often
CASES: dict[str, tuple[str, list[str], str, list[tuple[str, Any, Any, Any]]]] = {
    "classification": (
        "classification",
        CLASSES,
        "label",
        [
            ("Great product, works well.", "pos", "pos", "neg"),
            ("Broke after a day.", "neg", "neg", "neg"),
            ("It is a box.", "neu", "pos", "neu"),
            ("Fine, I guess 🙂", "neu", "neu", "pos"),
        ],
    ),
    "multilabel": (
        "multilabel",
        TAGS,
        "labels",
        [
            ("Note about a and b.", ["a", "b"], ["a"], ["a", "b"]),
            ("Note about nothing.", [], [], ["c"]),
            ("Note about c 🧬.", ["c"], ["c"], ["b", "c"]),
            ("Note about a.", ["a"], ["a"], ["a"]),
        ],
    ),
    "ner": (
        "ner",
        ENTITIES,
        "spans",
        [
            (
                NER_TEXTS[0],
                [_span(NER_TEXTS[0], "Ana", "PER"), _span(NER_TEXTS[0], "Paris", "LOC")],
                [_span(NER_TEXTS[0], "Ana", "PER")],
                [_span(NER_TEXTS[0], "Bob", "PER"), _span(NER_TEXTS[0], "Paris", "LOC")],
            ),
            (NER_TEXTS[1], [], [], []),  # "no entity" from everyone
            (
                NER_TEXTS[2],
                [_span(NER_TEXTS[2], "Zoë", "PER"), _span(NER_TEXTS[2], "Tōkyō", "LOC")],
                [],  # one annotator saw nothing
                [_span(NER_TEXTS[2], "Tōkyō", "LOC")],
            ),
            (NER_TEXTS[3], [_span(NER_TEXTS[3], "Berlin", "LOC")], [], []),
        ],
    ),
}
UNANNOTATED = 2  # further records with a final label and no response


def _rows(kind: str) -> list[tuple[str, Any, Any, Any]]:
    rows = list(CASES[kind][3])
    final = rows[0][1]
    for i in range(UNANNOTATED):
        rows.append(
            (f"Extra record {i} 🩺 on its own.", final if kind != "ner" else [], None, None)
        )
    return rows


def _new(root: Path, kind: str, *, overlap: int = 2) -> Project:
    template, labels, _, _ = CASES[kind]
    data = template_task(root.name, template, labels)
    data["settings"] = {"overlap": overlap}
    root.mkdir(parents=True)
    write_config(root, data)
    return Project.open(root)


def _source(root: Path, kind: str) -> Project:
    """Records with final labels (gold, human, consensus); ann1 and ann2 answer the first
    ones, and ann2 skips the one before last (a discarded response)."""
    q = CASES[kind][2]
    rows = _rows(kind)
    project = _new(root, kind)
    report = project.add_records(
        {"fields": {"text": t}, "external_id": f"ext-{i}", "metadata": {"n": i}}
        for i, (t, *_) in enumerate(rows)
    )
    provenances = (Provenance.GOLD, Provenance.HUMAN, Provenance.CONSENSUS)
    with project.store.write() as tx:
        tx.set_final_labels(
            FinalLabel(rid, q, final, provenances[i % 3])
            for i, (rid, (_, final, _, _)) in enumerate(zip(report.ids, rows, strict=True))
        )
    responses = [
        Response(rid, user, {q: value})
        for rid, (_, _, ann1, ann2) in zip(report.ids, rows, strict=True)
        if ann1 is not None
        for user, value in (("ann1", ann1), ("ann2", ann2))
    ]
    responses.append(Response(report.ids[-2], "ann2", {}, status=ResponseStatus.DISCARDED))
    project.add_responses(responses)
    return project


def _records(project: Project) -> dict[str, tuple[str | None, str]]:
    with project.store.read() as tx:
        return {
            r.fields["text"]: (r.external_id, json.dumps(r.metadata, sort_keys=True))
            for batch in tx.iter_records()
            for r in batch
        }


def _finals(project: Project) -> dict[str, Any]:
    q = project.task.questions[0].name
    with project.store.read() as tx:
        return {r.fields["text"]: labels[q].value for b in tx.iter_labeled() for r, labels in b}


def _responses(project: Project) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """(text, annotator) -> (status, values) of every stored response."""
    with project.store.read() as tx:
        text = {r.id: r.fields["text"] for batch in tx.iter_records() for r in batch}
        return {
            (text[r.record_id], r.user): (str(r.status), r.values)
            for r in tx.responses_for(list(text))
        }


def _suggestions(project: Project) -> dict[str, list[Any]]:
    with project.store.read() as tx:
        text = {r.id: r.fields["text"] for batch in tx.iter_records() for r in batch}
        out: dict[str, list[Any]] = {}
        for s in tx.suggestions_for(list(text)):
            out.setdefault(text[s.record_id], []).append(s.value)
        return out


def _covered(project: Project) -> dict[str, list[str]]:
    """The text each final span covers, per record (what a span means to a reader)."""
    return {
        text: [text[s["start"] : s["end"]] for s in value]
        for text, value in _finals(project).items()
        if isinstance(value, list) and all(isinstance(s, dict) for s in value)
    }


@pytest.fixture(params=sorted(CASES))
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def source(tmp_path: Path, kind: str) -> Iterator[Project]:
    with _source(tmp_path / "source", kind) as project:
        yield project


@pytest.mark.parametrize("fmt", ["label-studio", "prodigy"])
def test_round_trip_keeps_records_finals_annotators_and_spans(
    tmp_path: Path, kind: str, source: Project, fmt: str
) -> None:
    report = source.export(ExportOptions(fmt=fmt, out=tmp_path / "out"))
    assert report.responses == 9  # 2 x 4 submitted + 1 skip
    path = report.files["train"]

    with _new(tmp_path / "gold", kind) as gold:
        imported = gold.import_records(path, ImportOptions(fmt=fmt))  # on_conflict: error
        assert imported.n_conflicts == 0 and imported.warnings == []
        assert _records(gold) == _records(source)
        assert _finals(gold) == _finals(source)
        assert _covered(gold) == _covered(source)
        assert _responses(gold) == {}  # as gold, the annotators' answers are not final labels

    with _new(tmp_path / "resp", kind) as resp:
        resp.import_records(path, ImportOptions(fmt=fmt, labels_as=LabelsAs.RESPONSE))
        assert _records(resp) == _records(source)
        assert _responses(resp) == _responses(source)  # no "import" user for the final labels
        assert _finals(resp) == {}

    with _new(tmp_path / "sugg", kind) as sugg:  # pre-annotations: the final labels only
        sugg.import_records(path, ImportOptions(fmt=fmt, labels_as=LabelsAs.SUGGESTION))
        assert _suggestions(sugg) == {t: [v] for t, v in _finals(source).items()}


@pytest.mark.parametrize("fmt", ["label-studio", "prodigy"])
def test_no_responses_writes_final_labels_only(
    tmp_path: Path, kind: str, source: Project, fmt: str
) -> None:
    report = source.export(ExportOptions(fmt=fmt, out=tmp_path / "out", responses=False))
    assert report.responses == 0
    text = report.files["train"].read_text(encoding="utf-8")
    assert "ann1" not in text and "ann2" not in text
    with _new(tmp_path / "gold", kind) as gold:
        gold.import_records(report.files["train"], ImportOptions(fmt=fmt))
        assert _finals(gold) == _finals(source)


def test_training_formats_stay_final_label_only(tmp_path: Path, kind: str, source: Project) -> None:
    for fmt in ("openai-chat", "csv"):
        report = source.export(ExportOptions(fmt=fmt, out=tmp_path / fmt))
        assert report.responses == 0
        text = report.files["train"].read_text(encoding="utf-8")
        assert "ann1" not in text and "ann2" not in text
        assert report.examples["train"] == len(_rows(kind))


# --------------------------------------------------------------------------- reading rules


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_prodigy_ignore_is_a_skip_and_other_files_keep_their_session_ids(tmp_path: Path) -> None:
    """A Prodigy file of another origin: ``ignore`` is a discarded response, and annotator ids
    stay as written (only goldsmith's own export names the dataset to take off)."""
    rows = [
        {"text": "Ana met Bob.", "label": "pos", "answer": "accept", "_annotator_id": "ds-alex"},
        {"text": "Ana met Bob.", "answer": "ignore", "_annotator_id": "ds-sam"},
        {"text": "Ana met Bob.", "label": "neg", "answer": "reject", "_annotator_id": "ds-kim"},
    ]
    with _new(tmp_path / "p", "classification") as project:
        project.import_records(
            _write(tmp_path / "d.jsonl", rows),
            ImportOptions(fmt="prodigy", labels_as=LabelsAs.RESPONSE),
        )
        assert _responses(project) == {
            ("Ana met Bob.", "ds-alex"): ("submitted", {"label": "pos"}),
            ("Ana met Bob.", "ds-sam"): ("discarded", {}),
        }


def test_label_studio_unnamed_ground_truth_of_another_tool_stays_a_response(
    tmp_path: Path,
) -> None:
    """Only goldsmith's own final-label annotation is left out of a response import; a
    ground-truth annotation in any other file is still the answer of ``--label-user``."""
    task = {
        "id": 5,
        "data": {"text": "Fine."},
        "annotations": [
            {"result": [_choice("pos")], "ground_truth": True},
            {"result": [_choice("neg")], "completed_by": {"email": "kim@x.org"}},
        ],
    }
    path = tmp_path / "ls.json"
    path.write_text(json.dumps([task]), encoding="utf-8")
    with _new(tmp_path / "p", "classification") as project:
        project.import_records(path, ImportOptions(labels_as=LabelsAs.RESPONSE, label_user="me"))
        assert _responses(project) == {
            ("Fine.", "me"): ("submitted", {"label": "pos"}),
            ("Fine.", "kim@x.org"): ("submitted", {"label": "neg"}),
        }


def _choice(label: str) -> dict[str, Any]:
    return {
        "from_name": "label",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [label]},
    }

"""Files written by the annotation tools' own SDKs, imported: nothing dropped, nothing shifted.

Label Studio tasks are built from results that label-studio-sdk's ``LabelInterface`` makes and
checks, and its ``Annotation`` model; Argilla files come from the argilla SDK's own
serializer (``to_datasets()``), run offline. Prodigy is not on PyPI: its lines follow the
documented ``db-out`` format (``_input_hash``, ``_task_hash``, ``_annotator_id``,
``_session_id``, ``_view_id``, ``tokens``, ``spans`` with ``token_start``/``token_end``).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from goldsmith import ExportOptions, FinalLabel, Record
from goldsmith.errors import InputError
from goldsmith.ingest.options import ImportOptions, LabelsAs
from goldsmith.project import Project
from goldsmith.schema import Provenance, ResponseStatus, content_hash

Snapshot = Callable[[Project], dict[str, Any]]
NER_LABELS = ["PER", "LOC"]
LS_CONFIG = """
<View>
  <Text name="text" value="$text"/>
  <Labels name="spans" toName="text">
    <Label value="PER"/><Label value="LOC"/>
  </Labels>
</View>
"""


@contextmanager
def sdk() -> Iterator[None]:
    """Calls into the tools' SDKs, whose own pydantic-1 style warns on pydantic 2."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def u16(text: str, point: int) -> int:
    """The UTF-16 offset (as JavaScript and Label Studio count) of a code-point offset."""
    return len(text[:point].encode("utf-16-le")) // 2


def responses(project: Project) -> dict[str, dict[str, tuple[dict[str, Any], str]]]:
    """Record text -> {user: (values, status)}."""
    with project.store.read() as tx:
        recs = {r.id: r for b in tx.iter_records() for r in b}
        out: dict[str, dict[str, tuple[dict[str, Any], str]]] = {
            r.fields["text"]: {} for r in recs.values()
        }
        for r in tx.responses_for(list(recs)):
            out[recs[r.record_id].fields["text"]][r.user] = (r.values, str(r.status))
    return out


def finals(project: Project) -> dict[str, Any]:
    """Record text -> the final value of its first question (gold only)."""
    with project.store.read() as tx:
        recs = {r.id: r for b in tx.iter_records() for r in b}
        return {
            recs[f.record_id].fields["text"]: f.value
            for f in tx.final_labels_for(list(recs))
            if f.provenance == Provenance.GOLD
        }


# --------------------------------------------------------------------------- Label Studio


@pytest.fixture(scope="module")
def li() -> Any:
    with sdk():
        from label_studio_sdk.label_interface import LabelInterface

        return LabelInterface(LS_CONFIG)


def ls_spans(li: Any, text: str, spans: list[tuple[int, int, str]]) -> list[dict[str, Any]]:
    """Result items made by the SDK, offsets in UTF-16 code units, with ``value.text`` as
    Label Studio's own export writes it."""
    payload = [{"start": u16(text, s), "end": u16(text, e), "labels": [lab]} for s, e, lab in spans]
    with sdk():
        regions = li.create_regions({"spans": payload}) if payload else []
        items = [json.loads(region.to_json()) for region in regions]
    out = []
    for item, (s, e, _) in zip(items, spans, strict=True):
        item["value"]["text"] = text[s:e]
        out.append(item)
    return out


def ls_annotation(li: Any, result: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    with sdk():
        from label_studio_sdk.types import Annotation

        ann = Annotation(result=result, **kw).model_dump(mode="json", exclude_none=True)
        assert li.validate_annotation(ann)
    return dict(ann)


def write_tasks(path: Path, tasks: list[dict[str, Any]], *, one_line: bool = False) -> Path:
    path.write_text(json.dumps(tasks, ensure_ascii=False, indent=None if one_line else 1))
    return path


NER_TEXTS = [
    "Ann lives in Paris",
    "nothing to see here",
    "😀 Bob met Ann in 𝐁erlin",
    "no names at all 🧬",
    "Carl",
]
NER_SPANS: dict[str, list[tuple[int, int, str]]] = {
    "Ann lives in Paris": [(0, 3, "PER"), (13, 18, "LOC")],
    "😀 Bob met Ann in 𝐁erlin": [(2, 5, "PER"), (10, 13, "PER"), (17, 23, "LOC")],
    "Carl": [(0, 4, "PER")],  # a span that ends where the text ends
}


def ner_tasks(li: Any) -> list[dict[str, Any]]:
    """Three annotators per task; the second and third answer "no entity" on every task."""
    tasks = []
    for i, text in enumerate(NER_TEXTS):
        spans = NER_SPANS.get(text, [])
        anns = [
            ls_annotation(li, ls_spans(li, text, spans), id=10 * i + 1, completed_by=1),
            ls_annotation(li, [], id=10 * i + 2, completed_by=2, was_cancelled=False),
            ls_annotation(li, [], id=10 * i + 3, completed_by=3),
        ]
        tasks.append({"id": 100 + i, "data": {"text": text}, "annotations": anns})
    return tasks


def test_label_studio_empty_ner_answers_are_kept(
    make_project: Callable[..., Project], li: Any, tmp_path: Path
) -> None:
    ner = make_project("ner", NER_LABELS)
    path = write_tasks(tmp_path / "ls.json", ner_tasks(li))
    report = ner.import_records(path, ImportOptions(labels_as=LabelsAs.RESPONSE))
    got = responses(ner)
    n_annotations = 3 * len(NER_TEXTS)
    n_empty = sum(1 for r in got.values() for values, _ in r.values() if values["spans"] == [])
    assert (report.n_inserted, report.n_labels) == (len(NER_TEXTS), n_annotations)
    assert n_empty == 2 * len(NER_TEXTS) + 2  # every "no entity" answer survives
    assert got["nothing to see here"]["1"] == ({"spans": []}, "submitted")


def test_label_studio_empty_ner_answer_as_gold(
    make_project: Callable[..., Project], li: Any, tmp_path: Path
) -> None:
    ner = make_project("ner", NER_LABELS)
    tasks = [
        {
            "id": 7,
            "data": {"text": "no entity"},
            "annotations": [ls_annotation(li, [], completed_by=1, ground_truth=True)],
        }
    ]
    ner.import_records(write_tasks(tmp_path / "ls.json", tasks))
    assert finals(ner) == {"no entity": []}


def test_label_studio_utf16_offsets_become_code_points(
    make_project: Callable[..., Project], li: Any, tmp_path: Path
) -> None:
    ner = make_project("ner", NER_LABELS)
    path = write_tasks(tmp_path / "ls.json", ner_tasks(li))
    ner.import_records(path, ImportOptions(labels_as=LabelsAs.RESPONSE))
    got = {text: by_user["1"][0]["spans"] for text, by_user in responses(ner).items()}
    for text, spans in NER_SPANS.items():
        assert got[text] == [{"start": s, "end": e, "label": lab} for s, e, lab in spans]
        assert [text[s:e] for s, e, _ in spans] == [text[x["start"] : x["end"]] for x in got[text]]
    assert got["😀 Bob met Ann in 𝐁erlin"][2] == {"start": 17, "end": 23, "label": "LOC"}


def test_label_studio_cancelled_annotation_is_discarded(
    make_project: Callable[..., Project], li: Any, tmp_path: Path
) -> None:
    ner = make_project("ner", NER_LABELS)
    text = "Ann lives in Paris"
    anns = [
        ls_annotation(li, [], completed_by=5, was_cancelled=True),
        ls_annotation(li, ls_spans(li, text, [(0, 3, "PER")]), completed_by=6, was_cancelled=True),
    ]
    path = write_tasks(
        tmp_path / "ls.json", [{"id": 1, "data": {"text": text}, "annotations": anns}]
    )
    ner.import_records(path, ImportOptions(labels_as=LabelsAs.RESPONSE))
    assert responses(ner)[text] == {
        "5": ({}, "discarded"),
        "6": ({"spans": [{"start": 0, "end": 3, "label": "PER"}]}, "discarded"),
    }


@pytest.mark.parametrize(
    ("said", "hint"),
    [
        ("Bob", "fix its offsets or text"),
        # offsets counted in code points, as goldsmith's older exports did: named as such
        (None, "count characters (code points), not UTF-16 code units"),
    ],
)
def test_label_studio_offsets_that_disagree_with_the_text_are_refused(
    make_project: Callable[..., Project],
    snapshot: Snapshot,
    tmp_path: Path,
    said: str | None,
    hint: str,
) -> None:
    ner = make_project("ner", NER_LABELS)
    text = "😀 Bob met Ann"
    value = {"start": 10, "end": 13, "text": said or "Ann", "labels": ["PER"]}  # code points
    if said is not None:
        value.update(start=u16(text, 10), end=u16(text, 13))
    result = [{"from_name": "spans", "to_name": "text", "type": "labels", "value": value}]
    tasks = [
        {"id": 41, "data": {"text": "fine"}, "annotations": []},
        {"id": 42, "data": {"text": text}, "annotations": [{"id": 9, "result": result}]},
    ]
    path = write_tasks(tmp_path / "ls.json", tasks)
    before = snapshot(ner)
    with pytest.raises(InputError) as err:
        ner.import_records(path)
    message = str(err.value)
    assert "task index 1 (id 42)" in message and "annotation 0 (id 9)" in message
    assert hint in message and err.value.field == "spans"
    assert snapshot(ner) == before


def test_label_studio_single_line_file_names_the_task(
    project: Project, snapshot: Snapshot, tmp_path: Path
) -> None:
    def task(i: int, label: str) -> dict[str, Any]:
        choice = {"from_name": "label", "to_name": "text", "type": "choices"}
        result = [{**choice, "value": {"choices": [label]}}]
        return {"id": 30 + i, "data": {"text": f"text {i}"}, "annotations": [{"result": result}]}

    tasks = [task(0, "general"), task(1, "nervous"), task(2, "oncology"), task(3, "general")]
    path = write_tasks(tmp_path / "one-line.json", tasks, one_line=True)
    assert len(path.read_text().splitlines()) == 1
    before = snapshot(project)
    with pytest.raises(InputError) as err:
        project.import_records(path)
    assert "task index 2 (id 32)" in str(err.value)
    assert "'oncology'" in str(err.value)
    assert snapshot(project) == before


def test_label_studio_task_that_is_not_an_object_names_its_index(
    project: Project, tmp_path: Path
) -> None:
    path = tmp_path / "ls.json"
    path.write_text('[{"id": 1, "data": {"text": "a"}, "annotations": []}, [1, 2]]')
    with pytest.raises(InputError, match=r"task index 1: a Label Studio task is a JSON object"):
        project.import_records(path, ImportOptions(fmt="label-studio"))


# --------------------------------------------------------------------------- Prodigy


def prodigy_ner(text: str, spans: list[tuple[int, int, str]], who: str, answer: str) -> Row:
    """One line of ``prodigy db-out`` for a ``ner.manual`` dataset, as Prodigy writes it."""
    tokens, at = [], 0
    for i, piece in enumerate(text.split(" ")):
        tokens.append({"text": piece, "start": at, "end": at + len(piece), "id": i, "ws": True})
        at += len(piece) + 1

    def token(offset: int, end: bool) -> int:
        return next(t["id"] for t in tokens if (t["end"] if end else t["start"]) == offset)

    return {
        "text": text,
        "_input_hash": hash(text) % 1_000_000,
        "_task_hash": hash((text, "ner")) % 1_000_000,
        "tokens": tokens,
        "spans": [
            {
                "start": s,
                "end": e,
                "token_start": token(s, False),
                "token_end": token(e, True),
                "label": lab,
            }
            for s, e, lab in spans
        ],
        "_view_id": "ner_manual",
        "answer": answer,
        "_timestamp": 1_700_000_000,
        "_annotator_id": f"ner_news-{who}",
        "_session_id": f"ner_news-{who}",
    }


Row = dict[str, Any]


def write_lines(path: Path, rows: list[Row]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


def test_prodigy_empty_spans_answer_is_kept(
    make_project: Callable[..., Project], tmp_path: Path
) -> None:
    ner = make_project("ner", NER_LABELS)
    rows = [
        prodigy_ner("Ann lives in Paris", [(0, 3, "PER"), (13, 18, "LOC")], "alice", "accept"),
        prodigy_ner("nothing here", [], "alice", "accept"),
        prodigy_ner("also nothing", [], "alice", "accept"),
        prodigy_ner("a bad example", [], "alice", "reject"),
    ]
    report = ner.import_records(
        write_lines(tmp_path / "ner.jsonl", rows), ImportOptions(labels_as=LabelsAs.RESPONSE)
    )
    got = responses(ner)
    assert report.n_labels == 3  # every accepted answer, the two empty ones too
    assert got["nothing here"] == {"ner_news-alice": ({"spans": []}, "submitted")}
    assert got["a bad example"] == {}


def test_prodigy_multi_annotator_file_keeps_every_annotator(
    make_project: Callable[..., Project], tmp_path: Path
) -> None:
    ner = make_project("ner", NER_LABELS)
    texts = {
        "Ann lives in Paris": [(0, 3, "PER"), (13, 18, "LOC")],
        "Bob and Carl": [(0, 3, "PER"), (8, 12, "PER")],
        "nothing here": [],
    }
    rows = [prodigy_ner(t, s, "alice", "accept") for t, s in texts.items()]
    rows += [prodigy_ner(t, s[:1], "bob", "accept") for t, s in texts.items()]  # a second pass
    rows.append(prodigy_ner("Ann lives in Paris", [(0, 3, "PER")], "alice", "accept"))  # again
    rows.insert(2, prodigy_ner("Zed", [(0, 3, "PER")], "carol", "accept"))  # in between
    report = ner.import_records(
        write_lines(tmp_path / "multi.jsonl", rows), ImportOptions(labels_as=LabelsAs.RESPONSE)
    )
    assert (report.n_inserted, report.n_duplicates) == (4, 1)  # alice twice: a duplicate
    got = responses(ner)
    assert got["Bob and Carl"] == {
        "ner_news-alice": (
            {
                "spans": [
                    {"start": 0, "end": 3, "label": "PER"},
                    {"start": 8, "end": 12, "label": "PER"},
                ]
            },
            "submitted",
        ),
        "ner_news-bob": ({"spans": [{"start": 0, "end": 3, "label": "PER"}]}, "submitted"),
    }
    assert set(got["nothing here"]) == {"ner_news-alice", "ner_news-bob"}
    assert report.n_labels == 7
    with ner.store.read() as tx:  # records keep the order of their first line
        order = [r.fields["text"] for b in tx.iter_records() for r in b]
    assert order == ["Ann lives in Paris", "Bob and Carl", "Zed", "nothing here"]


# --------------------------------------------------------------------------- Argilla

U1 = "00000000-0000-0000-0000-000000000001"
U2 = "00000000-0000-0000-0000-000000000002"


@pytest.fixture(scope="module")
def argilla_hf() -> Any:
    """A Hugging Face dataset made by the argilla SDK's ``to_datasets()`` serializer, with no
    server (only the client's connection check is skipped)."""
    with sdk():
        import argilla as rg
        from argilla.records._io._datasets import HFDatasetsIO

        class Offline(rg.Argilla):  # type: ignore[misc]
            def _validate_connection(self) -> None:
                """No server: nothing here talks to one."""

        previous = rg.Argilla._default_client
        rg.Argilla._set_default(Offline(api_url="http://127.0.0.1:9", api_key="offline"))
        try:
            labels = ["neoplasms", "digestive", "nervous"]
            settings = rg.Settings(
                fields=[rg.TextField(name="text")],
                questions=[rg.LabelQuestion(name="label", labels=labels)],
            )
            dataset = rg.Dataset(name="abstracts", settings=settings)
            records = [
                rg.Record(id="r0", fields={"text": "No suggestion here."}),
                rg.Record(
                    id="r1",
                    fields={"text": "Colon tumour."},
                    suggestions=[rg.Suggestion("label", "digestive", score=0.8, agent="clf")],
                    responses=[rg.Response("label", "neoplasms", user_id=U1, status="submitted")],
                ),
                rg.Record(
                    id="r2",
                    fields={"text": "Migraine."},
                    suggestions=[rg.Suggestion("label", "nervous", agent="clf")],
                    responses=[rg.Response("label", None, user_id=U2, status="discarded")],
                ),
            ]
            return HFDatasetsIO.to_datasets(records, dataset)
        finally:
            rg.Argilla._default_client = previous


def suggestions(project: Project) -> dict[str, list[tuple[Any, str | None]]]:
    with project.store.read() as tx:
        recs = {r.id: r for b in tx.iter_records() for r in b}
        out: dict[str, list[tuple[Any, str | None]]] = {r.fields["text"]: [] for r in recs.values()}
        for s in tx.suggestions_for(list(recs)):
            out[recs[s.record_id].fields["text"]].append((s.value, s.agent))
    return out


@pytest.mark.parametrize("how", ["parquet", "save_to_disk"])
def test_argilla_to_datasets_class_labels_and_nulls(
    project: Project, argilla_hf: Any, tmp_path: Path, how: str
) -> None:
    assert type(argilla_hf.features["label.suggestion"]).__name__ == "ClassLabel"
    path = tmp_path / "argilla"
    with sdk():
        if how == "parquet":
            path = path.with_suffix(".parquet")
            argilla_hf.to_parquet(str(path))
        else:
            argilla_hf.save_to_disk(str(path))
    report = project.import_records(path, ImportOptions(fmt="argilla", labels_as=LabelsAs.RESPONSE))
    assert report.n_inserted == 3
    assert suggestions(project) == {
        "No suggestion here.": [],
        "Colon tumour.": [("digestive", "clf")],
        "Migraine.": [("nervous", "clf")],
    }
    got = responses(project)
    assert got["Colon tumour."] == {U1: ({"label": "neoplasms"}, "submitted")}
    assert got["Migraine."] == {U2: ({}, str(ResponseStatus.DISCARDED))}


def test_argilla_to_datasets_json_is_refused_with_what_to_do(
    project: Project, argilla_hf: Any, snapshot: Snapshot, tmp_path: Path
) -> None:
    path = tmp_path / "argilla.jsonl"
    with sdk():
        argilla_hf.to_json(str(path))
    before = snapshot(project)
    with pytest.raises(InputError) as err:
        project.import_records(path, ImportOptions(fmt="argilla"))
    assert (err.value.line, err.value.field) == (1, "label.suggestion")
    assert "to_parquet() or save_to_disk()" in str(err.value)
    assert snapshot(project) == before


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("fmt", ["label-studio", "prodigy"])
def test_ner_round_trip_keeps_empty_answers(
    make_project: Callable[..., Project], tmp_path: Path, fmt: str
) -> None:
    gold = {
        "Ann lives in Paris": [{"start": 0, "end": 3, "label": "PER"}],
        "nothing here": [],
        "Bob": [{"start": 0, "end": 3, "label": "PER"}],
        "still nothing": [],
        "Carl met Dora": [
            {"start": 0, "end": 4, "label": "PER"},
            {"start": 9, "end": 13, "label": "PER"},
        ],
    }
    a = make_project("ner", NER_LABELS)
    with a.store.write() as tx:
        records = [
            Record(fields={"text": t}, external_id=f"e{i}", content_hash=content_hash({"text": t}))
            for i, t in enumerate(gold)
        ]
        ids = tx.insert_records(records)
        tx.set_final_labels(
            FinalLabel(rid, "spans", value, Provenance.GOLD)
            for rid, value in zip(ids, gold.values(), strict=True)
        )
    report = a.export(ExportOptions(fmt=fmt, out=tmp_path / "out", validate=False))
    b = make_project("ner", NER_LABELS)
    b.import_records(report.files["train"], ImportOptions(fmt=fmt))
    assert finals(b) == gold

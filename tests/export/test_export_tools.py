"""goldsmith's annotation-tool exports, read by the tools' own code.

Label Studio exports are read by label-studio-sdk's ``Converter`` (with the ``label_config.xml``
written beside them) and every annotation is validated by its ``LabelInterface``; span offsets
must count UTF-16 code units, as Label Studio does. Prodigy NER lines must carry the tokens and
token ranges its manual view needs (https://prodi.gy/docs/api-interfaces#ner_manual).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from goldsmith import ExportOptions, FinalLabel, ImportOptions, Project, Provenance, Record
from goldsmith.config import template_task, write_config
from goldsmith.export.label_config import CONFIG_NAME
from goldsmith.schema import content_hash

pytest.importorskip("label_studio_sdk")
from label_studio_sdk.converter import Converter  # noqa: E402
from label_studio_sdk.label_interface import LabelInterface  # noqa: E402

EMOJI_TEXTS = (
    "😀 Alice met Bob in Paris.",
    "🎉🎉 Zoë 𝐁right flew to Tōkyō 🗼 today",
    "Plain Berlin text.",
)


def _words(text: str, *words: str) -> list[tuple[int, int]]:
    """Code-point offsets of ``words`` in ``text``."""
    return [(text.index(w), text.index(w) + len(w)) for w in words]


EMOJI_SPANS: tuple[list[dict[str, Any]], ...] = (
    [
        {"start": s, "end": e, "label": lab}
        for (s, e), lab in zip(
            _words(EMOJI_TEXTS[0], "Alice", "Bob", "Paris"), ("PER", "PER", "LOC"), strict=True
        )
    ],
    [
        {"start": s, "end": e, "label": lab}
        for (s, e), lab in zip(
            _words(EMOJI_TEXTS[1], "Zoë 𝐁right", "Tōkyō 🗼"), ("PER", "LOC"), strict=True
        )
    ],
    [],  # "no entity here" is an answer too
)


def _project(root: Path, data: dict[str, Any]) -> Project:
    root.mkdir(parents=True)
    write_config(root, data)
    return Project.open(root)


def _fill(project: Project, rows: list[tuple[str, dict[str, Any]]]) -> list[int]:
    records = [
        Record(fields={"text": t}, content_hash=content_hash({"text": t}), external_id=f"e{i}")
        for i, (t, _) in enumerate(rows)
    ]
    with project.store.write() as tx:
        ids = tx.insert_records(records)
        tx.set_final_labels(
            FinalLabel(rid, q, v, Provenance.GOLD if i % 2 else Provenance.HUMAN)
            for i, (rid, (_, values)) in enumerate(zip(ids, rows, strict=True))
            for q, v in values.items()
        )
    return ids


@pytest.fixture
def projects(tmp_path: Path) -> Iterator[Callable[[str], Project]]:
    """``projects(name)``: a labelled project of each shape the tests read back."""
    opened: list[Project] = []

    def make(name: str) -> Project:
        root = tmp_path / name
        if name == "ner-emoji":
            p = _project(root, template_task(name, "ner", ["PER", "LOC"]))
            _fill(p, [(t, {"spans": v}) for t, v in zip(EMOJI_TEXTS, EMOJI_SPANS, strict=True)])
        elif name == "span-multilabel":
            data = template_task(name, "classification", ["x"])
            data["questions"] = [
                {"name": "findings", "kind": "span_multilabel", "labels": ["finding", "negated"]}
            ]
            p = _project(root, data)
            text = "🩺 No fever, cough since May."
            (a, b), (c, d) = _words(text, "fever", "cough")
            value = [
                {"start": a, "end": b, "labels": ["finding", "negated"]},
                {"start": c, "end": d, "labels": ["finding"]},
            ]
            _fill(p, [(text, {"findings": value}), ("Nothing here.", {"findings": []})])
        else:  # "questions": one of each whole-record question kind
            data = template_task(name, "classification", ["pos", "neg"])
            data["questions"] = [
                {"name": "label", "kind": "label", "labels": ["pos", "neg"]},
                {"name": "tags", "kind": "multilabel", "labels": ["a", "b", "c"]},
                {"name": "note", "kind": "text"},
                {"name": "score", "kind": "rating", "min": 1, "max": 5},
            ]
            p = _project(root, data)
            rows = []
            for i, (tags, note) in enumerate(
                [(["a"], "ok"), (["a", "c"], "fine ✓"), ([], ""), (["b"], "x\ny")]
            ):
                values: dict[str, Any] = {"label": ("pos", "neg")[i % 2], "tags": tags}
                values |= {"note": note} | ({"score": 1 + i % 5} if i % 3 else {})
                rows.append((f"Review {i} 👍", values))
            _fill(p, rows)
        opened.append(p)
        return p

    yield make
    for p in opened:
        p.close()


def _label_studio(p: Project, out: Path, **kw: Any) -> tuple[list[dict[str, Any]], str]:
    report = p.export(ExportOptions(fmt="label-studio", out=out, **kw))
    assert report.companions == [out / CONFIG_NAME]
    tasks = json.loads(report.files["train"].read_text(encoding="utf-8"))
    return tasks, (out / CONFIG_NAME).read_text(encoding="utf-8")


def _utf16(text: str, start: int, end: int) -> str:
    return text.encode("utf-16-le")[2 * start : 2 * end].decode("utf-16-le")


SHAPES = ("questions", "ner-emoji", "span-multilabel")


@pytest.mark.parametrize("shape", SHAPES)
def test_label_interface_accepts_the_config_and_every_annotation(
    projects: Callable[[str], Project], tmp_path: Path, shape: str
) -> None:
    tasks, config = _label_studio(projects(shape), tmp_path / "out")
    interface = LabelInterface(config)
    interface.validate()  # raises on a config Label Studio would refuse
    results = 0
    for task in tasks:
        for ann in task["annotations"]:
            assert interface.validate_prediction(ann, return_errors=True) == [], task
            results += len(ann["result"])
    assert results > 0


def test_the_config_has_a_control_per_question(
    projects: Callable[[str], Project], tmp_path: Path
) -> None:
    _, config = _label_studio(projects("questions"), tmp_path / "out")
    interface = LabelInterface(config)
    tags = {c.name: (c.tag, c.attr.get("choice"), c.to_name) for c in interface.controls}
    assert tags == {
        "label": ("Choices", "single", ["text"]),
        "tags": ("Choices", "multiple", ["text"]),
        "note": ("TextArea", None, ["text"]),
        "score": ("Rating", None, ["text"]),
    }
    assert interface.get_control("score").attr["maxRating"] == "5"
    assert interface.get_control("tags").labels == ["a", "b", "c"]


def test_span_multilabel_labels_take_several(
    projects: Callable[[str], Project], tmp_path: Path
) -> None:
    _, config = _label_studio(projects("span-multilabel"), tmp_path / "out")
    control = LabelInterface(config).get_control("findings")
    assert (control.tag, control.attr.get("choice")) == ("Labels", "multiple")


@pytest.mark.parametrize("shape", SHAPES)
def test_converter_reads_the_export(
    projects: Callable[[str], Project], tmp_path: Path, shape: str
) -> None:
    p = projects(shape)
    out = tmp_path / "out"
    tasks, _ = _label_studio(p, out)
    converter = Converter(
        str(out / CONFIG_NAME), project_dir=str(tmp_path), download_resources=False
    )
    converter.convert(str(out / "train.json"), str(tmp_path / "min"), "JSON_MIN", is_dir=False)
    rows = json.loads((tmp_path / "min" / "result.json").read_text(encoding="utf-8"))
    assert [r["id"] for r in rows] == [t["id"] for t in tasks]
    with p.store.read() as tx:
        stored = {r.id: labels for batch in tx.iter_labeled() for r, labels in batch}
    assert set(stored) == {t["id"] for t in tasks}  # the task id is the record id
    if shape == "questions":
        for row in rows:
            labels = stored[row["id"]]
            assert row["label"] == labels["label"].value
            if labels["tags"].value:
                tags = row["tags"]["choices"] if len(labels["tags"].value) > 1 else [row["tags"]]
                assert tags == labels["tags"].value
            if "score" in labels:
                assert row["score"] == [{"rating": labels["score"].value}]


def test_label_studio_span_offsets_count_utf16_units(
    projects: Callable[[str], Project], tmp_path: Path
) -> None:
    report = projects("ner-emoji").export(ExportOptions(fmt="label-studio", out=tmp_path / "o"))
    tasks = json.loads(report.files["train"].read_text(encoding="utf-8"))
    by_text = {t["data"]["text"]: t for t in tasks}
    moved = 0
    for text, spans in zip(EMOJI_TEXTS, EMOJI_SPANS, strict=True):
        result = by_text[text]["annotations"][0]["result"]
        assert len(result) == len(spans)
        for res, span in zip(result, spans, strict=True):
            v = res["value"]
            assert v["text"] == text[span["start"] : span["end"]]
            assert _utf16(text, v["start"], v["end"]) == v["text"]  # what Label Studio shows
            moved += v["start"] != span["start"]
    assert moved == 5  # every span after an emoji or 𝐁 counts it twice


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_prodigy_ner_lines_carry_tokens_and_token_ranges(
    projects: Callable[[str], Project], tmp_path: Path
) -> None:
    report = projects("ner-emoji").export(ExportOptions(fmt="prodigy", out=tmp_path / "out"))
    rows = {r["text"]: r for r in _read_jsonl(report.files["train"])}
    for text, spans in zip(EMOJI_TEXTS, EMOJI_SPANS, strict=True):
        row = rows[text]
        tokens = row["tokens"]
        assert [t["id"] for t in tokens] == list(range(len(tokens)))
        for tok in tokens:
            assert set(tok) == {"text", "start", "end", "id", "ws"}
            assert text[tok["start"] : tok["end"]] == tok["text"] and tok["text"].strip()
            assert tok["ws"] == text[tok["end"] : tok["end"] + 1].isspace()
        rebuilt = "".join(t["text"] + (" " if t["ws"] else "") for t in tokens)
        assert rebuilt.split() == text.split()
        assert [{k: s[k] for k in ("start", "end", "label")} for s in row["spans"]] == spans
        for span in row["spans"]:
            first, last = tokens[span["token_start"]], tokens[span["token_end"]]
            assert (first["start"], last["end"]) == (span["start"], span["end"])
            assert span["token_start"] <= span["token_end"]


def test_prodigy_tokens_split_at_span_edges_inside_a_word(
    blank: Callable[..., Project], tmp_path: Path
) -> None:
    p = blank("ner")
    text = "Visit ParisFrance now, Bob."
    (a, b), (c, d) = _words(text, "Paris", "Bob")
    _fill(
        p,
        [
            (
                text,
                {
                    "spans": [
                        {"start": a, "end": b, "label": "LOC"},
                        {"start": c, "end": d, "label": "PER"},
                    ]
                },
            )
        ],
    )
    report = p.export(ExportOptions(fmt="prodigy", out=tmp_path / "out"))
    (row,) = _read_jsonl(report.files["train"])
    texts = [t["text"] for t in row["tokens"]]
    assert texts == ["Visit", "Paris", "France", "now", ",", "Bob", "."]
    assert [(s["token_start"], s["token_end"]) for s in row["spans"]] == [(1, 1), (5, 5)]
    assert [t["ws"] for t in row["tokens"]] == [True, False, True, False, True, False, False]


@pytest.mark.parametrize("fmt", ["label-studio", "prodigy"])
def test_spans_after_an_emoji_come_back_where_they_were(
    projects: Callable[[str], Project], tmp_path: Path, fmt: str
) -> None:
    """goldsmith's importer reads the export back to the same code-point spans."""
    report = projects("ner-emoji").export(ExportOptions(fmt=fmt, out=tmp_path / "out"))
    back = _project(tmp_path / "back", template_task("back", "ner", ["PER", "LOC"]))
    try:
        back.import_records(report.files["train"], ImportOptions(fmt=fmt))
        with back.store.read() as tx:
            rows = [(r, labels) for batch in tx.iter_labeled() for r, labels in batch]
        got = {r.fields["text"]: labels["spans"].value for r, labels in rows}
    finally:
        back.close()
    assert got == dict(zip(EMOJI_TEXTS, EMOJI_SPANS, strict=True))


def test_records_without_an_external_id_come_back_without_one(tmp_path: Path) -> None:
    """The task's top-level ``id`` is goldsmith's record id, not an external id: importing the
    export does not invent ``external_id = "<record id>"``."""
    source = _project(tmp_path / "src", template_task("src", "ner", ["PER", "LOC"]))
    texts = ["Ana met Bob.", "Paris 😀 in May.", "Nothing here."]
    records = [Record(fields={"text": t}, content_hash=content_hash({"text": t})) for t in texts]
    with source.store.write() as tx:
        ids = tx.insert_records(records)
        tx.set_final_labels(FinalLabel(rid, "spans", [], Provenance.GOLD) for rid in ids)
    report = source.export(ExportOptions(fmt="label-studio", out=tmp_path / "out"))
    source.close()
    back = _project(tmp_path / "back", template_task("back", "ner", ["PER", "LOC"]))
    try:
        back.import_records(report.files["train"], ImportOptions(fmt="label-studio"))
        with back.store.read() as tx:
            got = {r.fields["text"]: r.external_id for batch in tx.iter_records() for r in batch}
    finally:
        back.close()
    assert got == dict.fromkeys(texts)

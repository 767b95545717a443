"""Interop round trips (issue 18): export every format that fits a task kind, import it back.

Usage::

    python bench/roundtrip.py                 # 200 records per kind
    python bench/roundtrip.py --records 50

For each task kind (classification ``label``, ``multilabel``, NER ``spans`` with some empty
answers and astral characters, ``span_multilabel``, SFT ``text`` on a text field and on a chat
field, ``preference``) a small real project is built in a temporary folder through the
library: records with gold final labels, and on a few records two annotators' submitted
responses. It is exported in every format of :data:`goldsmith.export.formats.EXPORTERS` that
fits the question (``Exporter.fits``), and the file is imported into a fresh project with the
matching import format (``label-studio``, ``prodigy``, ``conll``, ``parquet``, ``csv``,
``jsonl`` and the SFT formats by the same name), labels as gold.

One row per (kind, format)::

    kind format records_in records_out labels_equal annotators spans_identical external_ids verdict

``labels_equal`` compares the final value of the question record by record, matched by the
record's text fields (the gold import must also count no conflict: the annotators disagree
on purpose); ``spans_identical`` compares spans as (start, end, label(s)) with the
text they cover. ``annotators``: for a format that carries annotators (Label Studio's
``completed_by``, Prodigy's ``_annotator_id``), the annotators found on a second import with
``labels_as=response`` out of those that answered in the source project, and in brackets the
responses that came back identical (record, annotator, status and values) out of the
source's, any response by someone else counting as a difference; ``-`` for a format
that has no place for them. ``external_ids``: records whose external id came back, or
``- (no id in format)`` where the exported file holds no ids (the training formats, CoNLL).
A format with no importer prints ``one-way (no importer)``; an
export refused by design prints ``refused (by design): message``.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldsmith import ExportOptions, FinalLabel, ImportOptions, Project, Provenance, Response
from goldsmith.config import write_config
from goldsmith.errors import GoldsmithError
from goldsmith.export.formats import EXPORTERS
from goldsmith.ingest.formats import default_formats
from goldsmith.ingest.options import LabelsAs
from goldsmith.schema import ResponseStatus

LABELS = ["PER", "ORG", "LOC"]
CLASSES = ["alpha", "beta", "gamma"]
ANNOTATORS = ("ann1", "ann2")
CARRIES_ANNOTATORS = {"label-studio", "prodigy"}
SENTENCE = (
    "the patient met Dr. Smith at Acme Corp in Paris ; later a 🧬 sample from Berlin 𝔘𝔫𝔦 "
    "was sent to Globex , with notes from Ana 👩‍⚕️ and Bob"
)
WORDS = tuple(SENTENCE.split())
ASTRAL = ("🧬", "🩺", "𝔘𝔫𝔦", "👩‍⚕️", "😀")


# --------------------------------------------------------------------------- source data


def _sentence(rng: random.Random, i: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(5, 12))]
    if i % 4 == 0:  # astral characters before the spans
        words.insert(rng.randint(0, 2), rng.choice(ASTRAL))
    return " ".join([*words, f"#{i}"])


def _spans(rng: random.Random, text: str, multi: bool, i: int) -> list[dict[str, Any]]:
    """Whole-word spans (CoNLL is word-based); every fifth record answers 'no entity'."""
    if i % 5 == 0:
        return []
    words, pos = [], 0
    for w in text.split(" "):
        words.append((pos, pos + len(w)))
        pos += len(w) + 1
    chosen = sorted(rng.sample(range(len(words) - 1), k=min(3, len(words) - 1)))
    out = []
    for k in chosen:
        start, end = words[k]
        if multi:
            labels = sorted(rng.sample(LABELS, k=rng.randint(1, 2)), key=LABELS.index)
            out.append({"start": start, "end": end, "labels": labels})
        else:
            out.append({"start": start, "end": end, "label": rng.choice(LABELS)})
    return out


@dataclass(frozen=True)
class Kind:
    name: str
    task: dict[str, Any]
    make: Callable[[random.Random, int], tuple[dict[str, Any], Any]]  # -> fields, value


def _kinds() -> list[Kind]:
    text = [{"name": "text", "kind": "text"}]

    def label(rng: random.Random, i: int) -> tuple[dict[str, Any], Any]:
        return {"text": _sentence(rng, i)}, rng.choice(CLASSES)

    def multilabel(rng: random.Random, i: int) -> tuple[dict[str, Any], Any]:
        return {"text": _sentence(rng, i)}, sorted(
            rng.sample(CLASSES, k=rng.randint(1, 3)), key=CLASSES.index
        )

    def spans(rng: random.Random, i: int) -> tuple[dict[str, Any], Any]:
        t = _sentence(rng, i)
        return {"text": t}, _spans(rng, t, False, i)

    def span_multi(rng: random.Random, i: int) -> tuple[dict[str, Any], Any]:
        t = _sentence(rng, i)
        return {"text": t}, _spans(rng, t, True, i)

    def sft(rng: random.Random, i: int) -> tuple[dict[str, Any], Any]:
        return {"prompt": f"Summarise: {_sentence(rng, i)}"}, f"Summary {i}: {_sentence(rng, i)}"

    def sft_chat(rng: random.Random, i: int) -> tuple[dict[str, Any], Any]:
        chat = [{"role": "user", "content": f"Question {i}: {_sentence(rng, i)}"}]
        if i % 3 == 0:
            chat += [
                {"role": "assistant", "content": "Which part?"},
                {"role": "user", "content": f"The {i}th 🧬"},
            ]
        return {"messages": chat}, f"Answer {i}: {_sentence(rng, i)}"

    def preference(rng: random.Random, i: int) -> tuple[dict[str, Any], Any]:
        cands = [f"candidate {c} for {i}: {_sentence(rng, i + c)}" for c in range(3)]
        order = [0, 1, 2]
        rng.shuffle(order)
        return {"prompt": f"Prompt {i}: {_sentence(rng, i)}", "candidates": cands}, order

    def q(kind: str, name: str, **kw: Any) -> list[dict[str, Any]]:
        return [{"name": name, "kind": kind, **kw}]

    return [
        Kind(
            "classification",
            {"fields": text, "questions": q("label", "label", labels=CLASSES)},
            label,
        ),
        Kind(
            "multilabel",
            {"fields": text, "questions": q("multilabel", "labels", labels=CLASSES)},
            multilabel,
        ),
        Kind(
            "ner",
            {"fields": text, "questions": q("spans", "spans", labels=LABELS, field="text")},
            spans,
        ),
        Kind(
            "span_multilabel",
            {
                "fields": text,
                "questions": q("span_multilabel", "spans", labels=LABELS, field="text"),
            },
            span_multi,
        ),
        Kind(
            "sft",
            {"fields": [{"name": "prompt", "kind": "text"}], "questions": q("text", "response")},
            sft,
        ),
        Kind(
            "sft_chat",
            {"fields": [{"name": "messages", "kind": "chat"}], "questions": q("text", "response")},
            sft_chat,
        ),
        Kind(
            "preference",
            {
                "fields": [
                    {"name": "prompt", "kind": "text"},
                    {"name": "candidates", "kind": "text"},
                ],
                "questions": q("preference", "preference", candidates_field="candidates"),
            },
            preference,
        ),
    ]


def _new_project(root: Path, kind: Kind) -> Project:
    root.mkdir(parents=True)
    write_config(root, {"name": kind.name, **kind.task})
    return Project.open(root)


def _other(question: Any, value: Any) -> Any:
    """A different answer than ``value`` where the kind allows one (the second annotator)."""
    if question.marks_spans:
        return value[:1]
    if question.ranks_candidates:
        return list(reversed(value))
    if isinstance(value, list):  # multilabel
        return [c for c in CLASSES if c not in value]
    if value in CLASSES:
        return CLASSES[(CLASSES.index(value) + 1) % len(CLASSES)]
    return f"{value} (second opinion)"


def build_source(root: Path, kind: Kind, n: int, seed: int = 0) -> Project:
    """A project of ``n`` records with gold final labels; every tenth record also has two
    annotators' submitted responses (the second disagrees where the kind allows), and every
    tenth from the fifth a skip (a discarded response) by the second."""
    rng = random.Random(seed)
    project = _new_project(root, kind)
    rows = [kind.make(rng, i) for i in range(n)]
    report = project.add_records(
        {"fields": f, "external_id": f"ext-{i}"} for i, (f, _) in enumerate(rows)
    )
    qname = project.task.questions[0].name
    question = project.task.question(qname)
    with project.store.write() as tx:
        tx.set_final_labels(
            FinalLabel(rid, qname, question.check(v), Provenance.GOLD)
            for rid, (_, v) in zip(report.ids, rows, strict=True)
        )
    project.add_responses(
        Response(rid, user, {qname: answer})
        for k, (rid, (_, v)) in enumerate(zip(report.ids, rows, strict=True))
        if k % 10 == 0
        for user, answer in zip(ANNOTATORS, (v, _other(question, v)), strict=True)
    )
    project.add_responses(
        Response(rid, ANNOTATORS[1], {}, status=ResponseStatus.DISCARDED)
        for k, rid in enumerate(report.ids)
        if k % 10 == 5
    )
    return project


# --------------------------------------------------------------------------- comparison


def _key(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, ensure_ascii=False)


def _labeled(project: Project) -> dict[str, Any]:
    """Record text fields (as a key) -> the first question's final value."""
    qname = project.task.questions[0].name
    out: dict[str, Any] = {}
    with project.store.read() as tx:
        for batch in tx.iter_labeled():
            for record, labels in batch:
                if qname in labels:
                    out[_key(record.fields)] = labels[qname].value
    return out


def _external_ids(project: Project) -> dict[str, str | None]:
    """Record text fields (as a key) -> the record's external id."""
    out: dict[str, str | None] = {}
    with project.store.read() as tx:
        for batch in tx.iter_records():
            out.update((_key(r.fields), r.external_id) for r in batch)
    return out


def _n_records(project: Project) -> int:
    with project.store.read() as tx:
        return tx.count_records()


def _users(project: Project) -> set[str]:
    return {r.user for r in project.responses(limit=100_000)}


def _responses(project: Project) -> dict[tuple[str, str], tuple[str, str]]:
    """(record text fields as a key, annotator) -> (status, values as JSON)."""
    with project.store.read() as tx:
        keys = {r.id: _key(r.fields) for batch in tx.iter_records() for r in batch}
    return {
        (keys[r.record_id], r.user): (str(r.status), json.dumps(r.values, sort_keys=True))
        for r in project.responses(limit=100_000)
    }


def _is_spans(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(s, dict) and "start" in s for s in value)


def _span_view(key: str, value: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    fields = json.loads(key)
    text = fields.get("text", "")
    return [
        (s["start"], s["end"], text[s["start"] : s["end"]], s.get("label") or s.get("labels"))
        for s in value
    ]


def compare(src: dict[str, Any], dst: dict[str, Any]) -> tuple[str, str, list[str]]:
    """``(labels_equal, spans_identical, differences)``; the counts read ``equal/compared``."""
    diffs: list[str] = []
    missing = [k for k in src if k not in dst]
    extra = [k for k in dst if k not in src]
    if missing:
        diffs.append(
            f"{len(missing)} record(s) not found by their fields (changed or lost), "
            f"e.g. {_short(missing[0])}"
        )
    if extra:
        diffs.append(f"{len(extra)} record(s) with other fields, e.g. {_short(extra[0])}")
    common = [k for k in src if k in dst]
    equal = [k for k in common if src[k] == dst[k]]
    if len(equal) < len(common):
        k = next(k for k in common if src[k] != dst[k])
        diffs.append(
            f"{len(common) - len(equal)} label(s) differ, e.g. {_short(k)}: "
            f"{_short(json.dumps(src[k], ensure_ascii=False))} -> "
            f"{_short(json.dumps(dst[k], ensure_ascii=False))}"
        )
    labels = f"{len(equal)}/{len(src)}"
    if not any(_is_spans(v) for v in src.values()):
        return labels, "-", diffs
    same = sum(1 for k in common if _span_view(k, src[k]) == _span_view(k, dst[k]))
    empties = sum(1 for k in src if src[k] == [])
    kept = sum(1 for k in common if src[k] == [] and dst[k] == [])
    spans = f"{same}/{len(src)} (empty {kept}/{empties})"
    return labels, spans, diffs


def _short(text: str, n: int = 70) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# --------------------------------------------------------------------------- round trips

TABULAR = {"csv", "parquet", "jsonl"}


def _import_options(fmt: str, labels_as: LabelsAs) -> ImportOptions:
    if fmt in TABULAR:
        return ImportOptions(fmt=fmt, id_field="external_id", labels_as=labels_as)
    return ImportOptions(fmt=fmt, labels_as=labels_as)


def round_trip(base: Path, kind: Kind, source: Project, fmt: str) -> list[str]:
    """One table row's cells after the kind and format."""
    work = base / fmt
    n_in = _n_records(source)
    try:
        report = source.export(ExportOptions(fmt=fmt, out=work / "out", validate=False))
    except GoldsmithError as exc:
        return [str(n_in), "-", "-", "-", "-", "-", f"refused (by design): {exc}"]
    if fmt not in default_formats():
        return [str(n_in), "-", "-", "-", "-", "-", "one-way (no importer)"]
    path = report.files["train"]
    with _new_project(work / "gold", kind) as dst:
        try:
            imported = dst.import_records(path, _import_options(fmt, LabelsAs.GOLD))
        except GoldsmithError as exc:
            message = str(exc).replace(str(work) + "/", "")
            return [
                str(n_in),
                "0",
                "-",
                "-",
                "-",
                "-",
                f"DIFF: import failed: {_short(message, 160)}",
            ]
        n_out = _n_records(dst)
        labels, spans, diffs = compare(_labeled(source), _labeled(dst))
        if imported.n_conflicts:
            diffs.append(f"{imported.n_conflicts} conflict(s) counted on the gold import")
        src_ids, dst_ids = _external_ids(source), _external_ids(dst)
        kept = sum(1 for k, ext in src_ids.items() if k in dst_ids and dst_ids[k] == ext)
        ids = f"{kept}/{len(src_ids)}"
        if kept < len(src_ids):
            written = f'"{next(iter(src_ids.values()))}"' in path.read_text(encoding="utf-8")
            if written:
                diffs.append(f"external ids kept {ids}")
            else:
                ids = "- (no id in format)"
    annotators = "-"
    if fmt in CARRIES_ANNOTATORS:
        got: dict[tuple[str, str], tuple[str, str]] = {}
        with _new_project(work / "resp", kind) as dst:
            try:
                dst.import_records(path, _import_options(fmt, LabelsAs.RESPONSE))
                found, got = _users(dst), _responses(dst)
            except GoldsmithError:
                found = set()
        want, expected = _users(source), _responses(source)
        same = sum(1 for k, v in expected.items() if got.get(k) == v)
        annotators = f"{len(found & want)}/{len(want)} ({same}/{len(expected)})"
        if found != want:
            in_file = [u for u in sorted(want) if u in path.read_text(encoding="utf-8")]
            diffs.append(
                f"annotators {sorted(want)} -> {sorted(found)}"
                + ("" if in_file else " (the export does not write them)")
            )
        elif same < len(expected) or len(got) != len(expected):
            diffs.append(f"responses identical {same}/{len(expected)}, {len(got)} came back")
    if n_out != n_in:
        diffs.insert(0, f"records {n_in} -> {n_out}")
    verdict = "ok" if not diffs else "DIFF: " + "; ".join(diffs)
    return [str(n_in), str(n_out), labels, annotators, spans, ids, verdict]


def _refusal(fmt: str, question: Any) -> str:
    try:
        EXPORTERS.check_fits(fmt, question)
    except GoldsmithError as exc:
        return f"refused (by design): {str(exc).split('; formats that fit')[0]}"
    return "refused (by design)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=200)
    args = parser.parse_args(argv)
    header = [
        "kind",
        "format",
        "records_in",
        "records_out",
        "labels_equal",
        "annotators",
        "spans_identical",
        "external_ids",
        "verdict",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for kind in _kinds():
            base = Path(tmp) / kind.name
            with build_source(base / "source", kind, args.records) as source:
                question = source.task.questions[0]
                for exporter in EXPORTERS:
                    if exporter.fits(question):
                        cells = round_trip(base, kind, source, exporter.name)
                    elif exporter.name in default_formats():  # a two-way format refusing
                        cells = [
                            str(_n_records(source)),
                            "-",
                            "-",
                            "-",
                            "-",
                            "-",
                            _refusal(exporter.name, question),
                        ]
                    else:
                        continue
                    print("| " + " | ".join([kind.name, exporter.name, *cells]) + " |", flush=True)


if __name__ == "__main__":
    main()

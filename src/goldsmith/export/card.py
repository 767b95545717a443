"""The dataset card: ``README.md`` next to the exported files, Hugging Face style.

The YAML front matter carries ``pretty_name``, a ``license`` placeholder, ``task_categories``,
``size_categories`` and, for files the ``datasets`` library reads (parquet, jsonl, csv),
``configs`` with one ``data_files`` entry per split, so ``load_dataset(out_dir)`` works. The
body records where the data came from (source files), how much there is (records and
examples per split, counts per label), how sure it is (provenance, confidence filter), the
guideline version it was labeled under and the command that wrote it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from goldsmith.export.options import ExportOptions
from goldsmith.schema import Question, Task

CARD_NAME = "README.md"
HF_LOADABLE = frozenset({"parquet", "jsonl", "csv"})
SIZES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"))


@dataclass(slots=True)
class CardInfo:
    """Everything the card states about one export."""

    task: Task
    question: Question
    options: ExportOptions
    extension: str
    files: dict[str, Path]
    counts: dict[str, int]
    examples: dict[str, int]
    label_counts: dict[str, dict[str, int]]
    provenance_counts: dict[str, int]
    sources: list[str] = field(default_factory=list)
    guideline_version: int | None = None
    system_prompt: str | None = None
    task_category: str | None = None
    responses: int = 0  # annotators' responses written beside the final labels


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    return json.dumps(text)


def _size(n: int) -> str:
    for bound, name in SIZES:
        if n < bound:
            return name
    return "n>1M"


def front_matter(info: CardInfo) -> str:
    """The YAML header of the card."""
    fmt = info.options.fmt
    category = info.task_category or info.question.hf_category
    lines = [
        "---",
        f"pretty_name: {_q(info.task.name)}",
        "license: other  # placeholder: set the license of your data before sharing it",
        "task_categories:",
        f"- {category}",
        "size_categories:",
        f"- {_size(sum(info.counts.values()))}",
        "tags:",
        "- goldsmith",
        f"- {_q(fmt)}",
    ]
    if info.extension in HF_LOADABLE and info.files:
        lines += ["configs:", "- config_name: default", "  data_files:"]
        for split, path in info.files.items():
            lines += [f"  - split: {split}", f"    path: {_q(path.name)}"]
    lines.append("---")
    return "\n".join(lines)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def body(info: CardInfo) -> str:
    """The Markdown body of the card."""
    opts = info.options
    splits = list(info.counts)
    total = sum(info.counts.values())
    lines = [
        f"# {info.task.name}",
        "",
        f"Exported by goldsmith in the `{opts.fmt}` format from the final labels of question "
        f"`{info.question.name}` ({info.question.kind}).",
        "",
        "## Command",
        "",
        "```",
        opts.command or "(not recorded)",
        "```",
        "",
        "## Splits",
        "",
        *_table(
            ["split", "file", "records", "examples"],
            [
                [
                    s,
                    f"`{info.files[s].name}`" if s in info.files else "(empty, not written)",
                    str(info.counts[s]),
                    str(info.examples.get(s, 0)),
                ]
                for s in splits
            ],
        ),
        "",
        f"Fractions {', '.join(f'{f:g}' for f in opts.split)}, seed {opts.seed}; stratified by "
        "label, duplicates kept in one split.",
        "",
    ]
    if opts.records is not None:
        shown = json.dumps(opts.records.to_json(), ensure_ascii=False, sort_keys=True)
        lines += [
            "## Records",
            "",
            f"Only the records that this filter of the records browser matched: `{shown}`.",
            "",
        ]
    labels = sorted({lab for counts in info.label_counts.values() for lab in counts})
    if labels:
        unit = info.question.count_unit
        lines += [
            f"## Labels ({unit})",
            "",
            *_table(
                ["label", *splits, "total"],
                [
                    [
                        f"`{lab}`",
                        *(str(info.label_counts.get(s, {}).get(lab, 0)) for s in splits),
                        str(sum(info.label_counts.get(s, {}).get(lab, 0) for s in splits)),
                    ]
                    for lab in labels
                ],
            ),
            "",
        ]
    lines += [
        "## Provenance",
        "",
        f"Included provenance: {', '.join(str(p) for p in opts.provenance)}; minimum "
        f"confidence {opts.min_confidence:g}.",
        "",
        *_table(
            ["provenance", "records", "share"],
            [
                [p, str(n), f"{n / total:.1%}" if total else "-"]
                for p, n in sorted(info.provenance_counts.items())
            ],
        ),
        "",
        "## Labeling guidelines",
        "",
        f"Guideline version: {info.guideline_version}"
        if info.guideline_version is not None
        else "Guideline version: none recorded.",
        "",
        "## Sources",
        "",
        *([f"- {s}" for s in info.sources] or ["- (no source files recorded)"]),
        "",
    ]
    if info.responses:
        lines += [
            "## Annotators' responses",
            "",
            f"Besides each record's final label, the files hold {info.responses} response(s) "
            "(submitted, and skipped ones marked as such) of the annotators to the exported "
            "records, each naming its annotator. Export with `--no-responses` for the final "
            "labels only.",
            "",
        ]
    if info.system_prompt:
        lines += ["## System prompt", "", "```", info.system_prompt, "```", ""]
    if info.question.ranks_candidates:
        how = (
            "the best candidate against each worse one"
            if opts.preference_pairs == "best"
            else "every ordered pair of the ranking"
        )
        lines += ["## Preference pairs", "", f"Rankings become pairs: {how}.", ""]
    lines += ["## License", "", "Set the license of your data here and in the header.", ""]
    return "\n".join(lines)


def write_card(out: Path, info: CardInfo) -> Path:
    """Write ``README.md`` into ``out`` and return its path."""
    path = out / CARD_NAME
    path.write_text(front_matter(info) + "\n\n" + body(info), encoding="utf-8")
    return path

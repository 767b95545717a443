"""The model card (``README.md`` of a model folder): what it was trained on and how well it
does, in the Hugging Face model-card layout (YAML front matter, then Markdown)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from goldsmith.train.manifest import ModelManifest

CARD = "README.md"


def _scores(evaluation: dict[str, Any] | None) -> list[str]:
    if not evaluation:
        return ["Not evaluated yet: run `goldsmith eval`."]
    rows = evaluation.get("rows", {})
    keys = [
        k
        for k in ("accuracy", "macro_f1", "perplexity", "preference_accuracy")
        if any(k in r for r in rows.values())
    ]
    out = [
        f"On {evaluation.get('n')} held-out gold records ({evaluation.get('split')} split):",
        "",
        "| model | " + " | ".join(keys) + " |",
        "|---|" + "---|" * len(keys),
    ]
    for name, row in rows.items():
        cells = [f"{row[k]:.4f}" if isinstance(row.get(k), float) else "–" for k in keys]
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return out


def write_model_card(
    folder: Path, manifest: ModelManifest, evaluation: dict[str, Any] | None = None
) -> Path:
    """Write ``README.md`` into ``folder``; it names the dataset version and its splits."""
    data = manifest.data
    base = manifest.base_model or "none (embeddings + logistic regression)"
    lines = [
        "---",
        "library_name: " + ("goldsmith" if manifest.kind == "classifier" else "peft"),
        f"tags: [goldsmith, {manifest.kind}]",
        f"goldsmith_dataset_version: {data.get('version')}",
        "---",
        "",
        f"# {manifest.project}: {manifest.kind} for `{manifest.question}`",
        "",
        f"- Base model: `{base}`",
        f"- Dataset version: `{data.get('version')}` (hash of the training and test records, "
        "their labels and weights)",
        f"- Guideline version: {data.get('guideline_version')}",
        f"- Training records: {data.get('n_train')}, by provenance: {data.get('train_provenance')}",
        f"- Left out of training: {data.get('excluded') or 'nothing'}",
        f"- Test: {data.get('n_test')} gold records held out "
        f"({data.get('test_fraction_of_gold')} of the gold, seed {data.get('seed')}); no "
        "record of a test record's duplicate group, and no synthetic child of one, trained",
        f"- Trained: {manifest.created} with goldsmith {manifest.goldsmith_version}",
        f"- Parameters: {manifest.params}",
        "",
        "## Evaluation",
        "",
        *_scores(evaluation),
        "",
    ]
    path = folder / CARD
    path.write_text("\n".join(lines), "utf-8")
    return path

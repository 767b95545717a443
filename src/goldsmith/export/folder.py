"""Each export owns its output folder: a manifest of what it wrote, and no stale files.

An export writes ``.goldsmith-export.json`` beside its files, listing every file it wrote
(split files, the dataset card, companions such as ``label_config.xml``). The next export
into the same folder

1. refuses, before writing anything, when the folder holds files that no goldsmith export
   wrote (not in the manifest), unless ``force`` says to remove them;
2. once its own files are written, removes the files the previous export wrote that this one
   did not (``validation.jsonl`` and ``test.jsonl`` after ``--split 1.0``), so no old split
   stays beside a ``train`` file that now holds its rows.

Leftover ``*.partial`` files of an interrupted export are goldsmith's and are removed too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from goldsmith.config import CONFIG_NAME, STORE_NAME
from goldsmith.errors import ExportError

MANIFEST = ".goldsmith-export.json"
PARTIAL = ".partial"
SHOWN = 5  # foreign names listed in an error


@dataclass(slots=True)
class FolderPlan:
    """What is in an output folder before an export writes to it.

    Attributes
    ----------
    out
        The folder.
    previous
        Names of the files the previous export listed in its manifest (and that still exist).
    foreign
        Names of the files no goldsmith export wrote; they are removed only under ``force``.
    """

    out: Path
    previous: set[str] = field(default_factory=set)
    foreign: list[str] = field(default_factory=list)


def _manifest_files(out: Path) -> set[str]:
    path = out / MANIFEST
    if not path.is_file():
        return set()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
        if not isinstance(files, list):
            raise TypeError("'files' is not a list")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ExportError(
            f"{path}: the export manifest is unreadable ({exc}); delete it and the files of "
            "the old export, or export to another --out folder"
        ) from None
    return {str(name) for name in files if isinstance(name, str) and "/" not in name}


def check_folder(out: Path, *, force: bool) -> FolderPlan:
    """Look at ``out`` before an export writes into it.

    Parameters
    ----------
    out
        The output folder; it need not exist.
    force
        Accept files goldsmith did not write: they are removed once the export is written.

    Raises
    ------
    ExportError
        ``out`` is a file, it holds sub-folders or a goldsmith project, or (without
        ``force``) it holds files that no goldsmith export wrote. The message names them
        and says what to do.
    """
    if out.exists() and not out.is_dir():
        raise ExportError(f"--out {out} is a file; give a folder for the export")
    plan = FolderPlan(out)
    if not out.is_dir():
        return plan
    listed = _manifest_files(out)
    folders: list[str] = []
    for entry in sorted(out.iterdir()):
        name = entry.name
        if name == MANIFEST:
            continue
        if entry.is_dir() and not entry.is_symlink():
            folders.append(name)
        elif name in listed or name.endswith(PARTIAL):
            plan.previous.add(name)
        else:
            plan.foreign.append(name)
    if folders:
        raise ExportError(
            f"--out {out} holds folder(s) {_names(folders)} that a goldsmith export did not "
            "write; export to a new or empty folder, or move them away"
        )
    project = [n for n in plan.foreign if n in (CONFIG_NAME, STORE_NAME)]
    if project:
        raise ExportError(
            f"--out {out} holds {_names(project)}, a goldsmith project: export to a folder of "
            "its own (e.g. --out export), never into the project"
        )
    if plan.foreign and not force:
        raise ExportError(
            f"--out {out} holds {len(plan.foreign)} file(s) that a goldsmith export did not "
            f"write: {_names(plan.foreign)}; export to a new or empty folder, or pass --force "
            "to remove them"
        )
    return plan


def finish_folder(plan: FolderPlan, written: Iterable[Path], fmt: str) -> list[Path]:
    """Write the manifest of ``written`` and remove what this export did not write.

    Removes the previous export's files that ``written`` does not include and, when the
    plan accepted them (``force``), the foreign files. Returns the removed paths, sorted.
    """
    names = sorted({p.name for p in written})
    removed = []
    for name in sorted((plan.previous | set(plan.foreign)) - set(names)):
        path = plan.out / name
        path.unlink(missing_ok=True)
        removed.append(path)
    manifest = {"written_by": "goldsmith export", "format": fmt, "files": names}
    (plan.out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return removed


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")

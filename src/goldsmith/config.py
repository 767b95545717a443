"""Project configuration: ``goldsmith.toml`` in the project folder plus ``GOLDSMITH_*`` env vars.

Nothing here touches the disk at import time.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from goldsmith.errors import ConfigError, StoreError
from goldsmith.schema import Task

CONFIG_NAME = "goldsmith.toml"
STORE_NAME = "goldsmith.db"
ENV_DB = "GOLDSMITH_DB"

TEMPLATES = ("classification", "multilabel", "ner", "sft", "preference")


@dataclass(frozen=True, slots=True)
class ProjectConfig:
    """Where a project lives, what its task is, and which store holds its data."""

    root: Path
    task: Task
    db_url: str

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME


def default_db_url(root: Path) -> str:
    return f"sqlite:///{(root / STORE_NAME).resolve()}"


def template_task(name: str, template: str, labels: list[str] | None = None) -> dict[str, Any]:
    """The TOML-ready task dict for one of the ``init`` templates."""
    if template not in TEMPLATES:
        raise ConfigError(f"unknown template {template!r}; choose one of {', '.join(TEMPLATES)}")
    needs_labels = template in ("classification", "multilabel", "ner")
    if needs_labels and not labels:
        raise ConfigError(f"template {template!r} needs --labels a,b,c")
    text = [{"name": "text", "kind": "text"}]
    questions: list[dict[str, Any]]
    fields = text
    if template == "classification":
        questions = [{"name": "label", "kind": "label", "labels": labels}]
    elif template == "multilabel":
        questions = [{"name": "labels", "kind": "multilabel", "labels": labels}]
    elif template == "ner":
        questions = [{"name": "spans", "kind": "spans", "labels": labels, "field": "text"}]
    elif template == "sft":
        fields = [{"name": "prompt", "kind": "text"}]
        questions = [{"name": "response", "kind": "text"}]
    else:  # preference
        fields = [{"name": "prompt", "kind": "text"}, {"name": "candidates", "kind": "text"}]
        questions = [{"name": "preference", "kind": "preference", "candidates_field": "candidates"}]
    return {"name": name, "template": template, "fields": fields, "questions": questions}


def parse_task(data: dict[str, Any], *, source: str) -> Task:
    try:
        return Task.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"{source}: invalid task at {loc or 'top level'}: {first['msg']}"
        ) from exc


def write_config(root: Path, task_data: dict[str, Any], db_url: str | None = None) -> Path:
    """Write ``goldsmith.toml``; the task is validated first so a bad one is never saved."""
    parse_task(task_data, source=str(root / CONFIG_NAME))
    doc: dict[str, Any] = {"task": task_data}
    if db_url:
        doc["store"] = {"url": db_url}
    path = root / CONFIG_NAME
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return path


def load_config(root: Path, *, db_url: str | None = None) -> ProjectConfig:
    """Read the project in ``root``. ``db_url`` (or ``$GOLDSMITH_DB``) overrides the file."""
    path = root / CONFIG_NAME
    if not path.is_file():
        raise ConfigError(
            f"{root} is not a goldsmith project (no {CONFIG_NAME}); "
            "create one with `goldsmith init NAME` or pass -p DIR"
        )
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    if "task" not in doc:
        raise ConfigError(f"{path}: missing [task] table")
    task = parse_task(doc["task"], source=str(path))
    url = db_url or os.environ.get(ENV_DB) or doc.get("store", {}).get("url")
    cfg = ProjectConfig(root=root.resolve(), task=task, db_url=url or default_db_url(root))
    _refuse_empty_store(cfg)
    return cfg


_SQLITE_FILE = re.compile(r"^sqlite(?:\+\w+)?:///([^?]+)")


def _refuse_empty_store(cfg: ProjectConfig) -> None:
    """Refuse a project whose SQLite store is an empty (0-byte) file.

    SQLite would take it for a new database and goldsmith would re-create an empty store in
    it, so lost data would look like an empty project. goldsmith never leaves such a file: a
    new project's store is created where no file is (``goldsmith init``), and its first write
    fills the header.
    """
    match = _SQLITE_FILE.match(cfg.db_url)
    if match is None or match.group(1) == ":memory:":
        return
    store = Path(match.group(1))
    try:
        empty = store.stat().st_size == 0
    except OSError:  # no file yet: a new project, SQLite creates the store
        return
    if empty:
        raise StoreError(
            f"the store {store} of the project {cfg.root} is an empty file (0 bytes): its data "
            "was lost, or the file was cut short. Restore it from your latest backup (see "
            "docs/deploy.md, 'A damaged store'); if this project never held any data, delete "
            "the empty file and run the command again to start a new store"
        )

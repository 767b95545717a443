"""The page's widget modules: every question kind names one that exists and that the registry
(``static/widgets/index.js``) imports, and both pages get that name in the task JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import goldsmith.server
from goldsmith.schema import QUESTION_KINDS

STATIC = Path(goldsmith.server.__file__).parent / "static"
WIDGETS = STATIC / "widgets"
PASSWORD = "correct horse battery staple"

IMPORT = re.compile(r'^import (\w+) from "\./(\w+)\.js";$', re.M)
REGISTRY = re.compile(r"WIDGETS = Object\.freeze\(\{([^}]*)\}\)")
TASK_JSON = re.compile(r'<script type="application/json" id="task">(.*?)</script>', re.S)

# one question of every kind, as a [task] table row (the page's task JSON is built from these)
EXAMPLES: dict[str, dict[str, Any]] = {
    "label": {"name": "label", "kind": "label", "labels": ["a", "b"]},
    "multilabel": {"name": "tags", "kind": "multilabel", "labels": ["a", "b"]},
    "spans": {"name": "ents", "kind": "spans", "labels": ["PER", "LOC"]},
    "span_multilabel": {"name": "roles", "kind": "span_multilabel", "labels": ["PER", "LOC"]},
    "text": {"name": "notes", "kind": "text", "required": False},
    "rating": {"name": "stars", "kind": "rating", "min": 1, "max": 5},
    "preference": {"name": "pref", "kind": "preference"},
}


def _registry() -> dict[str, str]:
    """Widget name -> the module file the registry imports for it."""
    source = (WIDGETS / "index.js").read_text(encoding="utf-8")
    imports = dict(IMPORT.findall(source))
    (body,) = REGISTRY.findall(source)
    names = [n.strip() for n in body.split(",") if n.strip()]
    return {n: imports[n] for n in names}


@pytest.mark.parametrize("kind", sorted(QUESTION_KINDS))
def test_every_kind_names_an_existing_widget_module(kind: str) -> None:
    widget = QUESTION_KINDS[kind].widget
    assert re.fullmatch(r"[a-z][a-z_]*", widget), f"{kind}: widget {widget!r}"
    assert (WIDGETS / f"{widget}.js").is_file(), f"{kind}: static/widgets/{widget}.js is missing"
    assert _registry().get(widget) == widget, f"{kind}: widgets/index.js does not load {widget!r}"


def test_every_widget_module_belongs_to_a_kind() -> None:
    used = {cls.widget for cls in QUESTION_KINDS.values()}
    modules = {p.stem for p in WIDGETS.glob("*.js")} - {"index"}
    assert modules == used
    assert set(_registry()) == used


def test_the_examples_cover_every_kind() -> None:
    assert set(EXAMPLES) == set(QUESTION_KINDS)


def test_task_json_of_the_page_and_the_api_names_each_widget(make_api_env: Any) -> None:
    questions = [EXAMPLES[k] for k in QUESTION_KINDS if k in EXAMPLES]
    task = {"name": "t", "fields": [{"name": "text"}], "questions": questions}
    env = make_api_env(task=task, records=[{"text": "x", "candidates": ["p", "q"]}])
    expected = [QUESTION_KINDS[q["kind"]].widget for q in questions]
    assert [q["widget"] for q in env.ok("GET", "/task", "alice")["questions"]] == expected

    body = {"name": "lena", "role": "annotator", "password": PASSWORD}
    env.ok("POST", "/users", "olive", json=body)
    login = env.client.get("/login")
    (token,) = re.findall(r'name="csrf" value="([^"]+)"', login.text)
    form = {"username": "lena", "password": PASSWORD, "csrf": token}
    assert env.client.post("/login", data=form).status_code == 303
    page = env.client.get("/annotate")
    assert page.status_code == 200, page.text
    (embedded,) = TASK_JSON.findall(page.text)
    assert [q["widget"] for q in json.loads(embedded)["questions"]] == expected

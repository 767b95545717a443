"""Project configuration: templates, goldsmith.toml parsing and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldsmith.config import TEMPLATES, load_config, template_task, write_config
from goldsmith.errors import ConfigError


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_round_trips_through_toml(tmp_path: Path, template: str) -> None:
    data = template_task("p", template, ["A", "B"])
    write_config(tmp_path, data)
    cfg = load_config(tmp_path)
    assert cfg.task.name == "p"
    assert cfg.task.template == template
    assert cfg.db_url == f"sqlite:///{(tmp_path / 'goldsmith.db').resolve()}"


def test_templates_with_labels_require_them() -> None:
    with pytest.raises(ConfigError, match="needs --labels"):
        template_task("p", "ner", [])
    with pytest.raises(ConfigError, match="unknown template"):
        template_task("p", "nope", ["a"])


def test_missing_and_broken_config_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a goldsmith project"):
        load_config(tmp_path)
    (tmp_path / "goldsmith.toml").write_text("[task\n")
    with pytest.raises(ConfigError, match="goldsmith.toml"):
        load_config(tmp_path)
    (tmp_path / "goldsmith.toml").write_text('[task]\nname = "x"\nfields = []\n')
    with pytest.raises(ConfigError, match="invalid task"):
        load_config(tmp_path)


def test_db_url_override_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(tmp_path, template_task("p", "sft"), db_url="sqlite:///from-file.db")
    assert load_config(tmp_path).db_url == "sqlite:///from-file.db"
    monkeypatch.setenv("GOLDSMITH_DB", "sqlite:///from-env.db")
    assert load_config(tmp_path).db_url == "sqlite:///from-env.db"
    assert load_config(tmp_path, db_url="sqlite:///arg.db").db_url == "sqlite:///arg.db"

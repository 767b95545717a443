"""`goldsmith pii scan` over a project's records."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from goldsmith.cli import app
from goldsmith.project import Project


def test_pii_scan_counts_kinds_and_never_prints_the_pii(tmp_path: Path) -> None:
    root = tmp_path / "clin"
    with Project.init(root, labels=["a", "b"]) as p:
        p.add_records(
            [
                {"fields": {"text": "Contact jane.roe@example.org or call +1 415 555 0134."}},
                {"fields": {"text": "Patient SSN 123-45-6789 was seen on Monday."}},
                {"fields": {"text": "No identifiers in this one."}},
            ]
        )
    result = CliRunner().invoke(app, ["pii", "scan", "-p", str(root), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["n_texts"] == 3 and report["n_with_pii"] == 2
    assert report["counts"] == {"EMAIL": 1, "PHONE": 1, "SSN": 1}
    text = CliRunner().invoke(app, ["pii", "scan", "-p", str(root)]).output
    for secret in ("jane.roe@example.org", "555 0134", "123-45-6789"):
        assert secret not in result.output and secret not in text
    only = CliRunner().invoke(app, ["pii", "scan", "-p", str(root), "--kinds", "SSN", "--json"])
    assert json.loads(only.output)["counts"] == {"SSN": 1}
    bad = CliRunner().invoke(app, ["pii", "scan", "-p", str(root), "--kinds", "SHOE_SIZE"])
    assert bad.exit_code == 1 and "SHOE_SIZE" in bad.output

"""A lone annotator: the report says "not enough data" with the reason, never NaN (issue 19:
"DS accuracy nan %" on the QA page)."""

from __future__ import annotations

import json
from pathlib import Path

from goldsmith.project import Project
from goldsmith.schema import Response, ResponseStatus, Role


def test_a_lone_annotator_gets_reasons_not_nan(tmp_path: Path) -> None:
    p = Project.init(tmp_path / "p", labels=["pos", "neg"])
    p.add_records([{"fields": {"text": f"review {i} ⭐"}} for i in range(6)])
    p.add_user("solo", Role.ANNOTATOR)
    p.add_responses(
        Response(i, "solo", {"label": "pos"}, ResponseStatus.SUBMITTED) for i in range(1, 7)
    )
    report = p.qa_report()
    (row,) = report["annotators"]
    assert row["ds_accuracy"] is None
    assert row["ds_reason"] == "only one annotator: Dawid-Skene needs two or more"
    assert row["gold_reason"] == "answered no gold record"
    assert "NaN" not in json.dumps(report, allow_nan=True)

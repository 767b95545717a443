"""The many-label report in a real Chromium, opened from disk: its tables sort on a header
click under the report's own Content-Security-Policy, with no error or CSP violation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser

from goldsmith.quality.report import MANY_LABELS, write_report

pytestmark = pytest.mark.browser

LABELS = [f"intent_{i:02d}" for i in range(MANY_LABELS + 5)]


def test_many_label_tables_sort_on_a_header_click(browser: Browser, tmp_path: Path) -> None:
    k = len(LABELS)
    rng = np.random.default_rng(3)
    matrix = rng.integers(0, 5, (k, k)) + np.diag(rng.integers(5, 40, k))
    values = {lab: round(float(v), 3) for lab, v in zip(LABELS, rng.random(k), strict=True)}
    values[LABELS[4]] = None  # undefined: always sorts last
    data = {
        "labels": LABELS,
        "agreement_by_label": {lab: {"value": v, "n": 10} for lab, v in values.items()},
        "confusions": [{"kind": "annotators", "labels": LABELS, "matrix": matrix.tolist()}],
    }
    path = write_report(tmp_path / "qa.html", data)
    page = browser.new_page()
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(path.as_uri())

    table = page.locator("#agreement table.sortable")
    header = table.locator("thead th").nth(1)

    def column() -> list[str]:
        return table.locator("tbody tr td:nth-child(2)").all_inner_texts()

    known = sorted((v for v in values.values() if v is not None), reverse=True)
    header.click()  # numbers: the largest first
    assert header.get_attribute("aria-sort") == "descending"
    assert [float(t) for t in column()[:-1]] == known
    assert column()[-1].startswith("undefined")
    header.press("Enter")  # the keyboard too, and the other way round
    assert header.get_attribute("aria-sort") == "ascending"
    assert [float(t) for t in column()[:-1]] == known[::-1]
    table.locator("thead th").first.click()  # text: A to Z
    assert table.locator("tbody tr td:nth-child(1)").all_inner_texts() == LABELS

    page.locator("#confusion details summary").click()
    matrix_table = page.locator("table.matrix")
    matrix_table.locator("thead th").nth(1).click()  # by row total
    totals = [int(t) for t in matrix_table.locator("tbody tr td:nth-child(2)").all_inner_texts()]
    assert totals == sorted(matrix.sum(axis=1).tolist(), reverse=True)
    assert problems == []

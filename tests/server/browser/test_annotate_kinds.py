"""One real keyboard flow per question kind; each checks what the store holds afterwards."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from goldsmith import Project

pytestmark = pytest.mark.browser
OpenPage = Callable[..., Any]


def test_label_number_keys_choose_and_enter_submits(open_page: OpenPage, tmp_path: Path) -> None:
    proj = Project.init(tmp_path / "p", template="classification", labels=["a", "b", "c"])
    ids = proj.add_records([{"fields": {"text": "first"}}, {"fields": {"text": "second"}}]).ids
    s = open_page(proj)
    s.wait_record(ids[0])
    s.press("2")
    expect(s.page.locator('[role=radio][data-value="b"]')).to_have_attribute("aria-checked", "true")
    s.press("Enter")
    s.wait_record(ids[1])
    s.press("3", "1", "Enter")
    s.wait_done()
    got = s.responses()
    assert got[ids[0]].values == {"label": "b"}
    assert got[ids[1]].values == {"label": "a"}
    assert {str(r.status) for r in got.values()} == {"submitted"}

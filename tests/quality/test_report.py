"""The self-contained QA report: one file, embedded PNGs, escaped user data, every section
optional, the same bytes for the same data, and correct deltas against the previous round."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import struct
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.image import imread

from goldsmith.errors import SchemaError
from goldsmith.quality import figures
from goldsmith.quality.compare import compare_rounds, confused_pairs
from goldsmith.quality.report import (
    render_report,
    report_csp,
    report_css,
    report_figures,
    write_report,
)
from goldsmith.quality.report_data import Confusion, QAReportData

LABELS = ["symptom", "diagnosis", "medication", "other"]
XSS = "<script>alert(1)</script>"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _round(number: int, *, alpha: float, acc: dict[str, float], confused: int) -> dict[str, Any]:
    """A round's report data as the store and the metrics give it."""
    names = list(acc)
    rng = np.random.default_rng(number)
    pooled = np.diag([120, 80, 60, 40])
    pooled[0, 1] = pooled[1, 0] = confused  # symptom <-> diagnosis
    pooled[2, 3] = pooled[3, 2] = 4
    return {
        "round": number,
        "guideline_version": number,
        "question": "entity_type",
        "labels": LABELS,
        "n_records": 300,
        "n_responses": 900,
        "n_annotators": len(names),
        "agreement": {"value": alpha, "ci": [alpha - 0.05, alpha + 0.04], "n": 280},
        "agreement_by_label": {
            lab: {"value": alpha + d, "low": alpha + d - 0.1, "high": alpha + d + 0.08, "n": 70}
            for lab, d in zip(LABELS, [0.05, -0.12, 0.1, -0.2], strict=True)
        },
        "pairwise": [
            {"a": a, "b": b, "value": alpha + float(rng.uniform(-0.1, 0.1)), "n": 90}
            for i, a in enumerate(names)
            for b in names[i + 1 :]
        ],
        "annotators": [
            {
                "name": name,
                "n_responses": 300,
                "gold_n": 20,
                "gold_accuracy": a,
                "gold_low": a - 0.15,
                "gold_high": min(a + 0.08, 1.0),
                "ds_accuracy": a - 0.02,
                "paused": a < 0.7,
            }
            for name, a in acc.items()
        ],
        "pause_threshold": 0.7,
        "confusions": [
            {
                "kind": "annotators",
                "labels": LABELS,
                "matrix": pooled.tolist(),
                "title": "between annotators (all pairs)",
                "rows": "annotator",
                "cols": "annotator",
            },
            {
                "kind": "gold",
                "labels": LABELS,
                "matrix": [[18, 2, 0, 0], [3, 15, 0, 0], [0, 0, 12, 1], [0, 1, 0, 8]],
                "title": "annotators against gold",
                "rows": "gold",
                "cols": "annotator",
            },
        ],
        "label_distribution": {
            "consensus": dict(zip(LABELS, [100, 70, 50, 30], strict=True)),
            "gold": dict(zip(LABELS, [5, 5, 5, 5], strict=True)),
            "human": dict(zip(LABELS, [10, 8, 0, 2], strict=True)),
        },
        "label_issues": [
            {
                "record_id": "r17",
                "text": "Patient reports chest pain radiating to the left arm. " * 12,
                "given": "symptom",
                "suggested": "diagnosis",
                "quality": 0.08,
            },
            {
                "record_id": "r42",
                "text": "Started metformin 500 mg twice daily.",
                "given": "other",
                "suggested": "medication",
                "quality": 0.12,
            },
        ],
        "label_issues_total": 9,
        "agreement_raw": {"ignored": True},  # a stored report may carry more than the contract
    }


@pytest.fixture()
def two_rounds() -> dict[str, Any]:
    previous = _round(1, alpha=0.62, acc={"alice": 0.9, "bob": 0.75, "carol": 0.8}, confused=30)
    current = _round(2, alpha=0.71, acc={"alice": 0.92, "bob": 0.65, "dave": 0.85}, confused=10)
    current["previous"] = previous
    return current


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text of <style> and <script> tags."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inside: list[str] = []
        self.text: dict[str, str] = {"style": "", "script": ""}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.inside.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.inside and self.inside[-1] == tag:
            self.inside.pop()

    def handle_data(self, data: str) -> None:
        if self.inside and self.inside[-1] in self.text:
            self.text[self.inside[-1]] += data


def _parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk comes first
    return width, height


def test_full_report_is_one_file_with_embedded_pngs(two_rounds: dict[str, Any]) -> None:
    html = render_report(two_rounds, title="Clinical NER, round 2")
    page = _parse(html)
    tags = [t for t, _ in page.tags]
    assert tags.count("html") == 1 and "script" not in tags and "link" not in tags
    assert not page.text["script"]
    for tag, attrs in page.tags:
        for key in ("src", "href", "action", "srcset", "poster", "data"):
            value = attrs.get(key)
            if value is None:
                continue
            assert (key, tag) in {("src", "img"), ("href", "a")}, (tag, key, value)
            if key == "href":
                assert value.startswith("#"), value  # in-page anchors only
        assert "style" not in attrs, tag  # no inline style attributes: CSP hashes the <style>
    assert "url(" not in page.text["style"] and "@import" not in page.text["style"]
    # the section anchors all exist
    ids = {attrs.get("id") for _, attrs in page.tags}
    anchors = [attrs.get("href") or "" for _, attrs in page.tags]
    assert all(a[1:] in ids for a in anchors if a.startswith("#"))

    images = [attrs for tag, attrs in page.tags if tag == "img"]
    assert len(images) == 6  # agreement, annotators, 2 confusions, distribution, trends
    for attrs in images:
        src = attrs["src"] or ""
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        width, height = _png_size(png)
        assert (str(width), str(height)) == (attrs["width"], attrs["height"])
        pixels = imread(io.BytesIO(png), format="png")
        assert pixels.shape[:2] == (height, width)
        assert attrs["alt"]
    assert "Clinical NER, round 2" in html


def test_figures_have_the_declared_sizes(two_rounds: dict[str, Any]) -> None:
    pngs = report_figures(two_rounds)
    assert sorted(pngs) == [
        "agreement.png",
        "annotators.png",
        "confusion-1.png",
        "confusion-2.png",
        "distribution.png",
        "trends.png",
    ]
    for name, png in pngs.items():
        kind = "confusion" if name.startswith("confusion") else name.removesuffix(".png")
        w, h = figures.SIZES[kind]
        pixels = imread(io.BytesIO(png), format="png")
        assert pixels.shape == (round(h * figures.DPI), round(w * figures.DPI), 4)
        assert pixels[..., :3].std() > 0.05  # something was drawn


def test_user_data_is_escaped(two_rounds: dict[str, Any]) -> None:
    two_rounds["label_issues"][0]["text"] = f"before {XSS} after"
    two_rounds["label_issues"][0]["given"] = '"><img src=x onerror=alert(2)>'
    two_rounds["annotators"][1]["name"] = f"$\\bad{{$ {XSS}"  # not matplotlib math either
    two_rounds["question"] = "<b>q</b>"
    html = render_report(two_rounds, title="<i>title</i>")
    assert XSS not in html and "<img src=x" not in html and "<b>q</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;i&gt;title&lt;/i&gt;" in html
    page = _parse(html)
    assert not any(tag == "script" for tag, _ in page.tags)
    assert not any(k.startswith("on") for _, attrs in page.tags for k in attrs)
    assert "<script" not in report_css()


def test_report_declares_a_csp_that_allows_only_its_own_style(two_rounds: dict[str, Any]) -> None:
    html = render_report(two_rounds)
    page = _parse(html)
    metas = [a for t, a in page.tags if t == "meta" and a.get("http-equiv")]
    assert [m["content"] for m in metas] == [report_csp()]
    assert "default-src 'none'" in report_csp() and "script-src" not in report_csp()
    digest = base64.b64encode(hashlib.sha256(page.text["style"].encode()).digest())
    assert f"'sha256-{digest.decode()}'" in report_csp()


def test_sections_without_data_say_so() -> None:
    html = render_report(QAReportData(round=1, n_records=12))
    page = _parse(html)
    assert not [a for t, a in page.tags if t == "img"]
    for phrase in (
        "No agreement was measured",
        "No annotator statistics",
        "No confusion matrices",
        "No final labels yet",
        "Label errors were not searched for",
        "No previous round to compare with",
        "Trends need at least two rounds",
    ):
        assert phrase in html
    assert render_report({})  # nothing at all still renders


def test_partial_data_renders_what_it_has(two_rounds: dict[str, Any]) -> None:
    data = {k: two_rounds[k] for k in ("round", "annotators", "pause_threshold")}
    data["annotators"][2]["gold_accuracy"] = None  # no gold answered: n/a, not zero
    data["label_issues"] = []
    html = render_report(data)
    assert set(report_figures(data)) == {"annotators.png"}
    assert "No suspected label errors were found" in html
    assert "No agreement was measured" in html


def test_same_input_same_bytes(two_rounds: dict[str, Any]) -> None:
    first = render_report(two_rounds, title="t")
    again = render_report(json.loads(json.dumps(two_rounds)), title="t")
    assert first == again
    assert report_figures(two_rounds) == report_figures(two_rounds)


def test_compare_rounds_gives_the_deltas(two_rounds: dict[str, Any]) -> None:
    data = QAReportData.from_dict(two_rounds)
    assert data.previous is not None
    cmp = compare_rounds(data, data.previous)
    assert cmp.previous_round == 1
    assert cmp.agreement is not None and cmp.agreement.delta == pytest.approx(0.09)
    assert cmp.agreement.direction == "better"
    # gold accuracy pooled over annotators (20 gold items each)
    assert cmp.gold_accuracy is not None
    assert cmp.gold_accuracy.current == pytest.approx((0.92 + 0.65 + 0.85) / 3)
    assert cmp.gold_accuracy.previous == pytest.approx((0.9 + 0.75 + 0.8) / 3)
    # only annotators in both rounds, in this round's order
    assert [(c.name, round(c.delta or 0, 4), c.direction) for c in cmp.annotators] == [
        ("alice", 0.02, "better"),
        ("bob", -0.1, "worse"),
    ]
    assert [c.name for c in cmp.by_label] == LABELS
    # symptom <-> diagnosis went from 60 of 368 to 20 of 328 pooled label pairs
    top, other = cmp.confused_pairs
    assert top.name == "diagnosis ↔ symptom"
    assert top.current == pytest.approx(20 / 328) and top.previous == pytest.approx(60 / 368)
    assert top.direction == "better"  # less confusion
    # medication <-> other kept its count (8) but its share rose: fewer items compared
    assert other.name == "medication ↔ other" and other.direction == "worse"

    html = render_report(data)
    section = html.split('id="comparison"')[1].split("</section>")[0]
    assert "+0.090" in section and "-0.100" in section
    assert "diagnosis ↔ symptom" in section and "-10.2 pp" in section and "+0.3 pp" in section


def test_confused_pairs_pool_both_directions() -> None:
    conf: Confusion = {
        "kind": "gold",
        "labels": ["a", "b", "c"],
        "matrix": [[5, 1, 0], [2, 5, 0], [0, 3, 4]],
    }
    assert confused_pairs([conf], kind="gold") == {("a", "b"): 0.15, ("b", "c"): 0.15}
    assert confused_pairs([conf], kind="annotators") == {}


def test_trends_come_from_the_previous_chain_or_the_data(two_rounds: dict[str, Any]) -> None:
    data = QAReportData.from_dict(two_rounds)
    points = data.trend_points()
    assert [p["round"] for p in points] == [1, 2]
    assert points[1]["agreement"] == data.agreement
    html = render_report(data)
    trends = html.split('id="trends"')[1]
    assert "0.620" in trends and "0.710" in trends
    data.trends = [
        {"round": 3, "agreement": {"value": 0.8}},
        {"round": 1, "agreement": None, "gold_accuracy": {"value": 0.7, "low": 0.6, "high": 0.8}},
    ]
    assert [p["round"] for p in data.trend_points()] == [1, 3]
    assert "trends.png" in report_figures(data)


def test_round_trip_through_json(two_rounds: dict[str, Any]) -> None:
    data = QAReportData.from_dict(two_rounds)
    again = QAReportData.from_dict(json.loads(json.dumps(data.to_dict())))
    assert again == data
    assert data.agreement == pytest.approx({"value": 0.71, "low": 0.66, "high": 0.75, "n": 280})


def test_malformed_data_is_named() -> None:
    with pytest.raises(SchemaError, match=r"annotators\[0\] lacks \['name'\]"):
        render_report({"annotators": [{"gold_accuracy": 0.9}]})
    with pytest.raises(SchemaError, match=r"confusions\[0\] matrix must be 2 x 2"):
        render_report({"confusions": [{"kind": "gold", "labels": ["a", "b"], "matrix": [[1]]}]})
    with pytest.raises(SchemaError, match="unknown fields"):
        QAReportData.from_dict({"agreemnt": {"value": 1.0}}, strict=True)


def test_fragment_for_a_page_under_the_server_csp(two_rounds: dict[str, Any]) -> None:
    html = render_report(two_rounds, fragment=True, figure_url=lambda name: f"/qa/{name}")
    page = _parse(html)
    tags = {t for t, _ in page.tags}
    assert not tags & {"html", "head", "style", "meta", "script"}
    srcs = sorted(a["src"] or "" for t, a in page.tags if t == "img")
    assert srcs == sorted(f"/qa/{name}" for name in report_figures(two_rounds))


def test_write_report(tmp_path: Path, two_rounds: dict[str, Any]) -> None:
    path = write_report(tmp_path / "out" / "qa.html", two_rounds, title="r2")
    assert path.read_text(encoding="utf-8") == render_report(two_rounds, title="r2")


def test_long_labels_and_many_classes_draw_without_warnings() -> None:
    labels = [f"label number {i} with a very long descriptive name" for i in range(25)]
    rng = np.random.default_rng(0)
    png = figures.confusion_matrix(rng.integers(0, 9, (25, 25)), labels)
    assert _png_size(png) == (600, 500)
    png = figures.agreement_by_label(labels, rng.random(25), [None] * 25, [None] * 25)
    assert _png_size(png) == (700, 400)
    with pytest.raises(SchemaError, match="values for 25 bars"):
        figures.agreement_by_label(labels, [0.5], [0.4], [0.6])
    assert re.match(rb"\x89PNG", figures.label_distribution([], {}))


def test_drawing_leaves_matplotlib_global_state_alone() -> None:
    keys = "'figure.dpi', 'figure.figsize', 'font.size', 'savefig.format', 'axes.prop_cycle'"
    code = (
        "import sys, matplotlib\n"
        f"keys = [{keys}]\n"
        "before = [matplotlib.rcParams[k] for k in keys]\n"  # not 'backend': it loads pyplot
        "from goldsmith.quality import report\n"
        "report.report_figures({'agreement_by_label': {'a': {'value': 0.5}}})\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "assert [matplotlib.rcParams[k] for k in keys] == before\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_linking_rounds_keeps_one_previous_and_carries_the_trends() -> None:
    rounds = [
        QAReportData.from_dict(_round(n, alpha=a, acc={"alice": g}, confused=c))
        for n, a, g, c in ((1, 0.5, 0.7, 40), (2, 0.6, 0.8, 30), (3, 0.7, 0.9, 20))
    ]
    linked = rounds[0]
    for data in rounds[1:]:
        linked = data.linked_to(linked)
    assert linked.previous is not None and linked.previous.previous is None
    assert linked.previous.round == 2
    points = linked.trend_points()
    assert [p["round"] for p in points] == [1, 2, 3]
    agreement = [p.get("agreement") for p in points]
    assert [None if a is None else a["value"] for a in agreement] == [0.5, 0.6, 0.7]
    again = QAReportData.from_dict(json.loads(json.dumps(linked.to_dict())))
    assert again.trend_points() == points
    assert "Compared with round 2" in render_report(again)

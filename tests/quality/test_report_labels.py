"""The QA report at any label count, from real rounds on a real store: 77 intents with two
annotators at overlap 2 switch the charts to the most confused pairs and the lowest
agreement, with every matrix as a sortable table; a lone annotator reads "not enough data",
never NaN; empty sections say why; span types get their table."""

from __future__ import annotations

import base64
import hashlib
import math
import random
import re
import tomllib
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tomli_w
from matplotlib.figure import Figure

from goldsmith.config import CONFIG_NAME
from goldsmith.errors import PermissionDeniedError
from goldsmith.project import Project
from goldsmith.quality import figures
from goldsmith.quality.report import (
    MANY_LABELS,
    TOP_N,
    figure_titles,
    render_report,
    report_csp,
    report_figures,
    report_js,
)
from goldsmith.quality.report_data import QAReportData
from goldsmith.schema import FinalLabel, Provenance, ResponseStatus, Role

_TOPICS = ("card", "transfer", "account", "payment", "refund", "exchange rate", "top up")
_ISSUES = ("arrival", "declined", "pending", "not working", "fee charged", "limits")
_ISSUES += ("verification", "cancel", "wrong amount", "reverted", "failed")
INTENTS = [f"{t}_{i}".replace(" ", "_") for t in _TOPICS for i in _ISSUES]  # 7 x 11 = 77


def _confusable(labels: list[str], label: str) -> str:
    """The label an annotator mistakes ``label`` for: its neighbour in the list."""
    i = labels.index(label)
    return labels[i + 1] if i % 2 == 0 and i + 1 < len(labels) else labels[i - 1]


def build_project(
    root: Path,
    labels: list[str],
    team: dict[str, float],
    *,
    n: int,
    gold: int = 0,
    seed: int = 0,
) -> Project:
    """A project with ``n`` records of ``labels`` (``gold`` of them gold) and one round
    that ``team`` (name -> true accuracy) works at overlap 2, errors on confusable pairs."""
    Project.init(root, labels=labels).close()
    path = root / CONFIG_NAME
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    doc["task"]["settings"] = {"overlap": 2, "redact_before_llm": False}
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    p = Project.open(root)
    truth = {i + 1: labels[i % len(labels)] for i in range(n + gold)}
    p.add_records([{"fields": {"text": f"request {i}: about {truth[i]}"}} for i in truth])
    if gold:
        with p.store.write() as tx:
            tx.set_final_labels(
                [
                    FinalLabel(i, "label", truth[i], Provenance.GOLD)
                    for i in range(n + 1, n + gold + 1)
                ]
            )
    for name in team:
        p.add_user(name, Role.ANNOTATOR)
    p.start_round(size=n, gold_rate=0.1 if gold else 0.0)
    active = set(team)
    while active:
        for name in sorted(active):
            try:
                item = p.next_item(name)
            except PermissionDeniedError:
                item = None
            if item is None:
                active.discard(name)
                continue
            rid = item.record.id
            assert rid is not None
            # seeded per answer: independent of the order of leases (and of the global
            # random state the honeypot draws use, which another test may have seeded)
            right = random.Random(f"{seed}/{name}/{rid}").random() < team[name]
            label = truth[rid] if right else _confusable(labels, truth[rid])
            p.answer(name, rid, {"label": label}, ResponseStatus.SUBMITTED)
    return p


@pytest.fixture(scope="module")
def intents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The report data of a round of 77 intents, two annotators at overlap 2, some gold."""
    root = tmp_path_factory.mktemp("intents") / "p"
    with build_project(root, INTENTS, {"amy": 0.9, "bob": 0.7}, n=462, gold=77) as p:
        yield p.qa_report(n_boot=50)


def _no_nan(html: str) -> None:
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    assert not re.search(r"\bnan\b", text, re.IGNORECASE), "NaN in the report"


def test_77_labels_chart_a_selection_and_tabulate_everything(intents: dict[str, Any]) -> None:
    assert len(intents["labels"]) == 77 > MANY_LABELS
    html = render_report(intents, title="intents")
    _no_nan(html)
    pngs = report_figures(intents)
    assert {"agreement.png", "annotators.png", "confusion-1.png", "confusion-2.png"} <= set(pngs)
    # the charts are the selections, and say so
    assert f"the {TOP_N} labels with the lowest agreement of 77" in html
    assert "The most confused label pairs" in html
    # every matrix in full, as a sortable table: a header row and one row per label
    matrices = re.findall(r'<table class="sortable matrix">(.*?)</table>', html, re.S)
    assert len(matrices) == 2
    for table in matrices:
        assert table.count("<tr>") == 1 + 77
        assert table.split("</thead>")[0].count("<th>") == 3 + 77
    per_label = html.split('id="agreement"')[1].split("Per annotator pair")[0]
    assert '<table class="sortable">' in per_label and per_label.count("<tr>") == 1 + 77
    # the sorting script runs under the report's own CSP, by hash, and nothing else does
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert scripts == [report_js()]
    digest = base64.b64encode(hashlib.sha256(report_js().encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in report_csp(script=True)
    meta = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html)
    assert meta is not None and unescape(meta.group(1)) == report_csp(script=True)
    # a fragment for a page with its own CSP carries no script
    assert "<script" not in render_report(intents, fragment=True, figure_url=lambda n: n)


def test_77_label_figure_titles_name_the_selection(intents: dict[str, Any]) -> None:
    """The server's QA page titles each figure from :func:`figure_titles`: above 15 labels
    they say the chart is a selection (the server once titled them "Confusion matrix")."""
    titles = figure_titles(intents)
    assert set(report_figures(intents)) <= set(titles)
    assert titles["agreement.png"].startswith("The labels with the lowest")
    assert titles["distribution.png"] == "The most frequent final labels"
    confusions = [t for name, t in titles.items() if name.startswith("confusion-")]
    assert len(confusions) == 2
    assert all(t.startswith("The most confused label pairs: ") for t in confusions)
    five = INTENTS[:5]
    square = [[0] * 5 for _ in five]
    confusions = [{**c, "labels": five, "matrix": square} for c in intents["confusions"]]
    few = {**intents, "labels": five, "confusions": confusions}
    assert figure_titles(few)["confusion-1.png"].startswith("Confusion matrix: ")


def test_77_label_selection_is_the_most_confused_and_the_lowest(intents: dict[str, Any]) -> None:
    data = QAReportData.from_dict(intents)
    by_label = data.agreement_by_label or {}
    known = sorted((e["value"], lab) for lab, e in by_label.items() if e["value"] is not None)
    lowest = [lab for _, lab in known[:TOP_N]]
    html = render_report(intents)
    section = html.split('id="agreement"')[1].split("</section>")[0]
    assert all(lab in section for lab in lowest)
    # amy and bob confuse neighbouring intents: the pairs table leads with such pairs
    pairs = html.split("Most confused label pairs (between annotators)")[1].split("</table>")[0]
    first = re.search(r"<td>(\S+) ↔ (\S+)</td>", pairs)
    assert first is not None
    a, b = first.groups()
    assert abs(INTENTS.index(a) - INTENTS.index(b)) == 1


def test_no_chart_has_overlapping_tick_labels_at_77_labels() -> None:
    rng = np.random.default_rng(0)
    k = len(INTENTS)
    drawn: list[Figure] = [
        figures.confusion_matrix.figure(rng.integers(0, 9, (k, k)), INTENTS),
        figures.agreement_by_label.figure(INTENTS, rng.random(k), [None] * k, [None] * k),
        figures.label_distribution.figure(INTENTS, {"consensus": rng.integers(0, 9, k)}),
        figures.confused_pairs.figure(
            [(INTENTS[i], INTENTS[i + 1]) for i in range(TOP_N)], rng.random(TOP_N)
        ),
        figures.annotator_accuracy.figure(
            [f"annotator-{i}" for i in range(12)], *(rng.random(12) for _ in range(4))
        ),
    ]
    for fig in drawn:
        assert figures.tick_overlaps(fig) == []
        shown = [t for t in fig.axes[0].get_xticklabels() if t.get_visible() and t.get_text()]
        assert shown  # thinned at worst, never blank


def test_the_overlap_check_finds_crowded_labels() -> None:
    """The check the test above relies on fails on crowded labels, and fitting fixes them."""
    fig = Figure(figsize=(7, 4), dpi=figures.DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.bar(range(77), np.ones(77))
    ax.set_xticks(range(77), INTENTS)
    crowded = figures.tick_overlaps(fig)
    assert len(crowded) > 70 and (INTENTS[0], INTENTS[1]) in crowded
    assert figures.tick_overlaps(figures.fit_ticks(fig)) == []
    assert ax.get_xticklabels()[0].get_rotation() == 90


def test_a_lone_annotator_reads_not_enough_data_never_nan(tmp_path: Path) -> None:
    with build_project(tmp_path / "p", ["yes", "no", "maybe"], {"amy": 0.9}, n=40) as p:
        data = p.qa_report(n_boot=50)
    html = render_report(data)
    _no_nan(html)
    annotators = html.split('id="annotators"')[1].split("</section>")[0]
    assert "not enough data: answered no gold record" in annotators
    assert "not enough data: only one annotator: Dawid-Skene needs two or more" in annotators
    assert "annotators.png" not in report_figures(data)  # no empty axes: it says why
    assert "Not enough data for a chart" in annotators
    assert "is undefined: only &#39;amy&#39; has responded; agreement needs two annotators." in html
    assert "Only one annotator answered in this round: there is no pair to compare." in html
    assert "No gold item was answered in this round" in html
    assert not {n for n in report_figures(data) if n.startswith("confusion")}


def test_nan_anywhere_in_the_data_becomes_none_with_a_reason() -> None:
    nan = float("nan")
    data = {
        "n_annotators": 1,
        "agreement": {"value": nan, "ci": [nan, nan], "n": 10},
        "agreement_by_label": {"a": {"value": nan}, "b": {"value": 0.5, "low": nan}},
        "annotators": [{"name": "amy", "gold_n": 3, "gold_accuracy": 1.0, "ds_accuracy": nan}],
        "trends": [{"round": 1, "agreement": {"value": math.inf}}, {"round": 2}],
    }
    parsed = QAReportData.from_dict(data)
    assert parsed.agreement == {
        "value": None,
        "low": None,
        "high": None,
        "n": 10,
        "reason": "not a number",
    }
    assert parsed.annotators is not None and parsed.annotators[0]["ds_accuracy"] is None
    html = render_report(parsed)
    _no_nan(html)
    assert "undefined (not a number)" in html
    # a dataclass built by hand is cleaned the same way
    raw = QAReportData(annotators=[{"name": "amy", "ds_accuracy": nan}], n_annotators=1)
    _no_nan(render_report(raw))
    assert "not enough data: only one annotator" in render_report(raw)


def test_three_labels_keep_the_matrices_and_no_script(tmp_path: Path) -> None:
    team = {"amy": 0.95, "bob": 0.8, "cat": 0.6}
    with build_project(tmp_path / "p", ["yes", "no", "maybe"], team, n=90, gold=9) as p:
        data = p.qa_report(n_boot=50)
    html = render_report(data)
    _no_nan(html)
    assert "<script" not in html and "script-src" not in html and 'class="sortable' not in html
    pngs = report_figures(data)
    assert {"agreement.png", "annotators.png", "confusion-1.png", "distribution.png"} <= set(pngs)
    assert "The full matrix" not in html  # three labels: the matrix figure is readable


def test_empty_matrices_and_zero_counts_say_why_instead_of_drawing() -> None:
    labels = ["a", "b", "c"]
    zeros = [[0] * 3 for _ in labels]
    data = {
        "n_annotators": 2,
        "n_responses": 10,
        "confusions": [
            {"kind": "annotators", "labels": labels, "matrix": zeros},
            {"kind": "gold", "labels": labels, "matrix": zeros},
        ],
        "label_distribution": {"consensus": {"a": 0, "b": 0}},
        "trends": [{"round": 1, "agreement": {"value": None}}, {"round": 2}],
    }
    html = render_report(data)
    assert report_figures(data) == {}
    assert "No record was answered by two annotators" in html
    assert "No gold item was answered in this round" in html
    assert "no record of this round has a final label" in html
    assert "No round has a measured agreement or gold accuracy yet" in html
    none_yet = render_report({**data, "n_responses": 0})
    assert none_yet.count("No responses were submitted in this round yet.") == 2


def test_span_types_get_their_table() -> None:
    data = {
        "span_types": [
            {
                "label": "Disease",
                "support": 40,
                "agreement": {"value": 0.81, "ci": [0.7, 0.9]},
                "precision": {"amy": 0.9, "bob": 0.75},
            },
            {"label": "Gene", "support": 3, "agreement": 0.5, "precision": {"amy": None}},
        ]
    }
    html = render_report(data)
    section = html.split('id="span-types"')[1].split("</section>")[0]
    assert "<th>Precision: amy</th><th>Precision: bob</th>" in section
    assert "0.810 [0.700, 0.900]" in section and "0.750" in section
    gene = section.split("<td>Gene</td>")[1].split("</tr>")[0]
    assert gene.count("not enough data") == 2  # amy had no Gene span scored; bob none at all
    assert 'href="#span-types"' in html
    assert 'id="span-types"' not in render_report({})  # no span question: no section
    # as the per-kind round gives them: no agreement, precision and recall per annotator
    kinds = {
        "span_types": [
            {"label": "Disease", "support": 9, "precision": {"amy": 0.5}, "recall": {"amy": 1.0}}
        ]
    }
    section = render_report(kinds).split('id="span-types"')[1].split("</section>")[0]
    assert "<th>Agreement</th>" not in section
    assert "<th>Precision: amy</th><th>Recall: amy</th>" in section
    assert '<td class="num">0.500</td><td class="num">1.000</td>' in section


def test_per_kind_score_rows_read_as_gold_score_and_skill() -> None:
    """Rows as the per-kind scorer gives them (``gold_score``, ``skill``, ``skill_reason``)."""
    rows = [
        {"name": "amy", "metric": "span F1", "gold_n": 4, "gold_score": 0.8, "skill": 0.75},
        {
            "name": "bob",
            "metric": "span F1",
            "gold_n": 0,
            "gold_reason": "answered no gold record",
            "skill": None,
            "skill_reason": "shares no record with another annotator",
        },
    ]
    data = {"n_annotators": 2, "annotators": rows}
    html = render_report(data)
    annotators = html.split('id="annotators"')[1].split("</section>")[0]
    assert "<th>Gold span F1</th>" in annotators and "<th>Skill (all work)</th>" in annotators
    assert "0.800" in annotators and "0.750" in annotators
    assert "not enough data: answered no gold record" in annotators
    assert "not enough data: shares no record with another annotator" in annotators
    assert "annotators.png" in report_figures(data)

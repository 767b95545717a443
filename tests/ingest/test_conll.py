"""CoNLL BIO import: sentences become records, tag runs become character spans."""

from __future__ import annotations

from pathlib import Path

import pytest

from _ci import skip_or_fail
from goldsmith import ExportOptions, ImportOptions, InputError, Project, Provenance

NCBI = (
    Path(__file__).resolve().parents[2].parent
    / "shared/data/healthcare/ncbi_disease/conll/devel.tsv"
)


def _ner(tmp_path: Path, name: str = "ner") -> Project:
    return Project.init(tmp_path / name, template="ner", labels=["Disease", "Gene"])


def _spans(project: Project) -> list[tuple[str, list[tuple[str, str]]]]:
    out = []
    with project.store.read() as tx:
        for batch in tx.iter_labeled():
            for record, labels in batch:
                text = record.fields["text"]
                spans = [(text[s["start"] : s["end"]], s["label"]) for s in labels["spans"].value]
                out.append((text, spans))
    return out


def test_bio_runs_become_spans(tmp_path: Path) -> None:
    path = tmp_path / "x.conll"
    path.write_text(
        "-DOCSTART-\tO\n\n"
        "Familial\tB-Disease\nbreast\tI-Disease\ncancer\tI-Disease\nand\tO\nBRCA1\tB-Gene\n.\tO\n\n"
        "No\tO\nentities\tO\n\n"
        "ataxia\tI-Disease\ntelangiectasia\tI-Disease\n",  # IOB1: I- opens a span
        encoding="utf-8",
    )
    with _ner(tmp_path) as p:
        report = p.import_records(path)
        assert (report.fmt, report.n_inserted, report.n_labels) == ("conll", 3, 3)
        assert _spans(p) == [
            (
                "Familial breast cancer and BRCA1 .",
                [("Familial breast cancer", "Disease"), ("BRCA1", "Gene")],
            ),
            ("No entities", []),
            ("ataxia telangiectasia", [("ataxia telangiectasia", "Disease")]),
        ]
        with p.store.read() as tx:
            (first,) = tx.get_records([1])
        assert first.source_row == 3


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("ok\tO\nbad\tX-Disease\n", 2, "not O, B-LABEL"),
        ("ok\tO\n\nfine\tB-Tumour\n", 3, "not one of"),
        ("ok\tO\nlonely\n", 2, "expected a token and a tag"),
    ],
)
def test_bad_tags_name_the_line_and_change_nothing(
    tmp_path: Path, body: str, line: int, message: str
) -> None:
    path = tmp_path / "bad.conll"
    path.write_text("good\tB-Gene\n\n" + body, encoding="utf-8")
    with _ner(tmp_path) as p:
        with pytest.raises(InputError, match=message) as err:
            p.import_records(path)
        assert (err.value.line, err.value.field) == (line + 2, "tag")
        assert p.status()["records"]["total"] == 0


def test_needs_a_spans_question(tmp_path: Path) -> None:
    path = tmp_path / "x.conll"
    path.write_text("a\tO\n", encoding="utf-8")
    with (
        Project.init(tmp_path / "clf", labels=["a"]) as p,
        pytest.raises(InputError, match="spans"),
    ):
        p.import_records(path)


def test_conll_export_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "in.conll"
    path.write_text(
        "The\tO\nHD\tB-Disease\ngene\tO\nIT15\tB-Gene\n\nMyotonic\tB-Disease\ndystrophy\tI-Disease\n",
        encoding="utf-8",
    )
    with _ner(tmp_path, "a") as a:
        a.import_records(path)
        out = a.export(ExportOptions(fmt="conll", out=tmp_path / "out", validate=False))
        expected = _spans(a)
    with _ner(tmp_path, "b") as b:
        b.import_records(out.files["train"])
        assert _spans(b) == expected
        assert b.status()["provenance"] == {str(Provenance.GOLD): 2}


def test_ncbi_disease_devel(tmp_path: Path) -> None:
    if not NCBI.is_file():
        skip_or_fail(f"no {NCBI}")
    with _ner(tmp_path) as p:
        report = p.import_records(NCBI, ImportOptions(fmt="conll"))
        sentences = NCBI.read_text(encoding="utf-8").count("\n\n")
        assert report.n_read == pytest.approx(sentences, abs=2)
        assert report.n_inserted + report.n_duplicates == report.n_read
        mentions = [s for _, spans in _spans(p) for s in spans]
        assert all(label == "Disease" for _, label in mentions)
        b_tags = sum(
            1 for ln in NCBI.read_text(encoding="utf-8").splitlines() if ln.endswith("B-Disease")
        )
        assert len(mentions) <= b_tags and len(mentions) > 0.9 * b_tags  # duplicates dropped

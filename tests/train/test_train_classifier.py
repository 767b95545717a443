"""``train classifier`` and ``eval`` on real phrasebank sentences: the numbers are checked
against a manual computation, the weights against what they should change, the report and
the card against what they must say."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from sklearn.metrics import accuracy_score, f1_score
from typer.testing import CliRunner

from _ci import import_or_skip
from goldsmith import ConfigError, FinalLabel, Provenance, Record
from goldsmith.cli import app
from goldsmith.models.vectors import embed_records
from goldsmith.schema import content_hash
from goldsmith.train.data import WeightPolicy

Bank = Any  # conftest.Bank: project, ids, labels (truth), provenance per record id
LABELS = ["positive", "negative", "neutral"]


def test_eval_numbers_match_a_manual_computation(bank: Bank, tmp_path: Path) -> None:
    project = bank.project
    manifest, report = project.train_classifier(tmp_path / "clf")
    assert report.n == len(manifest.test_ids) > 0
    # by hand: the pickled model on the stored vectors of the held-out ids
    fitted = pickle.loads((tmp_path / "clf" / "classifier.pkl").read_bytes())
    embedded = embed_records(project.store, project.embedder("tfidf"))
    row = {int(r): i for i, r in enumerate(embedded.record_ids)}
    X = embedded.vectors[[row[r] for r in manifest.test_ids]]
    predicted = fitted.predict_labels(X)
    truth = [bank.labels[r] for r in manifest.test_ids]
    assert all(bank.provenance[r] is Provenance.GOLD for r in manifest.test_ids)
    scores = report.rows["classifier"]
    assert scores["accuracy"] == pytest.approx(accuracy_score(truth, predicted))
    assert scores["macro_f1"] == pytest.approx(
        f1_score(truth, predicted, labels=LABELS, average="macro")
    )
    assert scores["macro_f1"] > report.rows["majority class"]["macro_f1"] + 0.2
    again, _ = project.evaluate(tmp_path / "clf")  # from the folder alone: the same numbers
    assert again.rows == report.rows


def _corrupt_machine_labels(bank: Bank) -> None:
    """Every weak and LLM label becomes a wrong class (confidence 0.9)."""
    wrong = {lab: LABELS[(LABELS.index(lab) + 1) % 3] for lab in LABELS}
    with bank.project.store.write() as tx:
        tx.set_final_labels(
            FinalLabel(rid, "label", wrong[bank.labels[rid]], prov, 0.9)
            for rid, prov in bank.provenance.items()
            if prov in (Provenance.WEAK, Provenance.LLM)
        )


def test_provenance_weights_change_the_model(bank: Bank, tmp_path: Path) -> None:
    _corrupt_machine_labels(bank)
    project = bank.project
    equal = WeightPolicy.parse("weak=1,llm=1", min_machine_confidence=0.0)
    off = WeightPolicy.parse("weak=0,llm=0")
    m_equal, r_equal = project.train_classifier(tmp_path / "equal", policy=equal)
    m_off, r_off = project.train_classifier(tmp_path / "off", policy=off)
    assert m_equal.test_ids == m_off.test_ids  # the same held-out gold
    assert m_equal.data["train_provenance"].get("weak", 0) > 0
    assert "weak" not in m_off.data["train_provenance"]
    assert r_off.rows["classifier"]["macro_f1"] > r_equal.rows["classifier"]["macro_f1"] + 0.1


def test_card_names_the_dataset_version_and_report_is_self_contained(
    bank: Bank, tmp_path: Path
) -> None:
    manifest, _ = bank.project.train_classifier(tmp_path / "clf")
    card = (tmp_path / "clf" / "README.md").read_text("utf-8")
    assert f"goldsmith_dataset_version: {manifest.data['version']}" in card
    assert "| classifier |" in card
    html = (tmp_path / "clf" / "eval" / "eval-test.html").read_text("utf-8")
    assert "Content-Security-Policy" in html and "<script" not in html.lower()
    assert html.count('src="data:image/png;base64,') == 2  # a confusion matrix per row
    data = json.loads((tmp_path / "clf" / "eval" / "eval-test.json").read_text("utf-8"))
    assert data["rows"]["classifier"]["confusion"]


def test_eval_refuses_vectors_of_a_changed_corpus(bank: Bank, tmp_path: Path) -> None:
    project = bank.project
    project.train_classifier(tmp_path / "clf")
    extra = Record(fields={"text": "A brand new sentence about quarterly dividends."})
    extra.content_hash = content_hash(extra.fields)
    with project.store.write() as tx:
        tx.insert_records([extra])
    with pytest.raises(ConfigError, match="retrain the classifier"):
        project.evaluate(tmp_path / "clf")


def test_cli_train_then_eval(bank: Bank, tmp_path: Path) -> None:
    root = str(bank.project.root)
    out = str(tmp_path / "cli-clf")
    runner = CliRunner()
    trained = runner.invoke(app, ["train", "classifier", "-p", root, "--out", out])
    assert trained.exit_code == 0, trained.output
    assert "macro_f1" in trained.output and "data version" in trained.output
    evaluated = runner.invoke(app, ["eval", "-p", root, "--model", out, "--split", "train"])
    assert evaluated.exit_code == 0, evaluated.output
    assert (Path(out) / "eval" / "eval-train.html").is_file()
    bad = runner.invoke(app, ["eval", "-p", root, "--model", str(tmp_path)])
    assert bad.exit_code == 1 and "goldsmith-model.json" in bad.output


def test_examples_read_only_their_own_vectors(bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every record is embedded (the fit and id of the loop's), but only the examples'
    vectors come back into memory, in the examples' order."""
    from goldsmith.store.embeddings import EmbeddingsTx
    from goldsmith.train.classifier import embed_examples
    from goldsmith.train.data import Example

    project = bank.project
    everything = embed_records(project.store, project.embedder("tfidf"))
    asked: list[int] = []
    get = EmbeddingsTx.get_embeddings
    monkeypatch.setattr(
        EmbeddingsTx, "get_embeddings", lambda tx, m, ids: asked.append(len(ids)) or get(tx, m, ids)
    )
    picked = [bank.ids[7], bank.ids[2], bank.ids[40]]
    with project.store.read() as tx:
        records = tx.get_records(picked)
    examples = [Example(r, "positive", Provenance.GOLD, 1.0, 1.0) for r in records]
    model_id, X = embed_examples(project.store, project.embedder("tfidf"), examples)
    row = {int(r): i for i, r in enumerate(everything.record_ids)}
    assert model_id == everything.model_id and asked == [3]
    assert X.tobytes() == everything.vectors[[row[r] for r in picked]].tobytes()


@pytest.mark.slow
def test_setfit_learner_trains_and_evaluates_from_texts(bank: Bank, tmp_path: Path) -> None:
    """``train classifier --learner setfit``: fitted on the texts (no vectors), scored on the
    held-out gold from the folder alone, the learner named in the manifest."""
    import_or_skip("torch", install="pip install 'goldsmith[train]'")
    out = tmp_path / "sf"
    result = CliRunner().invoke(
        app, ["train", "classifier", "-p", str(bank.project.root), "--out", str(out),
              "--learner", "setfit"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "goldsmith-model.json").read_text())
    assert manifest["params"]["learner"] == "setfit"
    fitted = pickle.loads((out / "classifier.pkl").read_bytes())
    assert fitted.reads_texts and fitted.embedder_id.startswith("setfit:")
    report, _ = bank.project.evaluate(out)
    scores = report.rows["classifier"]
    assert scores["macro_f1"] > report.rows["majority class"]["macro_f1"] + 0.2


def test_unknown_learner_is_a_clear_error(bank: Bank, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["train", "classifier", "-p", str(bank.project.root), "--out", str(tmp_path / "x"),
              "--learner", "forest"],
    )  # fmt: skip
    assert result.exit_code != 0 and "unknown learner 'forest'" in result.output
    assert "Traceback" not in result.output

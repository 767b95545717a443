"""Weak labels in training: the policy keeps every machine label, old manifests load as they
were trained, and on real weak supervision the end model beats today's 0.7-floor policy."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from _ci import skip_or_fail
from goldsmith.errors import SchemaError
from goldsmith.models.soft_labels import argmax_labels, expand_soft_labels, label_posteriors
from goldsmith.train.data import WeightPolicy

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared/data"
MODEL2VEC = ROOT.parent / "shared/models/m2v-minilm-l6"


def test_default_policy_keeps_every_machine_label() -> None:
    p = WeightPolicy()
    assert p.min_machine_confidence == 0.0
    assert p.weight("weak", 0.3) == pytest.approx(0.15)
    assert WeightPolicy.legacy().weight("weak", 0.3) == 0.0


def test_manifest_without_machine_mode_loads_as_the_old_policy() -> None:
    old = {"weights": {"weak": 0.5, "gold": 1.0}, "min_machine_confidence": 0.7}
    p = WeightPolicy.from_dict(old)
    assert (p.machine, p.min_machine_confidence) == ("weighted", 0.7)
    new = WeightPolicy(machine="soft")
    assert WeightPolicy.from_dict(new.as_dict()) == new
    with pytest.raises(SchemaError, match="upgrade goldsmith"):
        WeightPolicy.from_dict({**new.as_dict(), "machine": "bogus"})


def test_soft_targets_spread_each_weak_record_over_the_classes() -> None:
    labels, conf = np.array([2, 0, 1]), np.array([0.6, 1.0, 0.9])
    rows, y, w = WeightPolicy(machine="soft").targets(labels, conf, ["weak", "gold", "llm"], 3)
    per_record = np.bincount(rows, weights=w, minlength=3)
    assert per_record.tolist() == pytest.approx([0.5, 1.0, 0.5])  # base weight each
    assert w[(rows == 0) & (y == 2)] == pytest.approx([0.3])  # 0.5 x 0.6 on the label
    assert w[(rows == 0) & (y == 1)] == pytest.approx([0.1])  # 0.5 x 0.4 / 2 elsewhere
    assert np.all(np.diff(rows) >= 0)


def test_soft_rows_are_cross_entropy_against_the_soft_target() -> None:
    """Weighted log-loss of the expanded rows == sum of cross-entropies of the posteriors."""
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(4), size=20)
    q = rng.dirichlet(np.ones(4), size=20)  # any model's predicted probabilities
    rows, y, w = expand_soft_labels(np.arange(20), P, np.full(20, 0.5))
    expanded = float((w * -np.log(q[rows, y])).sum())
    assert expanded == pytest.approx(float((0.5 * P * -np.log(q)).sum()))
    yh, wh = argmax_labels(P)
    assert (yh == P.argmax(1)).all() and wh == pytest.approx(P.max(1))


def test_bad_inputs_say_what_to_pass() -> None:
    with pytest.raises(SchemaError, match="not scores"):
        expand_soft_labels([0], [[2.0, 1.0]])
    with pytest.raises(SchemaError, match="class indices"):
        label_posteriors([3], [0.9], 3)
    with pytest.raises(SchemaError, match="machine label mode"):
        WeightPolicy(machine="hard")  # type: ignore[arg-type]


def _bench() -> object:
    spec = importlib.util.spec_from_file_location("weak_training", ROOT / "bench/weak_training.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["weak_training"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        "youtube",
        pytest.param(
            "sms",
            marks=pytest.mark.xfail(
                strict=True,
                reason="measured miss since the balanced decision rule: weighted 91.73 < "
                "today 92.42 < argmax 93.23 (RESULTS.md)",
            ),
        ),
        pytest.param(
            "trec",
            marks=pytest.mark.xfail(
                strict=True,
                reason="measured miss: weighted, chosen on valid, 58.6 < argmax 61.2 (RESULTS.md)",
            ),
        ),
        "cuad",
    ],
)
def test_end_model_on_weak_labels_beats_todays_policy(name: str) -> None:
    """The new policy (mode chosen on valid) >= argmax labels and > the 0.7 floor, on test."""
    if not (DATA / "weak_supervision/wrench").is_dir() or not MODEL2VEC.is_dir():
        skip_or_fail("needs ../shared/data and ../shared/models")
    bench = _bench()
    from goldsmith.models.embed import make_embedder

    loader = bench.load_cuad if name == "cuad" else bench.load_wrench  # type: ignore[attr-defined]
    splits, k = loader(DATA) if name == "cuad" else loader(DATA, name)
    scores = bench.run_set(name, splits, k, make_embedder(f"model2vec:{MODEL2VEC}"))  # type: ignore[attr-defined]
    assert scores["new"] > scores["today"]
    assert scores["new"] >= scores["argmax"]

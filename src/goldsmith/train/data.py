"""What a model is trained and evaluated on: final labels, weighted by provenance, split so
that nothing of the test set leaks into training.

The test split is **held-out gold**: a stratified share of the gold-labeled records, drawn
whole by duplicate group (:func:`goldsmith.export.plan.plan_splits`). Training gets every
other final label that its provenance weight lets through. A training record is dropped when
it shares a duplicate group with a test record, or when it is a synthetic record whose parent
(or the parent's group) is in the test split: a near copy or a paraphrase of a test record in
training would inflate the score.

==============  ==========================================================================
provenance      weight in training (default :class:`WeightPolicy`)
==============  ==========================================================================
gold, review    1.0
human           1.0
consensus       0.9 × confidence
weak, llm       0.5 × confidence, every one kept (no floor by default)
synthetic       0.5, training only, next to a parent that is in training
==============  ==========================================================================

Machine labels (weak, llm) are noisy, and how sure the label model was is the best guide to
how much each one should count. ``machine="weighted"`` (the default) trains on the stored
label weighted by ``0.5 × confidence``; ``machine="soft"`` trains on the posterior instead:
the label gets its confidence, the rest is spread over the other classes
(:func:`goldsmith.models.soft_labels.label_posteriors`), and each class becomes a row
weighted by its share (:func:`goldsmith.models.soft_labels.expand_soft_labels`), which is
the cross-entropy against the soft target. No machine label is dropped unless
``min_machine_confidence`` (default 0) says so. The old policy (a 0.7 floor) kept 234 of
1,368 labels of a 10-class label model and halved the end model's accuracy. The default mode
was chosen on the WRENCH and CUAD *valid* splits (mean score 75.4 weighted, 74.2 soft); see
``bench/RESULTS.md`` ("Weak supervision: end model on weak labels").
A manifest written before this policy existed loads as the old one.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from goldsmith.errors import SchemaError
from goldsmith.export.plan import plan_splits, stratum
from goldsmith.models.soft_labels import MACHINE_WEIGHT, expand_soft_labels, label_posteriors
from goldsmith.schema import FinalLabel, Provenance, Question, Record, Task
from goldsmith.store import Store

MACHINE = frozenset({Provenance.WEAK, Provenance.LLM})
DEFAULT_WEIGHTS: Mapping[Provenance, float] = MappingProxyType(
    {
        Provenance.GOLD: 1.0,
        Provenance.REVIEW: 1.0,
        Provenance.HUMAN: 1.0,
        Provenance.CONSENSUS: 0.9,
        Provenance.WEAK: MACHINE_WEIGHT,
        Provenance.LLM: MACHINE_WEIGHT,
        Provenance.SYNTHETIC: 0.5,
    }
)


MachineMode = Literal["soft", "weighted"]
MACHINE_MODES: tuple[MachineMode, ...] = ("soft", "weighted")


@dataclass(frozen=True, slots=True)
class WeightPolicy:
    """How much a final label counts in training, by provenance and confidence.

    Parameters
    ----------
    weights
        Base weight per provenance (:data:`DEFAULT_WEIGHTS` by default).
    min_machine_confidence
        Weak and LLM labels below this confidence are left out (default 0: none is).
    machine
        ``"weighted"`` (default): a machine label trains as its label alone, weighted by
        ``base × confidence``; ``"soft"``: a single-label classifier trains on each machine
        label's posterior, one row per class (see the module docstring). Other learners
        (LLM fine-tuning, multilabel questions) always use the ``"weighted"`` form.

    Examples
    --------
    >>> p = WeightPolicy()
    >>> p.weight(Provenance.HUMAN, 0.4), p.weight(Provenance.WEAK, 0.6), p.weight("llm", 0.8)
    (1.0, 0.3, 0.4)
    >>> WeightPolicy(min_machine_confidence=0.7).weight("weak", 0.6)
    0.0
    """

    weights: Mapping[Provenance, float] = field(default_factory=lambda: DEFAULT_WEIGHTS)
    min_machine_confidence: float = 0.0  # weak and llm labels below this are not used
    machine: MachineMode = "weighted"

    def __post_init__(self) -> None:
        if self.machine not in MACHINE_MODES:
            raise SchemaError(
                f"machine label mode {self.machine!r}: choose one of {', '.join(MACHINE_MODES)}"
            )
        if not 0.0 <= self.min_machine_confidence <= 1.0:
            raise SchemaError(
                f"min_machine_confidence {self.min_machine_confidence}: must lie in [0, 1] "
                "(0 keeps every weak and LLM label)"
            )

    def weight(self, provenance: Provenance | str, confidence: float) -> float:
        """The sample weight of one label as a hard label; 0 means it is left out.

        For a soft machine label this is also the total weight of its rows.
        """
        prov = Provenance(provenance)
        base = float(self.weights.get(prov, 0.0))
        if prov in MACHINE:
            return base * confidence if confidence >= self.min_machine_confidence else 0.0
        if prov is Provenance.CONSENSUS:
            return base * confidence
        return base

    def is_soft(self, provenance: Provenance | str) -> bool:
        """Whether a single-label classifier trains on this provenance's posterior."""
        return self.machine == "soft" and Provenance(provenance) in MACHINE

    def targets(
        self,
        labels: npt.ArrayLike,
        confidence: npt.ArrayLike,
        provenance: Sequence[Provenance | str],
        n_classes: int,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Training rows of a single-label classifier under this policy.

        Parameters
        ----------
        labels : array of int, shape (n,)
            Class index of each example's final label.
        confidence : array of float, shape (n,)
            The label's confidence (the label model's or LLM's probability for machine labels).
        provenance : sequence of Provenance or str, length n
        n_classes : int

        Returns
        -------
        row_index, y, sample_weight
            Train on ``X[row_index]`` with classes ``y`` and weights ``sample_weight``.
            Hard labels give one row; soft machine labels one row per class with weight
            ``base × posterior``. Examples weighted 0 give no row.

        Examples
        --------
        >>> soft = WeightPolicy(machine="soft")
        >>> r, y, w = soft.targets([0, 1], [1.0, 0.8], ["gold", "weak"], 2)
        >>> r.tolist(), y.tolist(), w.round(3).tolist()
        ([0, 1, 1], [0, 0, 1], [1.0, 0.1, 0.4])
        """
        y = np.asarray(labels, dtype=np.int64).reshape(-1)
        conf = np.asarray(confidence, dtype=np.float64).reshape(-1)
        if not len(y) == len(conf) == len(provenance):
            raise SchemaError(
                f"labels, confidence and provenance differ in length: "
                f"{len(y)}, {len(conf)}, {len(provenance)}"
            )
        w = np.array([self.weight(p, c) for p, c in zip(provenance, conf, strict=True)])
        soft = np.array([self.is_soft(p) for p in provenance], dtype=bool) & (w > 0)
        hard = ~soft & (w > 0)
        base = np.array([float(self.weights.get(Provenance(p), 0.0)) for p in provenance])
        idx = np.flatnonzero(soft)
        posteriors = label_posteriors(y[idx], conf[idx], n_classes)
        rows_s, y_s, w_s = expand_soft_labels(idx, posteriors, base[idx])
        rows_h = np.flatnonzero(hard).astype(np.int64)
        order = np.argsort(np.concatenate([rows_h, rows_s]), kind="stable")
        return (
            np.concatenate([rows_h, rows_s])[order],
            np.concatenate([y[rows_h], y_s])[order],
            np.concatenate([w[rows_h], w_s])[order],
        )

    @classmethod
    def parse(
        cls,
        spec: str,
        *,
        min_machine_confidence: float = 0.0,
        machine: MachineMode = "weighted",
    ) -> WeightPolicy:
        """``"weak=0.3,llm=0"`` overrides the named weights of the default policy."""
        weights = dict(DEFAULT_WEIGHTS)
        for part in filter(None, (p.strip() for p in spec.split(","))):
            name, _, value = part.partition("=")
            try:
                weights[Provenance(name.strip())] = float(value)
            except ValueError:
                raise SchemaError(
                    f"weights {spec!r}: expected provenance=weight pairs such as 'weak=0.3', "
                    f"provenances: {', '.join(p.value for p in Provenance)}"
                ) from None
        return cls(MappingProxyType(weights), min_machine_confidence, machine)

    @classmethod
    def legacy(cls) -> WeightPolicy:
        """The policy before soft labels: machine labels below 0.7 dropped, the rest
        weighted ``0.5 × confidence`` (what manifests without ``machine`` were trained with)."""
        return cls(DEFAULT_WEIGHTS, 0.7, "weighted")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WeightPolicy:
        """The inverse of :meth:`as_dict` (what a model's manifest stores). A manifest from
        before soft labels (no ``machine`` key) loads as :meth:`legacy`, so its training set
        is rebuilt as it was."""
        weights = {Provenance(k): float(v) for k, v in data.get("weights", {}).items()}
        old = "machine" not in data
        floor = float(data.get("min_machine_confidence", 0.7 if old else 0.0))
        machine = str(data.get("machine", "weighted"))
        if machine not in MACHINE_MODES:
            raise SchemaError(
                f"manifest weight policy has machine={machine!r}; this goldsmith knows "
                f"{', '.join(MACHINE_MODES)}: upgrade goldsmith or retrain the model"
            )
        return cls(MappingProxyType(weights), floor, machine)

    def as_dict(self) -> dict[str, Any]:
        return {
            "weights": {str(k): v for k, v in self.weights.items()},
            "min_machine_confidence": self.min_machine_confidence,
            "machine": self.machine,
        }


@dataclass(frozen=True, slots=True)
class Example:
    """One labeled record as the trainer sees it."""

    record: Record
    value: Any
    provenance: Provenance
    confidence: float
    weight: float

    @property
    def record_id(self) -> int:
        return int(self.record.id or 0)


@dataclass(slots=True)
class TrainingSet:
    """Training and held-out test examples of one question, with how they were chosen."""

    question: Question
    train: list[Example]
    test: list[Example]
    seed: int
    test_fraction: float
    excluded: dict[str, int] = field(default_factory=dict)  # reason -> records left out
    guideline_version: int | None = None
    policy: WeightPolicy = field(default_factory=WeightPolicy)  # how train examples count

    def check_no_leak(self) -> None:
        """Raise if a record or a duplicate group is on both sides (a bug if it happens)."""
        test_ids = {e.record_id for e in self.test}
        test_groups = {e.record.dup_group for e in self.test} - {None}
        for e in self.train:
            if e.record_id in test_ids or (
                e.record.dup_group is not None and e.record.dup_group in test_groups
            ):
                raise SchemaError(
                    f"record {e.record_id} (group {e.record.dup_group}) is in both the training "
                    "and the test split"
                )

    def provenance_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(str(e.provenance) for e in self.train).items()))

    def version(self) -> str:
        """A short hash of what was trained and tested on: ids, text hashes, labels, weights."""
        h = hashlib.sha256()
        for side, examples in (("train", self.train), ("test", self.test)):
            for e in sorted(examples, key=lambda x: x.record_id):
                row = [side, e.record_id, e.record.content_hash, e.value, str(e.provenance)]
                h.update(json.dumps([*row, round(e.weight, 6)], sort_keys=True).encode())
        return h.hexdigest()[:12]

    def summary(self) -> dict[str, Any]:
        """What the model card and the manifest record about the data."""
        return {
            "version": self.version(),
            "question": self.question.name,
            "n_train": len(self.train),
            "n_test": len(self.test),
            "train_provenance": self.provenance_counts(),
            "test_provenance": "gold (held out)",
            "test_fraction_of_gold": self.test_fraction,
            "seed": self.seed,
            "excluded": dict(self.excluded),
            "guideline_version": self.guideline_version,
        }


def build_training_set(
    store: Store,
    task: Task,
    question: str | None = None,
    *,
    policy: WeightPolicy | None = None,
    test_fraction: float = 0.3,
    test_ids: Sequence[int] | None = None,
    seed: int = 0,
) -> TrainingSet:
    """Collect the final labels of ``question`` and split them for training and evaluation.

    Parameters
    ----------
    store, task
        The project's store and task.
    question
        The question to train on (default: the task's first).
    policy
        Provenance weights (default :class:`WeightPolicy`).
    test_fraction
        Share of the gold records held out for evaluation (they never train).
    test_ids
        The exact test records (an evaluation of a saved model passes the ones it was
        trained without); ``test_fraction`` and ``seed`` then do not choose them.
    seed
        Seed of the held-out draw.

    Raises
    ------
    SchemaError
        No gold to hold out, or nothing left to train on.
    """
    if not 0.0 < test_fraction < 1.0:
        raise SchemaError(f"test fraction {test_fraction}: must lie strictly between 0 and 1")
    q = task.question(question)
    policy = policy or WeightPolicy()
    with store.read() as tx:
        labeled = [
            (record, labels[q.name])
            for batch in tx.iter_labeled()
            for record, labels in batch
            if q.name in labels
        ]
        synthetic = [r.id or 0 for r, f in labeled if f.provenance is Provenance.SYNTHETIC]
        parents = tx.synthetic_parents(synthetic) if synthetic else {}
        guideline = tx.latest_guideline_version()
    test_set = _held_out(q, labeled, test_fraction, test_ids, seed)
    test_groups = {r.dup_group for r, _ in labeled if r.id in test_set} - {None}
    group_of = {int(r.id or 0): r.dup_group for r, _ in labeled}
    out = TrainingSet(q, [], [], seed, test_fraction, Counter(), guideline, policy)
    for record, label in labeled:
        rid = int(record.id or 0)
        if rid in test_set:
            out.test.append(_example(record, label, 1.0))
            continue
        reason = _leak(record, parents.get(rid), test_set, test_groups, group_of)
        weight = policy.weight(label.provenance, label.confidence)
        if reason is None and weight <= 0.0:
            reason = f"{label.provenance} below policy"
        if reason is not None:
            out.excluded[reason] = out.excluded.get(reason, 0) + 1
            continue
        out.train.append(_example(record, label, weight))
    if not out.train:
        raise SchemaError(
            f"nothing to train on for {q.name!r}: every final label is held out or weighted 0 "
            f"(left out: {dict(out.excluded)}); label more records"
        )
    out.check_no_leak()
    return out


def _held_out(
    q: Question,
    labeled: list[tuple[Record, FinalLabel]],
    fraction: float,
    test_ids: Sequence[int] | None,
    seed: int,
) -> set[int]:
    if test_ids is not None:
        known = {int(r.id or 0) for r, _ in labeled}
        missing = sorted(set(test_ids) - known)
        if missing:
            raise SchemaError(
                f"{len(missing)} test record(s) no longer have a final label for {q.name!r} "
                f"(first: {missing[:5]}); retrain the model"
            )
        return {int(i) for i in test_ids}
    gold = [(r, f) for r, f in labeled if f.provenance is Provenance.GOLD]
    if len(gold) < 2:
        raise SchemaError(
            f"{len(gold)} gold label(s) for {q.name!r}: evaluation holds out gold; import records "
            "with their labels (imported labels are gold) or promote human labels with "
            "Project.mark_gold"
        )
    plan = plan_splits(
        ((int(r.id or 0), stratum(q, f.value), r.dup_group) for r, f in gold),
        (1.0 - fraction, fraction),
        seed=seed,
    )
    return {int(i) for i, a in zip(plan.ids, plan.assignment, strict=True) if a == 1}


def _leak(
    record: Record,
    parent: int | None,
    test_ids: set[int],
    test_groups: set[int | None],
    group_of: Mapping[int, int | None],
) -> str | None:
    """Why a training candidate would leak the test split, or None."""
    if record.dup_group is not None and record.dup_group in test_groups:
        return "duplicate of a test record"
    if parent is not None and (parent in test_ids or group_of.get(parent) in test_groups - {None}):
        return "synthetic child of a test record"
    return None


def _example(record: Record, label: FinalLabel, weight: float) -> Example:
    return Example(record, label.value, label.provenance, float(label.confidence), weight)

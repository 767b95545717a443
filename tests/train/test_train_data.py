"""The training set: held-out gold, provenance weights and no leak through duplicate groups
or synthetic children."""

from __future__ import annotations

from typing import Any

import pytest

from goldsmith import FinalLabel, Provenance, Record, SchemaError
from goldsmith.schema import content_hash
from goldsmith.train.data import WeightPolicy, build_training_set

Bank = Any  # conftest.Bank: project, ids, labels (truth), provenance per record id


def test_test_split_is_held_out_gold_stratified(bank: Bank) -> None:
    data = build_training_set(bank.project.store, bank.project.task, test_fraction=0.5)
    gold = [r for r, p in bank.provenance.items() if p is Provenance.GOLD]
    test_ids = {e.record_id for e in data.test}
    assert test_ids <= set(gold)
    assert len(test_ids) == len(gold) // 2
    assert {e.value for e in data.test} == {"positive", "negative", "neutral"}
    train_ids = {e.record_id for e in data.train}
    assert not train_ids & test_ids
    assert set(gold) - test_ids <= train_ids  # the rest of the gold trains


def test_provenance_weights_are_applied(bank: Bank) -> None:
    data = build_training_set(bank.project.store, bank.project.task)
    weight = {e.record_id: e.weight for e in data.train}
    for rid, w in weight.items():
        expected = {
            Provenance.GOLD: 1.0,
            Provenance.HUMAN: 1.0,
            Provenance.CONSENSUS: 0.9 * 0.9,
            Provenance.WEAK: 0.5 * 0.9,
            Provenance.LLM: 0.5 * 0.9,
        }[bank.provenance[rid]]
        assert w == pytest.approx(expected)


def test_machine_labels_below_the_confidence_floor_are_left_out(bank: Bank) -> None:
    strict = WeightPolicy.parse("weak=0", min_machine_confidence=0.95)
    data = build_training_set(bank.project.store, bank.project.task, policy=strict)
    provs = {e.provenance for e in data.train}
    assert Provenance.WEAK not in provs and Provenance.LLM not in provs
    n_machine = sum(p in (Provenance.WEAK, Provenance.LLM) for p in bank.provenance.values())
    assert sum(data.excluded.values()) == n_machine


def test_duplicates_and_synthetic_children_of_test_records_never_train(bank: Bank) -> None:
    store, task = bank.project.store, bank.project.task
    first = build_training_set(store, task, seed=3)
    victim = first.test[0]
    # a near duplicate of a test record (human label) and a synthetic child of another
    dup = Record(fields={"text": victim.record.fields["text"] + " ."})
    dup.content_hash = content_hash(dup.fields)
    other = first.test[1]
    child = Record(
        fields={"text": "Paraphrase: " + other.record.fields["text"]},
        metadata={"synthetic": {"parent_record_id": other.record_id, "method": "test"}},
    )
    child.content_hash = content_hash(child.fields)
    with store.write() as tx:
        dup_id, child_id = tx.insert_records([dup, child])
        tx.set_dup_groups({victim.record_id: 9001, dup_id: 9001})
        tx.set_final_labels(
            [
                FinalLabel(dup_id, "label", victim.value, Provenance.HUMAN),
                FinalLabel(child_id, "label", other.value, Provenance.SYNTHETIC),
            ]
        )
    data = build_training_set(store, task, test_ids=[e.record_id for e in first.test])
    train_ids = {e.record_id for e in data.train}
    assert dup_id not in train_ids and child_id not in train_ids
    assert data.excluded == {"duplicate of a test record": 1, "synthetic child of a test record": 1}
    data.check_no_leak()


def test_check_no_leak_fails_on_a_shared_group(bank: Bank) -> None:
    data = build_training_set(bank.project.store, bank.project.task)
    data.train[0].record.dup_group = 77
    data.test[0].record.dup_group = 77
    with pytest.raises(SchemaError, match="both the training and the test split"):
        data.check_no_leak()


def test_version_changes_with_the_labels(bank: Bank) -> None:
    store, task = bank.project.store, bank.project.task
    before = build_training_set(store, task).version()
    assert build_training_set(store, task).version() == before
    rid = next(r for r, p in bank.provenance.items() if p is Provenance.HUMAN)
    flipped = "negative" if bank.labels[rid] != "negative" else "positive"
    with store.write() as tx:
        tx.set_final_labels([FinalLabel(rid, "label", flipped, Provenance.HUMAN)])
    assert build_training_set(store, task).version() != before


def test_no_gold_is_a_clear_error(bank: Bank) -> None:
    store, task = bank.project.store, bank.project.task
    gold = [r for r, p in bank.provenance.items() if p is Provenance.GOLD]
    with store.write() as tx:
        tx.set_final_labels(
            [FinalLabel(r, "label", bank.labels[r], Provenance.HUMAN) for r in gold]
        )
    with pytest.raises(SchemaError, match="gold"):
        build_training_set(store, task)


def test_weight_spec_errors_name_the_provenances() -> None:
    with pytest.raises(SchemaError, match="provenances: gold"):
        WeightPolicy.parse("silver=1")
    policy = WeightPolicy.parse("weak=0.25")
    assert WeightPolicy.from_dict(policy.as_dict()) == policy

"""Embedding and classifier scoring on Ray equal the local engine, and a killed embedding job
resumes without redoing its finished partitions; on a local Ray cluster with 2 CPUs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from goldsmith.models.classifier import LoopClassifier
from goldsmith.models.vectors import embed_records
from goldsmith.models.vectors_ray import embed_records_ray, predict_proba_ray
from goldsmith.project import Project
from goldsmith.schema import FinalLabel, Provenance

LABELS = ["cardiac", "oncology", "neuro"]
WORDS = ["heart", "tumour", "seizure", "stage", "coronary", "brain", "the", "patient", "mass"]


def _texts(n: int) -> list[str]:
    return [
        " ".join(WORDS[(i * 5 + j * 3) % len(WORDS)] for j in range(i % 7 + 3)) + f" case {i}"
        for i in range(n)
    ]


class HashEmbedder:
    """A deterministic embedder that logs which texts it encoded (one line per text) and
    kills its worker process on a text containing ``poison`` while the file ``crash``
    exists; ``once`` removes that file as it crashes (the retry then succeeds)."""

    dim = 8

    def __init__(self, folder: Path, *, poison: str = "\0", once: bool = False) -> None:
        self.folder, self.poison, self.once = str(folder), poison, once

    @property
    def id(self) -> str:
        return "hash-8"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        crash = Path(self.folder, "crash")
        if crash.exists() and any(self.poison in t for t in texts):
            if self.once:
                crash.unlink()
            os._exit(1)  # the worker dies mid-job, as on a lost node
        with Path(self.folder, "encoded.log").open("a", encoding="utf-8") as fh:
            fh.writelines(t + "\n" for t in texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.split():
                out[i, sum(map(ord, word)) % self.dim] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def _project(root: Path, texts: list[str]) -> Project:
    p = Project.init(root, labels=LABELS)
    p.add_records([{"fields": {"text": t}} for t in texts])
    return p


def _encoded(folder: Path) -> list[str]:
    log = folder / "encoded.log"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_embed_and_retrain_on_ray_equal_local(tmp_path: Path, ray_cluster: Any) -> None:
    texts = _texts(450)
    results = {}
    for engine in ("local", "ray"):
        with _project(tmp_path / engine, texts) as p:
            with p.store.write() as tx:  # 60 human labels, by keyword
                tx.set_final_labels(
                    [FinalLabel(i + 1, "label", LABELS[i % 3], Provenance.GOLD) for i in range(60)]
                )
            embedded = p.embed("tfidf", engine=engine)
            report = p.retrain(engine=engine, strategy="margin")
            with p.store.read() as tx:
                vectors = tx.get_embeddings(embedded.model_id, list(range(1, 451)))
                suggestions = sorted(
                    (s.record_id, s.value, s.score) for s in tx.suggestions_for(list(range(451)))
                )
                ranks = tx.queue_ranks(list(range(1, 451)))
            results[engine] = (embedded, vectors, report, suggestions, ranks)
            assert not (p.root / ".goldsmith" / "jobs").exists() or not any(
                (p.root / ".goldsmith" / "jobs").iterdir()
            )  # a finished job leaves no folder behind
    (e_local, v_local, r_local, s_local, q_local), (e_ray, v_ray, r_ray, s_ray, q_ray) = (
        results.values()
    )
    assert e_ray.model_id == e_local.model_id and e_ray.n_computed == 450
    assert e_ray.n_records == e_local.n_records == 450
    assert np.array_equal(v_ray, v_local)  # bit-identical
    assert (r_ray.n_suggestions, r_ray.n_ranked) == (r_local.n_suggestions, r_local.n_ranked)
    assert [s[:2] for s in s_ray] == [s[:2] for s in s_local] and len(s_ray) == 390
    assert np.allclose([s[2] for s in s_ray], [s[2] for s in s_local], atol=1e-9)
    assert q_ray == q_local


def test_classifier_scoring_on_ray_equals_local(tmp_path: Path, ray_cluster: Any) -> None:
    with _project(tmp_path / "p", _texts(300)) as p:
        embedded = embed_records(p.store, p.embedder())
        X, ids = embedded.vectors, embedded.record_ids.tolist()
        y = np.arange(60) % 3
        model = LoopClassifier(n_classes=3, random_state=0).fit(X[:60], y)
        local = model.predict_proba(X)
        jobs = tmp_path / "jobs"
        remote = predict_proba_ray(
            model, p.store, embedded.model_id, ids, jobs_dir=jobs, rows_per_file=70
        )
    assert remote.shape == (300, 3)
    assert np.allclose(remote, local, atol=1e-9, rtol=0)
    assert not any(jobs.iterdir())


def test_a_killed_embedding_job_resumes_without_redoing_finished_partitions(
    tmp_path: Path, ray_cluster: Any
) -> None:
    texts = _texts(100)
    work = tmp_path / "work"
    work.mkdir()
    (work / "crash").touch()
    jobs = tmp_path / "jobs"
    with _project(tmp_path / "p", texts) as p:
        poisoned = HashEmbedder(work, poison=texts[85])  # in the last of 5 partitions
        with pytest.raises(ray_cluster.exceptions.RayError):
            embed_records_ray(
                p.store, poisoned, jobs_dir=jobs, batch_size=10, batches_per_file=2, max_retries=0
            )
        first = _encoded(work)
        assert sorted(first) == sorted(texts[:80])  # the 4 other partitions finished
        with p.store.read() as tx:  # ... and were bulk-loaded as they finished
            assert tx.missing_embeddings("hash-8", None) == list(range(81, 101))
        (work / "encoded.log").unlink()
        (work / "crash").unlink()
        done = embed_records_ray(p.store, poisoned, jobs_dir=jobs, batch_size=10)
        assert sorted(_encoded(work)) == sorted(texts[80:])  # only the unfinished partition
        assert done.n_computed == 20

        (work / "encoded.log").unlink()
        local = embed_records(p.store, HashEmbedder(tmp_path), record_ids=list(range(1, 101)))
        assert local.n_computed == 0
        fresh = HashEmbedder(tmp_path).encode(texts)
    assert np.array_equal(local.vectors, fresh)  # the stored vectors, Ray's and resumed


def test_a_crashed_task_is_retried(tmp_path: Path, ray_cluster: Any) -> None:
    texts = _texts(60)
    (tmp_path / "crash").touch()
    with _project(tmp_path / "p", texts) as p:
        flaky = HashEmbedder(tmp_path, poison=texts[30], once=True)
        done = embed_records_ray(
            p.store, flaky, jobs_dir=tmp_path / "jobs", batch_size=10, batches_per_file=2
        )
        with p.store.read() as tx:
            stored = tx.get_embeddings("hash-8", list(range(1, 61)))
    assert not (tmp_path / "crash").exists()  # it did crash once
    assert done.n_computed == 60
    assert np.array_equal(stored, HashEmbedder(tmp_path).encode(texts))

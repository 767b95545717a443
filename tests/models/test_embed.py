"""Embedders (tfidf, Model2Vec, the sentence-transformers extra) and their cache in the store."""

from __future__ import annotations

import csv
import doctest
import json
import sys
from collections.abc import Sequence
from itertools import islice
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file
from tokenizers import Tokenizer, models, pre_tokenizers

from _ci import import_or_skip, skip_or_fail
from _progress import Recorder
from goldsmith.errors import ConfigError, InputError, MissingExtraError, RegistryError
from goldsmith.models import embed as embed_module
from goldsmith.models.embed import (
    Embedder,
    SentenceTransformerEmbedder,
    TfidfEmbedder,
    make_embedder,
)
from goldsmith.models.model2vec import Model2VecEmbedder
from goldsmith.models.vectors import embed_records, record_text
from goldsmith.schema import Record, content_hash
from goldsmith.store import Store

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
M2V = SHARED / "models/m2v-minilm-l6"
MEDICAL = SHARED / "data/healthcare/medical_abstracts/medical_tc_test.csv"


def _shared(path: Path) -> Path:
    if not path.exists():
        skip_or_fail(f"shared test asset not found at {path}")
    return path


@pytest.fixture(scope="module")
def m2v() -> Model2VecEmbedder:
    return Model2VecEmbedder(_shared(M2V))


def _tiny_model(
    folder: Path,
    *,
    normalize: bool = False,
    weights: np.ndarray | None = None,
    mapping: np.ndarray | None = None,
) -> np.ndarray:
    """A word-level Model2Vec folder; returns its (float16-rounded) embedding rows."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"[UNK]": 0, "red": 1, "blue": 2, "car": 3, "sky": 4}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(folder / "tokenizer.json"))
    rows = 5 if mapping is None else int(mapping.max()) + 1
    vectors = np.random.default_rng(3).standard_normal((rows, 4)).astype(np.float16)
    tensors = {"embeddings": vectors}
    if weights is not None:
        tensors["weights"] = weights.astype(np.float32)
    if mapping is not None:
        tensors["mapping"] = mapping.astype(np.int64)
    save_file(tensors, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({"normalize": normalize, "max_length": 512}))
    return vectors.astype(np.float32)


# --------------------------------------------------------------------------- make_embedder


def test_specs_pick_embedders_and_unknown_ones_list_the_known(tmp_path: Path) -> None:
    _tiny_model(tmp_path / "m")
    assert isinstance(make_embedder(), TfidfEmbedder)
    assert isinstance(make_embedder("tfidf"), TfidfEmbedder)
    m: Embedder = make_embedder(f"model2vec:{tmp_path / 'm'}")
    assert isinstance(m, Model2VecEmbedder) and m.dim == 4
    for bad in ("word2vec", "model2vec", "model2vec:", "tfidf:300"):
        with pytest.raises(RegistryError, match="known: tfidf, model2vec:<folder>"):
            make_embedder(bad)
    with pytest.raises(ConfigError, match="never downloads"):
        make_embedder(f"model2vec:{tmp_path / 'nowhere'}")


def test_sentence_transformers_without_the_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # CI installs it (the train extra pulls it in): a None in sys.modules makes the import
    # fail as it does where the extra is missing
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'goldsmith\[embed\]'"):
        make_embedder("sentence-transformers:all-MiniLM-L6-v2")
    with pytest.raises(MissingExtraError):
        SentenceTransformerEmbedder("/some/folder")


def test_module_doctests_pass() -> None:
    assert doctest.testmod(embed_module).failed == 0


# --------------------------------------------------------------------------- model2vec


def test_model2vec_mean_pools_token_rows_without_unknown_tokens(tmp_path: Path) -> None:
    rows = _tiny_model(tmp_path)
    e = Model2VecEmbedder(tmp_path)
    got = e.encode(["red car", "red zebra", "", "zebra"])
    assert got.dtype == np.float32 and got.shape == (4, 4)
    np.testing.assert_allclose(got[0], (rows[1] + rows[3]) / 2, rtol=1e-6)
    np.testing.assert_allclose(got[1], rows[1], rtol=1e-6)  # [UNK] is dropped
    np.testing.assert_array_equal(got[2:], 0)  # nothing known: a zero vector


def test_model2vec_weights_mapping_and_normalize(tmp_path: Path) -> None:
    weights = np.array([1.0, 2.0, 0.5, 1.0, 3.0])
    mapping = np.array([0, 1, 1, 2, 2])
    rows = _tiny_model(tmp_path, normalize=True, weights=weights, mapping=mapping)
    got = Model2VecEmbedder(tmp_path).encode(["red car", "blue"])
    want = np.stack([(2.0 * rows[1] + rows[2]) / 2, 0.5 * rows[1]])
    want /= np.linalg.norm(want, axis=1, keepdims=True)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_model2vec_id_is_the_weights_digest(tmp_path: Path) -> None:
    _tiny_model(tmp_path / "a")
    _tiny_model(tmp_path / "b")
    _tiny_model(tmp_path / "c", normalize=True)
    ids = [Model2VecEmbedder(tmp_path / n).id for n in "abc"]
    assert ids[0].startswith("model2vec:a@") and ids[1].startswith("model2vec:b@")
    assert ids[0].split("@")[1] == ids[1].split("@")[1]  # same files, same digest
    assert ids[2].split("@")[1] != ids[0].split("@")[1]  # config changed, new id
    assert Model2VecEmbedder(tmp_path / "a").id == ids[0]


def test_real_model2vec_vectors_are_deterministic_normalised_and_meaningful(
    m2v: Model2VecEmbedder,
) -> None:
    texts = [
        "The patient suffered a heart attack and was treated for myocardial infarction.",
        "Coronary artery disease raises the risk of cardiac infarction.",
        "Quarterly net sales rose 5 % and operating profit doubled.",
        "",
    ]
    a = m2v.encode(texts)
    assert a.shape == (4, 256) and a.dtype == np.float32
    np.testing.assert_array_equal(a, m2v.encode(texts))
    np.testing.assert_array_equal(a[1:2], m2v.encode(texts[1:2]))  # batch-independent
    np.testing.assert_allclose(np.linalg.norm(a[:3], axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(a[3], 0)
    sim = a[:3] @ a[:3].T
    assert sim[0, 1] > sim[0, 2] + 0.2 and sim[0, 1] > sim[1, 2] + 0.2
    assert m2v.id.startswith("model2vec:m2v-minilm-l6@") and m2v.dim == 256


def _medical_texts(n: int) -> list[str]:
    with _shared(MEDICAL).open(newline="") as f:
        return [row["medical_abstract"] for row in islice(csv.DictReader(f), n)]


def test_real_model2vec_matches_the_model2vec_package(m2v: Model2VecEmbedder) -> None:
    model2vec = import_or_skip("model2vec", install="pip install 'goldsmith[dev]'")
    texts = [*_medical_texts(300), "", "☃ ṭḥ", "word " * 3000]  # empty, unknown, truncated
    theirs = model2vec.StaticModel.from_pretrained(str(M2V)).encode(texts)
    ours = m2v.encode(texts)
    # the package pools in the stored float16; we pool in float32
    np.testing.assert_allclose(ours, theirs.astype(np.float32), atol=2e-3)


def test_tiny_model_matches_the_model2vec_package(tmp_path: Path) -> None:
    model2vec = import_or_skip("model2vec", install="pip install 'goldsmith[dev]'")
    weights = np.array([1.0, 2.0, 0.5, 1.0, 3.0])
    _tiny_model(tmp_path, normalize=True, weights=weights, mapping=np.array([0, 1, 1, 2, 2]))
    texts = ["red car", "blue sky sky", "zebra", "sky red blue car"]
    theirs = model2vec.StaticModel.from_pretrained(str(tmp_path)).encode(texts)
    np.testing.assert_allclose(Model2VecEmbedder(tmp_path).encode(texts), theirs, atol=2e-3)


# --------------------------------------------------------------------------- tfidf


def test_tfidf_id_names_its_fit() -> None:
    corpus = ["red cars are fast", "blue skies are calm", "fast blue cars", "calm red skies"]
    e = TfidfEmbedder(dim=8)
    assert not e.fitted
    with pytest.raises(ConfigError, match="not fitted"):
        _ = e.id
    with pytest.raises(ConfigError, match="not fitted"):
        e.encode(["x"])
    promised = e.id_for(corpus)
    assert e.fit(corpus).id == promised and e.fitted
    assert TfidfEmbedder(dim=8).id_for(corpus[:3]) != promised
    assert TfidfEmbedder(dim=8).id_for([*corpus[:3], "calm red sky"]) != promised
    assert TfidfEmbedder(dim=16).id_for(corpus) != promised
    assert TfidfEmbedder(dim=8).id_for(corpus) == promised


def test_tfidf_vectors_are_unit_length_with_a_fixed_width() -> None:
    corpus = ["red cars are fast", "blue skies are calm", "fast blue cars"]
    e = TfidfEmbedder(dim=256).fit(corpus)  # a tiny corpus: 2 SVD components, the rest 0
    v = e.encode([*corpus, "nothing known here"])
    assert v.shape == (4, 256) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v[:3], axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(v[3], 0)
    np.testing.assert_array_equal(v[:, 2:], 0)
    single = TfidfEmbedder(dim=4).fit(["only one text here"]).encode(["one text"])
    assert single.shape == (1, 4) and np.isfinite(single).all()
    with pytest.raises(InputError, match="cannot fit tfidf"):
        TfidfEmbedder().fit(["", "   "])


def test_tfidf_on_real_abstracts_puts_related_texts_closer() -> None:
    texts = _medical_texts(1200)
    e = TfidfEmbedder().fit(texts)
    v = e.encode(
        [
            "tumor carcinoma chemotherapy metastatic cancer patients",
            "malignant neoplasm treated with radiotherapy and chemotherapy",
            "myocardial infarction coronary artery blood pressure",
        ]
    )
    assert v.shape == (3, 256)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.1


# --------------------------------------------------------------------------- the cache


class CountingTfidf(TfidfEmbedder):
    """Counts fits and encoded texts; otherwise the real embedder."""

    def __init__(self) -> None:
        super().__init__(dim=16)
        self.fits = 0
        self.encoded = 0

    def fit(self, texts: Sequence[str]) -> CountingTfidf:
        self.fits += 1
        super().fit(texts)
        return self

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded += len(texts)
        return super().encode(texts)


class CountingModel2Vec(Model2VecEmbedder):
    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.calls: list[int] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        return super().encode(texts)


WORDS = ["red", "blue", "car", "sky"]


def _add(store: Store, texts: list[str]) -> list[int]:
    recs = [Record(fields={"text": t}, content_hash=content_hash({"text": t})) for t in texts]
    with store.write() as tx:
        return tx.insert_records(recs)


def _texts(n: int, offset: int = 0) -> list[str]:
    return [
        f"{WORDS[i % 4]} {WORDS[(i // 4) % 4]} {WORDS[(i // 16) % 4]} n{i}"
        for i in range(offset, offset + n)
    ]


def test_second_embed_computes_nothing_and_new_records_only_themselves(
    store: Store, tmp_path: Path
) -> None:
    _tiny_model(tmp_path / "m")
    ids = _add(store, _texts(25))
    e = CountingModel2Vec(tmp_path / "m")
    progress = Recorder()
    first = embed_records(store, e, batch_size=10, progress=progress)
    assert e.calls == [10, 10, 5] and first.n_computed == 25
    assert progress.events == [
        ("start", 25),
        ("advance", 10),
        ("advance", 10),
        ("advance", 5),
        ("finish", None),
    ]
    assert first.record_ids.tolist() == ids and first.model_id == e.id
    # what the store gives back is what the embedder computed, bit for bit
    direct = Model2VecEmbedder(tmp_path / "m").encode(_texts(25))
    assert first.vectors.tobytes() == direct.tobytes()

    again = CountingModel2Vec(tmp_path / "m")
    second = embed_records(store, again)
    assert again.calls == [] and second.n_computed == 0
    assert second.vectors.tobytes() == first.vectors.tobytes()

    new = _add(store, _texts(3, offset=25))
    third = embed_records(store, again)
    assert again.calls == [3] and third.n_computed == 3
    assert third.record_ids.tolist() == ids + new


def test_rows_follow_the_ids_asked(store: Store, tmp_path: Path) -> None:
    _tiny_model(tmp_path / "m")
    ids = _add(store, _texts(6))
    e = CountingModel2Vec(tmp_path / "m")
    asked = [ids[4], ids[1], ids[4]]
    got = embed_records(store, e, asked)
    assert e.calls == [2] and got.record_ids.tolist() == asked
    np.testing.assert_array_equal(got.vectors, e.encode([_texts(6)[i] for i in (4, 1, 4)]))


def test_tfidf_cache_is_per_fit_and_never_refits_for_a_hit(store: Store) -> None:
    _add(store, _texts(30))
    e = CountingTfidf()
    first = embed_records(store, e)
    assert (e.fits, e.encoded, first.n_computed) == (1, 30, 30)

    fresh = CountingTfidf()  # a new process: unfitted, same corpus
    second = embed_records(store, fresh)
    assert (fresh.fits, fresh.encoded, second.n_computed) == (0, 0, 0)
    assert second.model_id == first.model_id
    assert second.vectors.tobytes() == first.vectors.tobytes()

    _add(store, _texts(2, offset=30))  # the corpus changed: a new fit, every vector anew
    third_e = CountingTfidf()
    third = embed_records(store, third_e)
    assert third.model_id != first.model_id
    assert (third_e.fits, third_e.encoded, third.n_computed) == (1, 32, 32)
    with store.read() as tx:
        assert tx.embedding_models() == {first.model_id: (30, 16), third.model_id: (32, 16)}


def test_record_text_joins_text_and_chat_fields() -> None:
    rec = Record(
        fields={
            "title": "Heart",
            "n": 3,
            "chat": [{"role": "user", "content": "pain?"}, {"role": "assistant"}],
            "body": "",
        }
    )
    assert record_text(rec) == "Heart\npain?"


def test_embedding_streams_pages_and_batches_consecutive_missing_records(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of 7 records, batches of 10: the missing records are encoded in id order, 10
    at a time across page boundaries, whatever was stored before."""
    from goldsmith.models import vectors

    monkeypatch.setattr(vectors, "PAGE", 7)
    _tiny_model(tmp_path / "m")
    ids = _add(store, _texts(40))
    e = CountingModel2Vec(tmp_path / "m")
    embed_records(store, e, ids[5:18])  # 13 stored already, in the middle
    e.calls.clear()
    done = vectors.ensure_embeddings(store, e, batch_size=10)
    assert (done.n_records, done.n_computed) == (40, 27)
    assert e.calls == [10, 10, 7]  # ids 1-5 and 19-23, then 24-33, then 34-40
    pages = list(vectors.iter_vectors(store, e.id, page=15))
    assert [len(i) for i, _ in pages] == [15, 15, 10]
    got = np.concatenate([v for _, v in pages])
    assert got.tobytes() == Model2VecEmbedder(tmp_path / "m").encode(_texts(40)).tobytes()


def test_tfidf_is_fitted_on_an_even_sample_of_a_large_corpus(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from goldsmith.models import vectors

    ids = _add(store, _texts(100))
    sample = vectors.fit_texts(store, limit=10)
    assert len(sample) == 10 and sample[0] == _texts(100)[0] and sample[-1] == _texts(100)[99]
    assert vectors.fit_texts(store, limit=100) == _texts(100)  # small enough: every text
    monkeypatch.setattr(vectors, "FIT_SAMPLE", 10)
    e = CountingTfidf()
    done = vectors.ensure_embeddings(store, e)
    reference = TfidfEmbedder(dim=16).fit(sample)
    assert done.model_id == reference.id != TfidfEmbedder(dim=16).id_for(_texts(100))
    assert (e.fits, e.encoded, done.n_computed) == (1, 100, 100)
    with store.read() as tx:
        stored = tx.get_embeddings(done.model_id, ids)
    np.testing.assert_allclose(stored, reference.encode(_texts(100)), atol=1e-6)

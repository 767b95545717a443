"""Near-duplicate detection: goldsmith (rensa MinHash + numpy LSH + exact verification)
against datasketch used the straightforward way (MinHash per text, MinHashLSH insert and
query), at the same num_perm and threshold, on real texts with planted near duplicates.

Texts: sentences of the medical abstracts, CUAD clauses, the financial phrasebank and
the WRENCH sms/youtube/trec sets (from ../shared/data), topped up with pairs of those
sentences to reach the size. Planted near duplicates: copies of random base texts with
seeded word edits (swap adjacent, delete, insert a corpus word) at a random edit rate,
so their exact 5-gram Jaccard spans roughly 0.5-1.0; planted pairs at or above the
threshold are the positives for recall.

    python bench/near_dup.py            # 100k texts, 3 runs each
    python bench/near_dup.py --quick    # 10k texts
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

from goldsmith.dedup import exact_jaccard, near_duplicate_groups, normalise, shingle
from goldsmith.dedup.minhash import lsh_params

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
_SENT = re.compile(r"(?<=[.!?])\s+")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT.split(text) if len(s.strip()) >= 40]


def load_pool(data: Path) -> list[str]:
    """Distinct real sentences and short texts (>= 40 characters)."""
    csv.field_size_limit(10**9)
    out: list[str] = []
    with open(data / "healthcare/medical_abstracts/medical_tc_test.csv", newline="") as f:
        for row in csv.DictReader(f):
            out.extend(_sentences(row["medical_abstract"]))
    with open(data / "legal/cuad/master_clauses.csv", newline="") as f:
        for row in csv.DictReader(f):
            for k, v in row.items():
                if not k.endswith("-Answer") and v.startswith("['"):
                    for part in v[2:-2].split("', '"):
                        out.extend(_sentences(part))
    phrase = data / "finance/financial_phrasebank/Sentences_50Agree.txt"
    out.extend(line.rsplit("@", 1)[0] for line in phrase.read_text("latin-1").splitlines())
    for name in ("sms", "youtube", "trec"):
        for split in ("train", "valid", "test"):
            items = json.loads((data / f"weak_supervision/wrench/{name}/{split}.json").read_text())
            out.extend(str(v["data"]["text"]) for v in items.values())
    seen: set[str] = set()
    pool = []
    for t in out:
        key = normalise(t)
        if len(key) >= 40 and key not in seen:
            seen.add(key)
            pool.append(t)
    return pool


def edit(text: str, rate: float, vocab: list[str], rng: np.random.Generator) -> str:
    words = text.split()
    for _ in range(max(1, round(rate * len(words)))):
        op = rng.integers(3)
        i = int(rng.integers(len(words)))
        if op == 0 and len(words) > 1:
            j = min(i + 1, len(words) - 1)
            words[i], words[j] = words[j], words[i]
        elif op == 1 and len(words) > 3:
            del words[i]
        else:
            words.insert(i, vocab[int(rng.integers(len(vocab)))])
    return " ".join(words)


def build(n: int, seed: int, threshold: float) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``n`` texts, planted pairs ``(base, copy)`` and their exact Jaccard."""
    rng = np.random.default_rng(seed)
    pool = load_pool(DATA)
    n_planted = int(n * 0.3)
    n_base = n - n_planted
    while len(pool) < n_base:  # top up with pairs of real sentences
        a, b = rng.integers(len(pool), size=2)
        pool.append(pool[a] + " " + pool[b])
    base = [pool[i] for i in rng.permutation(len(pool))[:n_base]]
    vocab = sorted({w for t in base[:5000] for w in t.split()})
    texts = list(base)
    planted = []
    for src in rng.integers(n_base, size=n_planted):
        texts.append(edit(base[src], float(rng.uniform(0.0, 0.25)), vocab, rng))
        planted.append((int(src), len(texts) - 1))
    order = rng.permutation(len(texts))  # shuffle so copies are not next to their base
    where = np.empty_like(order)
    where[order] = np.arange(len(order))
    texts = [texts[i] for i in order]
    pairs = np.sort(where[np.array(planted)], axis=1)
    jac = exact_jaccard(shingle([normalise(t) for t in texts]), pairs)
    return texts, pairs, jac


Found = tuple[set[tuple[int, int]], np.ndarray | None]


def ours(texts: list[str], threshold: float, num_perm: int) -> Found:
    r = near_duplicate_groups(texts, threshold=threshold, num_perm=num_perm)
    return set(map(tuple, r.pairs.tolist())), r.groups


def datasketch_plain(
    texts: list[str], threshold: float, num_perm: int, params: tuple[int, int] | None = None
) -> Found:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, params=params)
    sketches = []
    for i, t in enumerate(texts):
        s = normalise(t).ljust(5)
        m = MinHash(num_perm=num_perm)
        m.update_batch([s[k : k + 5].encode() for k in range(len(s) - 4)])
        lsh.insert(i, m)
        sketches.append(m)
    found: set[tuple[int, int]] = set()
    for i, m in enumerate(sketches):
        for j in lsh.query(m):
            if j != i:
                found.add((min(i, j), max(i, j)))
    return found, None


def score(result: Found, texts_sh, pairs, jac, thr) -> tuple[float, float]:
    """Recall of planted pairs at or above ``thr`` (ours: the two texts share a group, i.e.
    are joined by verified pairs; datasketch: the pair is an LSH candidate) and precision
    of the reported pairs (share whose exact Jaccard is at or above ``thr``)."""
    found, groups = result
    pos = pairs[jac >= thr]
    if groups is not None:
        recall = float(np.mean(groups[pos[:, 0]] == groups[pos[:, 1]]))
    else:
        recall = float(np.mean([tuple(p) in found for p in pos.tolist()]))
    if not found:
        return recall, 1.0
    fj = exact_jaccard(texts_sh, np.array(sorted(found), dtype=np.int64))
    return recall, float(np.mean(fj >= thr))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10k texts instead of 100k")
    ap.add_argument("-n", type=int, default=None)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--num-perm", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--skip-default", action="store_true", help="skip datasketch with its own banding"
    )
    args = ap.parse_args(argv)
    n = args.n or (10_000 if args.quick else 100_000)
    texts, pairs, jac = build(n, args.seed, args.threshold)
    same = lsh_params(args.threshold, args.num_perm)
    sh = shingle([normalise(t) for t in texts])
    print(
        f"{n} texts, {int(np.diff(sh.offsets).mean())} grams/text, {len(pairs)} planted pairs, "
        f"{int((jac >= args.threshold).sum())} at Jaccard >= {args.threshold}; "
        f"LSH bands x rows {same} for ours and datasketch",
        flush=True,
    )
    results = {}
    runs = {
        "ours": ours,
        "datasketch": partial(datasketch_plain, params=same),
        "datasketch_default_bands": datasketch_plain,
    }
    for name, fn in runs.items():
        if name == "datasketch_default_bands" and args.skip_default:
            continue
        times: list[float] = []
        found: Found = (set(), None)
        for _ in range(args.runs):
            t0 = time.perf_counter()
            found = fn(texts, args.threshold, args.num_perm)
            times.append(time.perf_counter() - t0)
        recall, precision = score(found, sh, pairs, jac, args.threshold)
        results[name] = statistics.median(times)
        print(
            f"  {name}: median {results[name]:.2f} s of {[round(t, 2) for t in times]}, "
            f"recall {recall:.4f}, precision {precision:.4f}, pairs {len(found[0])}",
            flush=True,
        )
    ratio = results["datasketch"] / results["ours"]
    print(
        f"near_dup ({n} texts): ours {results['ours']:.2f} s, "
        f"anchor datasketch {results['datasketch']:.2f} s, ratio {ratio:.1f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A clause's wording as suggestions compare it. Pure module: text in, numbers out.

- `wording_key(text)`: a 64-bit key of the clause's normalised text (`lineage.align.normalise`,
  whitespace-insensitive: what "the same text" means for carrying a tag), so the same sentence in
  any policy of any company has the same key.
- `similarity(a, b)`: Jaccard similarity of the two clauses' character 4-gram sets (lower case,
  normalised), 0..1. "Near-identical" means >= NEAR_IDENTICAL: a changed link or a word, not a
  changed meaning, in a sentence of ordinary length.
- `bands(text)`: the clause's MinHash LSH bands (datasketch's MinHash; bands and rows chosen by
  datasketch for a candidate threshold below NEAR_IDENTICAL), so near-identical clauses are found
  by an indexed lookup and then checked by `similarity`.
- `clause_spans(text)`: the clauses of a section's readable text, as the reader, lineage and
  adjudication cut them (`policies.reading.clauses.section_clauses`).
"""

from __future__ import annotations

import functools
import hashlib
import re

import numpy as np
from datasketch import MinHash, MinHashLSH

from annotations.lineage.align import normalise
from policies.reading.clauses import section_clauses as clause_spans

__all__ = [
    "MIN_WORDS",
    "NEAR_IDENTICAL",
    "bands",
    "clause_spans",
    "is_indexed",
    "similarity",
    "wording_key",
]

# Clauses shorter than this ("Cookies", "Contact us") say too little to suggest a category.
MIN_WORDS = 4
NEAR_IDENTICAL = 0.9
_CANDIDATE_THRESHOLD = 0.7
_NUM_PERM = 64
_SHINGLE = 4
_WORD = re.compile(r"\w+")
_SEED = 20_161_201


def wording_key(text: str) -> int:
    """Signed 64-bit key of the clause's normalised text (fits a BigIntegerField)."""
    digest = hashlib.blake2b(normalise(text).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def is_indexed(text: str) -> bool:
    """Whether a clause is long enough to be indexed and suggested."""
    return len(_WORD.findall(text)) >= MIN_WORDS


def _shingles(text: str) -> set[str]:
    flat = normalise(text).lower()
    if len(flat) <= _SHINGLE:
        return {flat}
    return {flat[i : i + _SHINGLE] for i in range(len(flat) - _SHINGLE + 1)}


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two clauses' character 4-gram sets (0..1)."""
    left, right = _shingles(a), _shingles(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


@functools.cache
def _band_layout() -> tuple[tuple[int, int], ...]:
    """(start, end) of each band in the signature, as datasketch sizes them for the threshold."""
    lsh = MinHashLSH(threshold=_CANDIDATE_THRESHOLD, num_perm=_NUM_PERM)
    return tuple((i * lsh.r, (i + 1) * lsh.r) for i in range(lsh.b))


def bands(text: str) -> list[int]:
    """Signed 64-bit keys of the clause's MinHash bands (band number mixed into each key)."""
    signature = MinHash(num_perm=_NUM_PERM, seed=_SEED)
    signature.update_batch([s.encode() for s in _shingles(text)])
    values = signature.hashvalues.astype(np.uint64)
    keys = []
    for number, (start, end) in enumerate(_band_layout()):
        digest = hashlib.blake2b(
            number.to_bytes(2, "big") + values[start:end].tobytes(), digest_size=8
        ).digest()
        keys.append(int.from_bytes(digest, "big", signed=True))
    return keys

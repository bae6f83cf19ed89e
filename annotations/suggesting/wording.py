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
- `sentence_spans(text)`: the sentences of a section's readable text as the index cuts them:
  each block (line) by sentencex, a compiled segmenter about 150 times faster than the pysbd cut
  the reader, lineage and adjudication use (`policies.reading.clauses.section_clauses`), which
  indexing every sentence of a million captures could not afford. On the sample corpus the two
  agree on 97% of sentences (they differ on file paths, "Yahoo!." and the like); a suggestion's
  span is the index's sentence, highlighted as such, and `a`/`x` pick the suggestion
  overlapping the reader's current clause.
"""

from __future__ import annotations

import functools
import hashlib
import re
import zlib

import numpy as np
import sentencex
from datasketch import MinHash, MinHashLSH

from annotations.lineage.align import normalise

__all__ = [
    "MIN_WORDS",
    "NEAR_IDENTICAL",
    "bands",
    "is_indexed",
    "sentence_spans",
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
_SCHEME = "affine32"


@functools.lru_cache(maxsize=200_000)
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


@functools.cache
def _permutations():
    """The MinHash's random permutations, drawn once (datasketch draws them per MinHash)."""
    return MinHash(num_perm=_NUM_PERM, seed=_SEED, scheme=_SCHEME).permutations


def _crc32(data: bytes) -> int:
    return zlib.crc32(data)  # a 32-bit hash in C: shingles need spread, not secrecy


@functools.lru_cache(maxsize=100_000)
def bands(text: str) -> tuple[int, ...]:
    """Signed 64-bit keys of the clause's MinHash bands (band number mixed into each key);
    remembered per clause, since boilerplate repeats across captures and companies."""
    signature = MinHash(
        num_perm=_NUM_PERM, seed=_SEED, hashfunc=_crc32, permutations=_permutations(),
        scheme=_SCHEME,
    )  # fmt: skip
    signature.update_batch([s.encode() for s in _shingles(text)])
    values = signature.hashvalues.astype(np.uint64)
    keys = []
    for number, (start, end) in enumerate(_band_layout()):
        digest = hashlib.blake2b(
            number.to_bytes(2, "big") + values[start:end].tobytes(), digest_size=8
        ).digest()
        keys.append(int.from_bytes(digest, "big", signed=True))
    return tuple(keys)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of a section's readable text (blocks are its lines),
    whitespace trimmed, in order."""
    spans, base = [], 0
    for line in text.split("\n"):
        spans.extend((base + a, base + b) for a, b in _block_sentences(line))
        base += len(line) + 1
    return spans


@functools.lru_cache(maxsize=50_000)
def _block_sentences(block: str) -> tuple[tuple[int, int], ...]:
    spans, position = [], 0
    for sentence in sentencex.segment("en", block):
        stripped = sentence.strip()
        if not stripped:
            continue
        start = block.find(stripped, position)
        if start < 0:  # the segmenter altered the text: the rest is one sentence
            break
        spans.append((start, start + len(stripped)))
        position = start + len(stripped)
    rest = block[position:]
    if rest.strip():
        lead = len(rest) - len(rest.lstrip())
        spans.append((position + lead, position + len(rest.rstrip())))
    return tuple(spans)

"""Sorted Codeword Length Vectors (SCLVs) and the estimation sort.

An SCLV for S symbols is an ascending vector of Huffman codeword lengths whose Kraft sum is exactly
1 (a complete prefix code).  Code lengths only matter through which symbol gets which length, and
for a histogram sorted in descending order the optimal assignment is the ascending one, so
``dot(sclv, sorted_histogram)`` is the compressed size in bits.  Every complete ascending vector is
the Huffman code of some distribution (of the dyadic one ``2**-l``), so the SCLVs are exactly the
static Huffman encoders worth keeping.

Two lists are offered:

- ``sclvs(S)`` (``complete=False``): the lists shipped with the paper's code (1, 1, 2, 3, 5, 9, 15,
  23, 35 vectors for S = 2..10), read from ``data/paper_sclvs.json``.
- ``sclvs(S, complete=True)``: every complete ascending vector (1, 1, 2, 3, 5, 9, 16, 28, 50 for
  S = 2..10; OEIS A002572).  For S <= 7 the two coincide as sets; for S >= 8 the paper's lists
  omit some vectors (``missing_paper_sclvs``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import numpy as np

from ..entropy.huffman import kraft_sum
from ..errors import InvalidConfigError

#: Smallest and largest number of symbols (saturation S) the MUA codec handles.
MIN_S = 2
MAX_S = 16


def check_S(S) -> int:
    """``S`` as an int, or :class:`InvalidConfigError` when outside [MIN_S, MAX_S]."""
    if isinstance(S, bool) or not isinstance(S, (int, np.integer)) or not MIN_S <= int(S) <= MAX_S:
        raise InvalidConfigError(f"S (number of symbols) must be an integer in [{MIN_S}, {MAX_S}], got {S!r}")
    return int(S)


@lru_cache(maxsize=None)
def _paper_table() -> dict[int, tuple[tuple[int, ...], ...]]:
    text = resources.files(__package__).joinpath("data/paper_sclvs.json").read_text(encoding="utf-8")
    raw = json.loads(text)["sclvs"]
    return {int(k): tuple(tuple(int(x) for x in v) for v in vecs) for k, vecs in raw.items()}


@lru_cache(maxsize=None)
def _complete(S: int) -> tuple[tuple[int, ...], ...]:
    # Kraft budget in units of 2**-(S-1): no codeword of a complete code on S symbols is longer.
    unit = S - 1
    out: list[tuple[int, ...]] = []

    def extend(prefix: list[int], budget: int, remaining: int) -> None:
        if remaining == 0:
            if budget == 0:
                out.append(tuple(prefix))
            return
        shortest = prefix[-1] if prefix else 1
        for length in range(shortest, unit + 1):
            cost = 1 << (unit - length)
            # the remaining symbols all take lengths >= length, so they need between
            # remaining * 2**-unit and remaining * cost of the budget
            if cost * remaining < budget:
                break
            if cost > budget or remaining > budget:
                continue
            prefix.append(length)
            extend(prefix, budget - cost, remaining - 1)
            prefix.pop()

    extend([], 1 << unit, S)
    return tuple(sorted(out))


def sclvs(S: int, complete: bool = False) -> np.ndarray:
    """SCLVs for ``S`` symbols as an int array (rows = vectors).

    ``complete=False``: the paper's shipped list, in its order (S = 2..10 only).
    ``complete=True``: every ascending complete length vector, sorted lexicographically.
    """
    S = check_S(S)
    if complete:
        return np.array(_complete(S), dtype=np.int64)
    table = _paper_table()
    if S not in table:
        raise InvalidConfigError(
            f"the paper ships SCLVs for S = {min(table)}..{max(table)} only; use complete=True for S = {S}"
        )
    return np.array(table[S], dtype=np.int64)


def missing_paper_sclvs(S: int) -> np.ndarray:
    """Complete SCLVs the paper's list for ``S`` lacks (empty for S <= 7)."""
    paper = {tuple(v) for v in sclvs(S).tolist()}
    return np.array([v for v in _complete(check_S(S)) if v not in paper], dtype=np.int64).reshape(-1, S)


def check_sclv(vector, S: int) -> np.ndarray:
    """``vector`` as an int array if it is an SCLV for ``S`` symbols, else :class:`InvalidConfigError`."""
    arr = np.asarray(vector)
    if arr.shape != (S,) or not np.issubdtype(arr.dtype, np.integer):
        raise InvalidConfigError(f"an SCLV for S={S} is {S} integer lengths, got {vector!r}")
    arr = arr.astype(np.int64)
    if arr.min() < 1 or arr.max() > S - 1 or np.any(np.diff(arr) < 0) or kraft_sum(arr) != 1:
        raise InvalidConfigError(
            f"{arr.tolist()} is not an SCLV: lengths must be ascending, within [1, {S - 1}] and have Kraft sum 1"
        )
    return arr


def check_encoders(encoders, S: int) -> np.ndarray:
    """A non-empty list of SCLVs as an (n, S) int array (at most 255 encoders)."""
    rows = [check_sclv(v, S) for v in encoders]
    if not 1 <= len(rows) <= 255:
        raise InvalidConfigError(f"need between 1 and 255 encoders, got {len(rows)}")
    return np.stack(rows)


def default_encoders(S: int) -> np.ndarray:
    """The single encoder used when none is given: lengths 1, 2, ..., S-1, S-1.

    For S = 3 this is [1, 2, 2], the paper's chosen one-encoder system.  It is the Huffman code of a
    geometric-like histogram, which is what sorted MUA count histograms look like.
    """
    S = check_S(S)
    return np.array([list(range(1, S)) + [S - 1]], dtype=np.int64)


def estimation_sort(hist) -> np.ndarray:
    """The paper's O(S) estimated sort of a histogram that is assumed unimodal.

    The peak (first maximum) gets rank 0; its neighbours then take the next ranks alternately, the
    lower (left) one first, then the upper; when one side runs out the other side's symbols follow
    in order, moving away from the peak.  Returns ``order`` with ``order[rank] = symbol``, so
    ``hist[order]`` is the estimated descending histogram.  It depends only on the peak position,
    so in hardware it is a look-up table indexed by (peak, symbol) (:func:`rank_table`).
    """
    h = np.asarray(hist)
    if h.ndim != 1 or h.size < 1:
        raise InvalidConfigError(f"histogram must be a non-empty 1-d array, got shape {h.shape}")
    return order_from_peak(int(np.argmax(h)), h.size)


def order_from_peak(peak: int, S: int) -> np.ndarray:
    """Symbols by rank for a histogram whose peak is at ``peak`` (see :func:`estimation_sort`)."""
    order = [peak]
    for d in range(1, S):
        if peak - d >= 0:
            order.append(peak - d)
        if peak + d < S:
            order.append(peak + d)
    return np.array(order, dtype=np.int64)


def rank_table(S: int) -> np.ndarray:
    """``table[peak, symbol]`` = rank the estimation sort gives ``symbol`` when the peak is ``peak``."""
    table = np.empty((S, S), dtype=np.int64)
    for peak in range(S):
        table[peak, order_from_peak(peak, S)] = np.arange(S)
    return table


__all__ = [
    "MAX_S",
    "MIN_S",
    "check_encoders",
    "check_sclv",
    "default_encoders",
    "estimation_sort",
    "missing_paper_sclvs",
    "order_from_peak",
    "rank_table",
    "sclvs",
]

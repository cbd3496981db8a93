"""Numba kernel of the fidelity metrics: matching two sorted lists of spike times."""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def match_times(a, b, tolerance):
    """Greedy one-to-one matching of increasing ``a`` and ``b`` within ``tolerance`` samples.

    Each ``a[i]`` takes the nearest unused ``b[j]`` within the tolerance, scanning in time order (for
    spike trains further apart than the tolerance this is the maximum matching).  Returns, per
    ``a[i]``, the index of its match in ``b`` or -1.
    """
    out = np.full(a.shape[0], -1, dtype=np.int64)
    used = np.zeros(b.shape[0], dtype=np.bool_)
    j0 = 0
    for i in range(a.shape[0]):
        while j0 < b.shape[0] and b[j0] < a[i] - tolerance:
            j0 += 1
        best = -1
        best_d = tolerance + 1
        j = j0
        while j < b.shape[0] and b[j] <= a[i] + tolerance:
            if not used[j]:
                d = abs(b[j] - a[i])
                if d < best_d:
                    best, best_d = j, d
            j += 1
        if best >= 0:
            used[best] = True
            out[i] = best
    return out

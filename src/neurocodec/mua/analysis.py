"""The paper's measurements: bit rate after calibration, power, channel capacity, decoding (BDP).

Bit rate follows the paper's protocol: a channel calibrates on its first ``hist_samples`` bins and
its rate is measured on the bins right after, over half the recording (``measure="half"``) or
over all the rest (``measure="rest"``).  Rates are bits per second per channel, averaged over
channels.  The bits are counted from the code lengths the codec uses (the same
:func:`~neurocodec.mua.codec.calibrate`), which equal the size of the coded stream for that span.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidConfigError
from .codec import arith_stream, as_counts, calibrate, raw_bits, saturate
from .sclv import check_encoders, check_S, default_encoders

#: Paper's power model: processing per channel (uW), radio energy per bit (nJ), static (uW).
PROCESSING_UW = 0.96
ENERGY_NJ_PER_BIT = 20.0
STATIC_UW = 162.0
MEASURES = ("half", "rest")


def implant_budget_uw(width_mm: float = 2.5, height_mm: float = 2.5, density_mw_per_cm2: float = 10.0) -> float:
    """Power an implant of this footprint may dissipate (uW): 625 uW for 2.5 x 2.5 mm at 10 mW/cm2."""
    return width_mm * height_mm / 100.0 * density_mw_per_cm2 * 1000.0


def measurement_span(n_bins: int, calib_bins: int, measure: str = "half") -> slice:
    """Bins over which the bit rate is measured (see module docstring)."""
    if measure not in MEASURES:
        raise InvalidConfigError(f"measure must be one of {MEASURES}, got {measure!r}")
    end = n_bins if measure == "rest" else min(n_bins, calib_bins + n_bins // 2)
    if end <= calib_bins:
        raise InvalidConfigError(
            f"recording of {n_bins} bins leaves nothing to measure after {calib_bins} calibration bins"
        )
    return slice(calib_bins, end)


def channel_bit_rates(sat: np.ndarray, encoders: np.ndarray, hist_samples: int, sort: bool, bin_ms: float,
                      measure: str = "half") -> np.ndarray:
    """Per-channel static-Huffman bit rate (bits/s) of saturated counts after calibration."""
    cal = calibrate(sat, encoders, hist_samples, sort)
    span = measurement_span(sat.shape[0], cal.calib_bins, measure)
    lengths = encoders[cal.encoder[:, None], cal.ranks(encoders.shape[1])]
    bits = np.take_along_axis(lengths, sat[span].T, axis=1).sum(axis=1)
    return bits / (span.stop - span.start) * (1000.0 / bin_ms)


def entropy_rates(sat: np.ndarray, S: int, bin_ms: float) -> np.ndarray:
    """Per-channel empirical zeroth-order entropy (bits/s): the floor of any static per-channel code."""
    n = sat.shape[0]
    out = np.zeros(sat.shape[1])
    for v in range(S):
        p = np.count_nonzero(sat == v, axis=0) / n
        nz = p > 0
        out[nz] -= p[nz] * np.log2(p[nz])
    return out * (1000.0 / bin_ms)


def power_uw_per_channel(bits_per_second, processing_uw: float = PROCESSING_UW,
                         energy_nj_per_bit: float = ENERGY_NJ_PER_BIT):
    """Processing plus radio power of a channel sending ``bits_per_second`` (uW)."""
    return processing_uw + np.asarray(bits_per_second, dtype=np.float64) * energy_nj_per_bit * 1e-3


def evaluate(counts, bin_ms: float = 50, S: int = 3, encoders=None, hist_samples: int = 64, sort: bool = True,
             measure: str = "half", processing_uw: float = PROCESSING_UW,
             energy_nj_per_bit: float = ENERGY_NJ_PER_BIT) -> dict:
    """Bit rate, power and bounds of the SCLV system on (bins, channels) counts.

    Returns a dict of floats (rates in bits/s/channel, means over channels) plus the per-channel
    static-Huffman rates (``per_channel_bits_per_second``, an array):

    - ``bits_per_second_per_channel`` (and ``_std`` across channels): the static Huffman system;
    - ``just_binning_bits_per_second_per_channel``: ceil(log2 S) bits per bin;
    - ``entropy_bound_bits_per_second_per_channel``: empirical entropy of the measured span;
    - ``arithmetic_bits_per_second_per_channel``: neurocodec's adaptive arithmetic coder on the same
      span (actual coded size, starting from an untrained model);
    - ``compression_ratio_vs_binning``, ``power_uw_per_channel``, ``huffman_efficiency``
      (entropy bound / static Huffman rate).
    """
    S = check_S(S)
    if isinstance(bin_ms, bool) or not isinstance(bin_ms, (int, float, np.integer, np.floating)) or bin_ms <= 0:
        raise InvalidConfigError(f"bin_ms must be a positive number, got {bin_ms!r}")
    enc = default_encoders(S) if encoders is None else check_encoders(encoders, S)
    if isinstance(hist_samples, bool) or not isinstance(hist_samples, (int, np.integer)) or hist_samples < 1:
        raise InvalidConfigError(f"hist_samples must be a positive integer, got {hist_samples!r}")
    sat = saturate(counts, S)
    if sat.shape[1] == 0:
        raise InvalidConfigError("counts hold no channels")
    rates = channel_bit_rates(sat, enc, int(hist_samples), bool(sort), bin_ms, measure)
    span = measurement_span(sat.shape[0], min(int(hist_samples), sat.shape[0]), measure)
    measured = np.ascontiguousarray(sat[span])
    binning = raw_bits(S) * 1000.0 / bin_ms
    entropy = entropy_rates(measured, S, bin_ms)
    arith_bits = 8 * len(arith_stream(measured, S))
    br = float(rates.mean())
    return {
        "S": S,
        "bin_ms": float(bin_ms),
        "hist_samples": int(hist_samples),
        "sort": bool(sort),
        "n_encoders": int(enc.shape[0]),
        "channels": int(sat.shape[1]),
        "measured_bins": int(span.stop - span.start),
        "bits_per_second_per_channel": br,
        "bits_per_second_per_channel_std": float(rates.std()),
        "just_binning_bits_per_second_per_channel": binning,
        "entropy_bound_bits_per_second_per_channel": float(entropy.mean()),
        "arithmetic_bits_per_second_per_channel": arith_bits / measured.size * 1000.0 / bin_ms,
        "compression_ratio_vs_binning": binning / br,
        "huffman_efficiency": float(entropy.mean()) / br,
        "power_uw_per_channel": float(power_uw_per_channel(br, processing_uw, energy_nj_per_bit)),
        "per_channel_bits_per_second": rates,
    }


def configurations(counts, bin_ms: float = 50, S: int = 3, encoders=None, hist_samples: int = 64,
                   measure: str = "half") -> dict[str, float]:
    """Bit rate (bits/s/channel) of the paper's four configurations.

    ``full``: the given encoders with the estimation sort; ``no_sort``: same encoders, values
    coded unsorted; ``one_encoder``: only the first encoder (training orders the best single one
    first), sorted; ``just_binning``: ceil(log2 S) bits per bin.
    """
    S = check_S(S)
    enc = default_encoders(S) if encoders is None else check_encoders(encoders, S)
    sat = saturate(counts, S)
    return {
        "full": float(channel_bit_rates(sat, enc, hist_samples, True, bin_ms, measure).mean()),
        "no_sort": float(channel_bit_rates(sat, enc, hist_samples, False, bin_ms, measure).mean()),
        "one_encoder": float(channel_bit_rates(sat, enc[:1], hist_samples, True, bin_ms, measure).mean()),
        "just_binning": raw_bits(S) * 1000.0 / bin_ms,
    }


def channel_capacity(power_uw=None, budget_uw: float | None = None, static_uw: float = STATIC_UW,
                     p: float = 0.05, draws: int = 100_000, seed: int = 0, chunk: int = 10_000, *,
                     bits_per_second=None, processing_uw: float = PROCESSING_UW,
                     energy_nj_per_bit: float = ENERGY_NJ_PER_BIT) -> int:
    """Most channels an implant can carry with P(total power > budget) below ``p``.

    Give the per-channel powers (uW) or, as ``bits_per_second``, the per-channel bit rates (e.g.
    ``evaluate(...)["per_channel_bits_per_second"]``), turned into powers by
    :func:`power_uw_per_channel`.  The total is ``static_uw`` plus the drawn channels' powers.
    Channels are drawn at random, with replacement, from the measured per-channel powers;
    ``draws`` random subsets estimate the probability for each count (binary search over counts:
    the exceedance probability grows with the count).  ``budget_uw`` defaults to
    :func:`implant_budget_uw` (625 uW).
    """
    if (power_uw is None) == (bits_per_second is None):
        raise InvalidConfigError("give exactly one of power_uw and bits_per_second")
    if power_uw is None:
        power_uw = power_uw_per_channel(bits_per_second, processing_uw, energy_nj_per_bit)
    powers = np.asarray(power_uw, dtype=np.float64).ravel()
    if powers.size == 0 or not np.all(np.isfinite(powers)) or powers.min() <= 0:
        raise InvalidConfigError("need at least one finite, positive per-channel power")
    if not 0 < p < 1:
        raise InvalidConfigError(f"p must lie in (0, 1), got {p!r}")
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise InvalidConfigError(f"draws must be a positive integer, got {draws!r}")
    budget = implant_budget_uw() if budget_uw is None else float(budget_uw)
    headroom = budget - static_uw
    if headroom <= 0:
        return 0
    rng = np.random.default_rng(seed)

    def exceed_prob(n: int) -> float:
        over = 0
        done = 0
        per_chunk = max(1, min(chunk, 5_000_000 // max(n, 1)))
        while done < draws:
            m = min(per_chunk, draws - done)
            totals = powers[rng.integers(0, powers.size, size=(m, n))].sum(axis=1)
            over += int(np.count_nonzero(totals > headroom))
            done += m
        return over / draws

    lo, hi = 0, int(headroom // powers.min()) + 1  # hi channels always exceed the budget
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if exceed_prob(mid) < p:
            lo = mid
        else:
            hi = mid
    return lo


# ---------------------------------------------------------------------------------- decoding


def lagged_features(counts: np.ndarray, bins_before: int, bins_after: int) -> tuple[np.ndarray, np.ndarray]:
    """Design matrix of counts at lags -bins_before..+bins_after and the rows it is defined for."""
    n, c = counts.shape
    rows = np.arange(bins_before, n - bins_after)
    cols = [counts[rows + lag] for lag in range(-bins_before, bins_after + 1)]
    return (np.concatenate(cols, axis=1) if cols else np.zeros((rows.size, 0))).astype(np.float64), rows


class _RidgeStats:
    """Sufficient statistics (sums, Gram matrix, cross products) of a design matrix and targets.

    A fold's training set is everything but one block, so its statistics are the totals minus the
    block's: the large Gram matrix is formed once instead of once per fold.  The fit standardises
    the features with the training set's own mean and deviation, exactly as refitting would.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray):
        self.n, self.sx, self.sy = x.shape[0], x.sum(axis=0), y.sum(axis=0)
        self.xx, self.xy = x.T @ x, x.T @ y

    def minus(self, x: np.ndarray, y: np.ndarray) -> "_RidgeStats":
        out = object.__new__(_RidgeStats)
        out.n, out.sx, out.sy = self.n - x.shape[0], self.sx - x.sum(axis=0), self.sy - y.sum(axis=0)
        out.xx, out.xy = self.xx - x.T @ x, self.xy - x.T @ y
        return out

    def fit(self, alpha: float):
        """Ridge regression on standardised features; returns the predictor."""
        mu, ym = self.sx / self.n, self.sy / self.n
        cov = self.xx - self.n * np.outer(mu, mu)
        sd = np.sqrt(np.maximum(np.diag(cov), 0.0) / self.n)
        sd[sd == 0] = 1.0
        gram = cov / np.outer(sd, sd) + alpha * np.eye(mu.size)
        w = np.linalg.solve(gram, (self.xy - self.n * np.outer(mu, ym)) / sd[:, None])
        return lambda xn: (xn - mu) / sd @ w + ym


def decode_behaviour(counts, velocity, S: int | None = None, bins_before: int = 6, bins_after: int = 6,
                     folds: int = 10, alpha: float = 1.0, degree: int = 3) -> dict:
    """Behavioural decoding performance (BDP) of a Wiener cascade decoder.

    Ridge regression of velocity (bins, outputs) on counts at lags -bins_before..+bins_after, then
    per output a degree-``degree`` polynomial from the linear prediction to the true value (the
    static nonlinearity), fitted on the training folds.  Contiguous folds: each block of the
    recording is predicted from a model trained on the others.  ``S`` saturates the counts first
    (None: unsaturated).  BDP = Pearson r between decoded and true velocity over all predicted
    bins, averaged over outputs (x and y).
    """
    x = as_counts(counts)
    if S is not None:
        x = np.minimum(x, check_S(S) - 1)
    y = np.asarray(velocity, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    if y.shape[0] != x.shape[0]:
        raise InvalidConfigError(f"velocity has {y.shape[0]} bins, counts {x.shape[0]}")
    if not np.all(np.isfinite(y)):
        raise InvalidConfigError("velocity must be finite")
    feats, rows = lagged_features(x, bins_before, bins_after)
    target = y[rows]
    if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or not 2 <= folds <= rows.size:
        raise InvalidConfigError(f"folds must be an integer in [2, {rows.size}], got {folds!r}")
    pred = np.empty_like(target)
    edges = np.linspace(0, rows.size, folds + 1).astype(int)
    totals = _RidgeStats(feats, target)
    for k in range(folds):
        test = np.zeros(rows.size, dtype=bool)
        test[edges[k]:edges[k + 1]] = True
        linear = totals.minus(feats[test], target[test]).fit(alpha)
        lin_train, lin_test = linear(feats[~test]), linear(feats[test])
        for j in range(target.shape[1]):
            poly = np.polyfit(lin_train[:, j], target[~test, j], degree)
            pred[test, j] = np.polyval(poly, lin_test[:, j])
    r = [float(np.corrcoef(pred[:, j], target[:, j])[0, 1]) for j in range(target.shape[1])]
    return {"bdp": float(np.mean(r)), "r_per_output": r, "folds": int(folds), "bins": int(rows.size)}


__all__ = [
    "channel_bit_rates",
    "channel_capacity",
    "configurations",
    "decode_behaviour",
    "entropy_rates",
    "evaluate",
    "implant_budget_uw",
    "power_uw_per_channel",
]

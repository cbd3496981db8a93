"""Training the encoder set by backward elimination, and the encoder JSON the RTL is rendered from.

Training channels are histogrammed over their whole length and sorted in descending order (the
true sort, available offline); each is assigned its best SCLV in the current set.  Each round
removes the SCLV whose absence raises the mean training bit rate least, down to one encoder.
After every round the current set is validated on held-out channels run through the implant's
calibration (sample histogram, estimation sort, assignment) with the bit rate measured after it.
This repeats over random 50/50 channel splits; the encoder sets returned for use come from one
more elimination on all channels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from .._progress import tqdm

from ..errors import InvalidConfigError
from .analysis import channel_bit_rates
from .codec import saturate
from .sclv import check_encoders, check_S, sclvs

ENCODER_FORMAT = "neurocodec.mua.encoders/1"


def sorted_histograms(sat: np.ndarray, S: int) -> np.ndarray:
    """Per-channel histograms (channels, S) sorted descending, normalised to bits per bin."""
    hist = np.stack([np.count_nonzero(sat == v, axis=0) for v in range(S)], axis=1).astype(np.float64)
    return -np.sort(-hist, axis=1) / max(sat.shape[0], 1)


def eliminate(sorted_hist: np.ndarray, candidates: np.ndarray) -> list[np.ndarray]:
    """Backward elimination: the encoder sets of every round, from all candidates down to one.

    ``sorted_hist`` (channels, S) holds each channel's sorted histogram; a channel costs the
    smallest dot product over the set.  Returns the sets (each an (n, S) array), largest first;
    the last one is the best single encoder.
    """
    cost = sorted_hist @ candidates.T  # (channels, candidates) bits per bin
    alive = list(range(candidates.shape[0]))
    rounds = [candidates[alive]]
    while len(alive) > 1:
        best, best_rate = None, np.inf
        for k in alive:
            rest = [j for j in alive if j != k]
            rate = cost[:, rest].min(axis=1).mean()
            if rate < best_rate:
                best, best_rate = k, rate
        alive.remove(best)
        rounds.append(candidates[alive])
    return rounds


@dataclass
class TrainingResult:
    """Outcome of :func:`train_encoders`.

    ``sets[n]`` is the n-encoder set from elimination on all channels.  Per split,
    ``validation[n]`` holds the mean bit rate (bits/s/channel) with n encoders on the held-out
    channels after on-implant calibration, and ``training[n]`` the elimination's objective on the
    training channels (each channel on its best encoder for its true sorted histogram).
    """

    S: int
    bin_ms: float
    hist_samples: int
    candidates: np.ndarray
    sets: dict[int, np.ndarray] = field(default_factory=dict)
    validation: dict[int, np.ndarray] = field(default_factory=dict)
    training: dict[int, np.ndarray] = field(default_factory=dict)

    def encoders(self, n: int = 1) -> list[list[int]]:
        """The trained n-encoder set as nested lists (best single encoder first)."""
        if n not in self.sets:
            raise InvalidConfigError(f"no {n}-encoder set; available: {sorted(self.sets)}")
        return self.sets[n].tolist()

    def summary(self) -> list[dict]:
        """One row per set size: validation mean/std over splits and the training mean."""
        return [
            {
                "n_encoders": n,
                "validation_bits_per_second_mean": float(np.mean(self.validation[n])),
                "validation_bits_per_second_std": float(np.std(self.validation[n])),
                "training_bits_per_second_mean": float(np.mean(self.training[n])),
                "encoders": self.sets[n].tolist(),
            }
            for n in sorted(self.sets)
        ]


def _order_best_first(rounds: list[np.ndarray]) -> dict[int, np.ndarray]:
    # Within each set put the encoders in the order they survive elimination, so encoders[:1] is
    # the best single encoder (the "one_encoder" configuration) and index 0 the most useful one.
    survival = [tuple(v) for v in rounds[-1].tolist()]
    for s in reversed(rounds[:-1]):
        survival += [tuple(v) for v in s.tolist() if tuple(v) not in survival]
    rank = {v: i for i, v in enumerate(survival)}
    return {len(s): np.array(sorted(s.tolist(), key=lambda v: rank[tuple(v)]), dtype=np.int64) for s in rounds}


def train_encoders(counts, S: int = 3, bin_ms: float = 50, hist_samples: int = 64, n_splits: int = 30,
                   seed: int = 0, complete: bool = False, candidates=None, measure: str = "half",
                   progress: bool = False) -> TrainingResult:
    """Train encoder sets on (bins, channels) counts (see module docstring).

    ``candidates`` defaults to ``sclvs(S, complete)``.  ``n_splits`` random 50/50 channel splits
    (the paper used 30) give the validation figures; ``progress`` shows a tqdm bar.
    """
    S = check_S(S)
    sat = saturate(counts, S)
    if sat.shape[1] < 2:
        raise InvalidConfigError(f"training needs at least 2 channels, got {sat.shape[1]}")
    cand = sclvs(S, complete) if candidates is None else check_encoders(candidates, S)
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 0:
        raise InvalidConfigError(f"n_splits must be a non-negative integer, got {n_splits!r}")
    result = TrainingResult(S, float(bin_ms), int(hist_samples), cand)
    result.sets = _order_best_first(eliminate(sorted_histograms(sat, S), cand))
    rng = np.random.default_rng(seed)
    n_ch = sat.shape[1]
    val = {n: [] for n in result.sets}
    tra = {n: [] for n in result.sets}
    for _ in tqdm(range(n_splits), desc=f"training S={S}", disable=not progress, leave=False):
        perm = rng.permutation(n_ch)
        cut = int(round(n_ch / 2))
        train, held = sat[:, perm[:cut]], sat[:, perm[cut:]]
        train_hist = sorted_histograms(train, S)
        for enc_set in eliminate(train_hist, cand):
            n = enc_set.shape[0]
            val[n].append(channel_bit_rates(held, enc_set, hist_samples, True, bin_ms, measure).mean())
            tra[n].append((train_hist @ enc_set.T).min(axis=1).mean() * 1000.0 / bin_ms)
    result.validation = {n: np.array(v) for n, v in val.items()}
    result.training = {n: np.array(v) for n, v in tra.items()}
    return result


def save_encoders(path, encoders, S: int, bin_ms: float = 50, hist_samples: int = 64) -> None:
    """Write the encoder JSON (the input of :func:`neurocodec.mua.rtl.render_verilog`)."""
    S = check_S(S)
    doc = {
        "format": ENCODER_FORMAT,
        "S": S,
        "bin_ms": bin_ms,
        "hist_samples": int(hist_samples),
        "encoders": check_encoders(encoders, S).tolist(),
    }
    Path(path).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


def load_encoders(path) -> dict:
    """Read an encoder JSON written by :func:`save_encoders`; validates every field."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidConfigError(f"cannot read encoder JSON {path}: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != ENCODER_FORMAT:
        raise InvalidConfigError(f"{path} is not a {ENCODER_FORMAT} document")
    S = check_S(doc.get("S"))
    doc["encoders"] = check_encoders(doc.get("encoders", []), S).tolist()
    return doc


__all__ = ["TrainingResult", "eliminate", "load_encoders", "save_encoders", "sorted_histograms", "train_encoders"]

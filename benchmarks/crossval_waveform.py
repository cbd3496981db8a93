"""Learn the waveform codec's model priors from recordings, and show by cross-validation that they hold.

Every adaptive table of the codec (see ``neurocodec.waveform._kernels``: magnitude models, per-level
biases, sign model, mixer weights, APMs) starts each payload from a prior.  Short recordings spend a
noticeable share of their bits teaching an uninformed prior what every recording of the implant
shares (the ADC's code widths, the calibration of the mix), so the codec ships priors learned here.

The check: split the recordings in two halves (alternate files by name), learn on one half,
measure the payload ratio on the other, both ways; compare with the uninformed prior.
``--write`` then learns from all recordings and rewrites ``src/neurocodec/waveform/_prior.py``.

    python benchmarks/crossval_waveform.py [DIR] [--files N] [--write]
"""

from __future__ import annotations

import argparse
import base64
import sys
import zlib
from pathlib import Path

import numpy as np
from scipy.io import wavfile

from neurocodec.waveform import _kernels as K
from neurocodec.waveform.lossless import PARAM_SETS, PRESETS, WaveformCodec

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = ROOT.parent / "shared" / "data" / "neuralink-dev"


def learn(codec: WaveformCodec, recordings: list[np.ndarray], base: np.ndarray) -> np.ndarray:
    """Average of the final model states over ``recordings``, each coded from ``base``."""
    finals = [codec.encode_with_model(x, base, fit=True)[1] for x in recordings]
    finals = [m for m in finals if m is not None]
    if not finals:
        return base.copy()
    return np.round(np.mean(finals, axis=0)).astype(np.int64)


def ratio(codec: WaveformCodec, recordings: list[np.ndarray], sizes: list[int], prior: np.ndarray) -> float:
    coded = sum(len(codec.encode_with_model(x, prior)[0]) for x in recordings)
    return sum(sizes) / coded


def encode_prior(prior: np.ndarray) -> str:
    return base64.b64encode(zlib.compress(prior.astype("<i4").tobytes(), 9)).decode("ascii")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--files", type=int, default=0, help="use every k-th file to get about N files")
    ap.add_argument("--write", action="store_true", help="learn from all files and rewrite _prior.py")
    args = ap.parse_args(argv)
    paths = sorted(args.folder.glob("*.wav"))
    if args.files:
        paths = paths[:: max(1, len(paths) // args.files)][: args.files]
    if len(paths) < 2:
        print(f"need at least two WAV files in {args.folder}", file=sys.stderr)
        return 1
    recordings = [wavfile.read(p)[1] for p in paths]
    sizes = [p.stat().st_size for p in paths]
    halves = [list(range(0, len(paths), 2)), list(range(1, len(paths), 2))]
    learned = {}
    for preset, (set_id, _) in sorted(PRESETS.items(), key=lambda kv: kv[1][0]):
        codec = WaveformCodec(preset)
        base = K.initial_model(bool(PARAM_SETS[set_id][K.P_MIXED]))
        print(f"preset {preset}: payload ratio (WAV bytes / payload bytes) on the held-out half")
        for train, test in (halves, halves[::-1]):
            prior = learn(codec, [recordings[i] for i in train], base)
            held = [recordings[i] for i in test]
            held_sizes = [sizes[i] for i in test]
            print(f"  learn on {len(train)}, test on {len(test)}: uninformed {ratio(codec, held, held_sizes, base):.4f}"
                  f"  learned {ratio(codec, held, held_sizes, prior):.4f}")
        learned[set_id] = learn(codec, recordings, base) if args.write else None
    if args.write:
        lines = [
            '"""Model priors of the waveform codec, one per parameter set, learned by benchmarks/crossval_waveform.py.',
            "",
            "Generated file: zlib-compressed little-endian int32 model states (layout in _kernels.py).  Changing",
            "them changes how every payload decodes, so a new prior needs a new format version.",
            '"""',
            "",
            "PRIORS = (",
        ]
        for set_id in range(len(PARAM_SETS)):
            text = encode_prior(learned[set_id])
            lines.append("    (")
            lines += [f'        "{text[i:i + 96]}"' for i in range(0, len(text), 96)]
            lines.append("    ),")
        lines.append(")")
        target = ROOT / "src" / "neurocodec" / "waveform" / "_prior.py"
        target.write_text("\n".join(lines) + "\n")
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

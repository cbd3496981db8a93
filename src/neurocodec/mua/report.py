"""The paper's analysis on a user's data: tables of bit rate, power and BDP across BP and S, figures.

:func:`load_mua_data` reads a recording (a .mat like the m1 or Golub files, an .npy of counts or of a
detection raster, or a folder of WAVs) into :class:`MUAData`, which re-bins to any binning period
it supports.  :func:`run_report` trains encoders and measures every (BP, S) combination;
:func:`write_report` writes JSON, CSV, Markdown tables and PNG figures.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io
from scipy.io.matlab import MatReadError
from .._progress import tqdm

from ..errors import InvalidConfigError, NeurocodecError
from ..io.atomic import write_atomic
from .analysis import channel_capacity, configurations, decode_behaviour, evaluate, power_uw_per_channel
from .binning import bin_raster, bin_spike_times, detect_crossings, load_wav_folder, rebin
from .training import train_encoders


@dataclass
class MUAData:
    """A recording reduced to what MUA analysis needs.

    Either ``counts`` at ``base_bin_ms`` (re-binnable to whole multiples) or per-channel event
    times ``events`` (seconds, any BP) over ``duration_s``; optional ``velocity`` (bins, 2) at
    ``base_bin_ms`` for behavioural decoding.
    """

    source: str
    counts: np.ndarray | None = None
    base_bin_ms: float | None = None
    events: list | None = None
    duration_s: float | None = None
    velocity: np.ndarray | None = None

    @property
    def channels(self) -> int:
        return self.counts.shape[1] if self.counts is not None else len(self.events)

    def _factor(self, bin_ms: float) -> int:
        k = bin_ms / self.base_bin_ms
        if abs(k - round(k)) > 1e-9 or round(k) < 1:
            raise InvalidConfigError(
                f"{self.source} is binned at {self.base_bin_ms:g} ms; BP {bin_ms:g} ms is not a whole multiple"
            )
        return int(round(k))

    def binned(self, bin_ms: float) -> np.ndarray:
        """Counts (bins, channels) at binning period ``bin_ms``."""
        if self.counts is not None:
            return rebin(self.counts, self._factor(bin_ms))
        return bin_spike_times(self.events, bin_ms, self.duration_s)

    def velocity_at(self, bin_ms: float) -> np.ndarray | None:
        """Velocity averaged over each bin of ``bin_ms`` (None when the data has none)."""
        if self.velocity is None:
            return None
        k = self._factor(bin_ms)
        n = self.velocity.shape[0] // k
        return self.velocity[:n * k].reshape(n, k, -1).mean(axis=1)


def _from_mat(path: Path, source_bin_ms: float | None) -> MUAData:
    try:
        with open(path, "rb") as fh:
            text_header = fh.read(116)
    except OSError as exc:
        raise InvalidConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    if text_header.startswith(b"MATLAB 7.3"):
        # v7.3 files are HDF5 containers, which scipy.io.loadmat does not read
        raise InvalidConfigError(f"{path} is a MATLAB v7.3 (HDF5) file; save it with save(..., '-v7') "
                                 "or export the counts as .npy")
    try:
        mat = scipy.io.loadmat(path)
    except (ValueError, OSError, MatReadError) as exc:
        raise InvalidConfigError(f"cannot read {path} as a MATLAB file: {exc}") from None
    try:
        return _parse_mat(mat, path, source_bin_ms)
    except InvalidConfigError:
        raise
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise InvalidConfigError(f"{path}: unexpected layout ({type(exc).__name__}: {exc})") from None


def _parse_mat(mat: dict, path: Path, source_bin_ms: float | None) -> MUAData:
    if "spikes" in mat:  # m1 layout: spikes (units, bins), handVel (3, bins), time (1, bins) in s
        counts = np.asarray(mat["spikes"]).T.astype(np.int64)
        bin_ms = source_bin_ms
        if bin_ms is None and "time" in mat and mat["time"].size > 1:
            bin_ms = round(float(np.median(np.diff(mat["time"].ravel()))) * 1000.0, 6)
        vel = np.asarray(mat["handVel"], dtype=np.float64)[:2].T if "handVel" in mat else None
    elif "beforeLearning" in mat:  # Golub BCI-learning layout: trial-grouped clouds of 45 ms bins
        blocks = []
        for key in ("beforeLearning", "afterLearning"):
            clouds = mat[key][0, 0]["clouds"][0, 0]["spikes"]
            blocks += [np.asarray(c).T for c in clouds.ravel()]
        counts = np.concatenate(blocks, axis=0).astype(np.int64)
        bin_ms, vel = source_bin_ms or 45.0, None
    else:
        raise InvalidConfigError(f"{path}: expected a 'spikes' (units x bins) or Golub-style .mat file")
    if bin_ms is None:
        raise InvalidConfigError(f"{path}: cannot tell the bin width; pass --source-bin-ms")
    return MUAData(str(path), counts=counts, base_bin_ms=float(bin_ms), velocity=vel)


def load_mua_data(path, source_bin_ms: float | None = None, raster_ms: float | None = None,
                  threshold_k: float = 4.5) -> MUAData:
    """Read ``path``: a .mat, an .npy (integer counts, or a boolean raster), or a folder of WAVs.

    .npy counts are taken at ``source_bin_ms`` (default 50 ms); a boolean .npy, or any .npy when
    ``raster_ms`` is given, is a (samples, channels) detection raster sampled every ``raster_ms``
    (default 1 ms).  WAV folders go through threshold crossings at ``-threshold_k`` x MAD noise.
    """
    p = Path(path)
    if p.is_dir():
        signals, fs = load_wav_folder(p)
        crossings = detect_crossings(signals, fs, k=threshold_k)
        return MUAData(str(p), events=[c / fs for c in crossings], duration_s=signals.shape[0] / fs)
    if not p.exists():
        raise InvalidConfigError(f"{p} does not exist")
    if p.suffix.lower() == ".mat":
        return _from_mat(p, source_bin_ms)
    if p.suffix.lower() == ".npy":
        try:
            arr = np.load(p, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise InvalidConfigError(f"cannot read {p} as .npy: {exc}") from None
        if arr.ndim != 2:
            raise InvalidConfigError(f"{p}: expected a 2-d (bins or samples, channels) array, got {arr.shape}")
        if arr.dtype == np.bool_ or raster_ms is not None:
            step = 1.0 if raster_ms is None else float(raster_ms)
            return MUAData(str(p), counts=bin_raster(arr, step, step), base_bin_ms=step)
        if not np.issubdtype(arr.dtype, np.integer) or (arr.size and arr.min() < 0):
            raise InvalidConfigError(f"{p}: counts must be non-negative integers, got dtype {arr.dtype}")
        return MUAData(str(p), counts=arr.astype(np.int64), base_bin_ms=float(source_bin_ms or 50.0))
    raise InvalidConfigError(f"{p}: unsupported input (want .mat, .npy or a folder of .wav files)")


def read_paper_results(path) -> list[dict]:
    """Rows of the paper's results CSV with numeric fields as floats (NaN where unparsable)."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise InvalidConfigError(f"cannot read paper results {path}: {exc}") from None
    out = []
    for row in rows:
        parsed = {}
        for k, v in row.items():
            try:
                parsed[k] = float(v)
            except (TypeError, ValueError):
                parsed[k] = math.nan
        out.append(parsed)
    if not out or "BP_ms" not in out[0]:
        raise InvalidConfigError(f"{path} is not the paper's results CSV (no BP_ms column)")
    return out


def _paper_row(rows: list[dict], bp: float, S: int, hist_samples: int, n_enc: int) -> dict | None:
    log2h = math.log2(hist_samples)
    for r in rows:
        if (r["BP_ms"] == bp and r["S"] == S and r["hist_log2_samples"] == log2h and r["n_encoders"] == n_enc):
            return r
    return None


def run_report(data: MUAData, bin_ms=(50,), S_values=(3,), hist_samples: int = 64, n_encoders: int = 1,
               n_splits: int = 30, draws: int = 100_000, p: float = 0.05, bdp: bool = True, bdp_folds: int = 10,
               paper_rows: list[dict] | None = None, seed: int = 0, progress: bool = True) -> dict:
    """Measure every (BP, S): trained encoders, four configurations, bounds, power, capacity, BDP."""
    combos = [(float(bp), int(S)) for bp in bin_ms for S in S_values]
    if data.channels < 2:
        raise InvalidConfigError(f"{data.source}: the analysis trains on half the channels; need >= 2, got "
                                 f"{data.channels}")
    rows, bdp_unsat = [], {}
    do_bdp = bdp and data.velocity is not None
    for bp, S in tqdm(combos, desc="MUA report", disable=not progress, leave=False):
        counts = data.binned(bp)
        trained = train_encoders(counts, S=S, bin_ms=bp, hist_samples=hist_samples, n_splits=n_splits, seed=seed)
        n_enc = min(n_encoders, max(trained.sets))
        enc = trained.encoders(n_enc)
        ev = evaluate(counts, bin_ms=bp, S=S, encoders=enc, hist_samples=hist_samples)
        conf = configurations(counts, bin_ms=bp, S=S, encoders=enc, hist_samples=hist_samples)
        row = {
            "bin_ms": bp, "S": S, "hist_samples": hist_samples, "n_encoders": n_enc, "encoders": enc,
            "channels": counts.shape[1], "bins": counts.shape[0],
            "br_full": conf["full"], "br_no_sort": conf["no_sort"], "br_one_encoder": conf["one_encoder"],
            "br_just_binning": conf["just_binning"],
            "br_validation_mean": float(np.mean(trained.validation[n_enc])) if n_splits else math.nan,
            "br_validation_std": float(np.std(trained.validation[n_enc])) if n_splits else math.nan,
            "br_arithmetic": ev["arithmetic_bits_per_second_per_channel"],
            "br_entropy_bound": ev["entropy_bound_bits_per_second_per_channel"],
            "compression_ratio_vs_binning": ev["compression_ratio_vs_binning"],
            "power_uw_full": ev["power_uw_per_channel"],
            "power_uw_no_sort": float(power_uw_per_channel(conf["no_sort"])),
            "power_uw_just_binning": float(power_uw_per_channel(conf["just_binning"])),
            "capacity_channels": channel_capacity(power_uw_per_channel(ev["per_channel_bits_per_second"]),
                                                  p=p, draws=draws, seed=seed),
        }
        if do_bdp:
            vel = data.velocity_at(bp)
            n = min(vel.shape[0], counts.shape[0])
            if bp not in bdp_unsat:
                bdp_unsat[bp] = decode_behaviour(counts[:n], vel[:n], folds=bdp_folds)["bdp"]
            row["bdp_unsaturated"] = bdp_unsat[bp]
            row["bdp"] = decode_behaviour(counts[:n], vel[:n], S=S, folds=bdp_folds)["bdp"]
        if paper_rows is not None:
            ref = _paper_row(paper_rows, bp, S, hist_samples, n_enc)
            if ref is not None:
                row.update({"paper_br_full": ref["BR_full"], "paper_br_no_sort": ref["BR_no_sort"],
                            "paper_br_just_binning": ref["BR_just_binning"],
                            "paper_bdp_flint_sabes": ref["BDP_train_mean_FlintSabes"],
                            "paper_resources_full_system": ref["res_full_system"],
                            "paper_power_uw_full": ref["P_processing_uW"] + ref["P_comm_full_uW"]})
        rows.append(row)
    return {"source": data.source, "channels": data.channels, "draws": draws, "p": p, "rows": rows}


# (key, heading, decimals; None = print as is)
_TABLE_COLUMNS = [
    ("bin_ms", "BP ms", None), ("S", "S", None), ("n_encoders", "enc", None),
    ("br_full", "BR full", 2), ("br_no_sort", "BR no sort", 2), ("br_one_encoder", "BR one enc", 2),
    ("br_just_binning", "BR binning", 2), ("br_arithmetic", "BR arith (ours)", 2),
    ("br_entropy_bound", "entropy", 2), ("power_uw_full", "P uW/ch", 3), ("capacity_channels", "capacity", None),
    ("bdp", "BDP", 3), ("bdp_unsaturated", "BDP unsat", 3),
    ("paper_br_full", "paper BR full", 2), ("paper_bdp_flint_sabes", "paper BDP", 3),
]


def truncated(value: float, decimals: int) -> str:
    """``value`` cut (not rounded) to ``decimals`` places, so a printed figure never overstates it."""
    scale = 10 ** decimals
    return f"{math.trunc(value * scale + (1e-9 if value >= 0 else -1e-9)) / scale:.{decimals}f}"


def markdown_table(report: dict) -> str:
    """The report's rows as a Markdown table (columns present in any row)."""
    rows = report["rows"]
    cols = [c for c in _TABLE_COLUMNS if any(c[0] in r for r in rows)]
    lines = ["| " + " | ".join(c[1] for c in cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = []
        for key, _, decimals in cols:
            v = r.get(key)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                cells.append("")
            else:
                cells.append(f"{v:g}" if decimals is None else truncated(v, decimals))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _plain_log_axis(axis, ticker) -> None:
    """Log axis labelled 1, 2, 5, 10, 20, ... in plain numbers (no 4x10^1)."""
    axis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(ticker.NullFormatter())


def _figures(report: dict, out: Path, paper_rows: list[dict] | None) -> list[str]:
    from .._optional import require

    matplotlib = require("matplotlib", "plot", "the MUA report's figures")

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    from matplotlib.lines import Line2D

    rows = report["rows"]
    written = []
    S_values = sorted({r["S"] for r in rows})
    styles = ["-", "--", "-.", (0, (3, 1, 1, 1, 1, 1)), (0, (5, 2)), (0, (1, 1))]
    fig, ax = plt.subplots(figsize=(6, 4))
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(S_values)))
    for S, colour in zip(S_values, colours):
        sub = sorted((r for r in rows if r["S"] == S), key=lambda r: r["bin_ms"])
        bps = [r["bin_ms"] for r in sub]
        # binning drawn first, wider and hollow, so it shows where it coincides with the full system
        ax.plot(bps, [r["br_just_binning"] for r in sub], ls=":", lw=2.5, marker="s", mfc="none", ms=8,
                color=colour, alpha=0.8)
        ax.plot(bps, [r["br_full"] for r in sub], ls="-", marker="o", color=colour, label=f"S = {S}")
    ax.set(xlabel="binning period (ms)", ylabel="bits/s/channel", xscale="log", yscale="log")
    ax.set_title("Bit rate vs binning period", fontsize=10)
    ax.set_xticks(sorted({r["bin_ms"] for r in rows}))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    _plain_log_axis(ax.yaxis, matplotlib.ticker)
    handles, _ = ax.get_legend_handles_labels()
    handles += [Line2D([], [], color="grey", ls="-", marker="o", label="full system"),
                Line2D([], [], color="grey", ls=":", lw=2.5, marker="s", mfc="none", ms=8, label="just binning")]
    ax.legend(handles=handles, fontsize=7)
    fig.tight_layout()
    _save_figure(fig, out / "bitrate_vs_bp.png")
    plt.close(fig)
    written.append("bitrate_vs_bp.png")

    if any("bdp" in r for r in rows):
        fig, ax = plt.subplots(figsize=(6, 4))
        for i, bp in enumerate(sorted({r["bin_ms"] for r in rows})):
            sub = sorted((r for r in rows if r["bin_ms"] == bp and "bdp" in r), key=lambda r: r["S"])
            line, = ax.plot([r["S"] for r in sub], [r["bdp"] for r in sub], ls=styles[i % len(styles)],
                            marker="o", label=f"BP {bp:g} ms")
            ax.axhline(sub[0]["bdp_unsaturated"], color=line.get_color(), ls=":", lw=1)
        ax.set(xlabel="S (symbols)", ylabel="BDP (Pearson r)", title="BDP vs S")
        ax.set_xticks(S_values)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        handles, _ = ax.get_legend_handles_labels()
        handles.append(Line2D([], [], color="grey", ls=":", lw=1, label="unsaturated counts"))
        ax.legend(handles=handles, fontsize=7)
        fig.tight_layout()
        _save_figure(fig, out / "bdp_vs_s_bp.png")
        plt.close(fig)
        written.append("bdp_vs_s_bp.png")

    if paper_rows:
        pts = [r for r in paper_rows if not math.isnan(r["res_full_system"])
               and not math.isnan(r["P_comm_full_uW"])]
        fig, ax = plt.subplots(figsize=(6, 4))
        sc = ax.scatter([r["res_full_system"] for r in pts], [r["P_processing_uW"] + r["P_comm_full_uW"] for r in pts],
                        c=[r["BDP_train_mean_FlintSabes"] for r in pts], s=12, cmap="viridis",
                        label="paper's design points (colour: its BDP)")
        fig.colorbar(sc, ax=ax, label="paper BDP (Flint/Sabes)")
        ours = [r for r in rows if "paper_resources_full_system" in r]
        markers = ["*", "P", "X", "D", "^", "v", "<", ">", "h", "p"]
        for i, r in enumerate(ours):
            ax.scatter([r["paper_resources_full_system"]], [r["power_uw_full"]], marker=markers[i % len(markers)],
                       s=90, c="red", edgecolors="black", linewidths=0.5,
                       label=f"this data, BP {r['bin_ms']:g} ms, S = {r['S']} (paper's resources)")
        ax.legend(fontsize=6, markerscale=0.6, labelspacing=0.9, loc="center left")
        ax.set(xlabel="FPGA resources, full system (cells)", ylabel="power per channel (µW), paper's model",
               xscale="log", yscale="log", title="Power vs resources")
        _plain_log_axis(ax.xaxis, matplotlib.ticker)
        _plain_log_axis(ax.yaxis, matplotlib.ticker)
        fig.tight_layout()
        _save_figure(fig, out / "power_vs_resources.png")
        plt.close(fig)
        written.append("power_vs_resources.png")
    return written


def _save_figure(fig, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    write_atomic(path, buf.getvalue())


def write_report(report: dict, out, paper_rows: list[dict] | None = None) -> list[str]:
    """Write report.json, report.csv, report.md and the PNG figures into ``out``; returns file names."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NeurocodecError(f"cannot create {out}: {exc}") from None
    write_atomic(out / "report.json", (json.dumps(report, indent=1) + "\n").encode())
    keys = sorted({k for r in report["rows"] for k in r if k != "encoders"})
    table = io.StringIO()
    w = csv.DictWriter(table, fieldnames=keys, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(report["rows"])
    write_atomic(out / "report.csv", table.getvalue().encode())
    write_atomic(out / "report.md", f"# MUA report: {report['source']}\n\n{markdown_table(report)}\n".encode())
    return ["report.json", "report.csv", "report.md"] + _figures(report, out, paper_rows)


__all__ = ["MUAData", "load_mua_data", "markdown_table", "read_paper_results", "run_report", "write_report"]

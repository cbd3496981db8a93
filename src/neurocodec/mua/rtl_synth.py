"""Synthesis, place-and-route and timing of rendered RTL with the open iCE40 tools.

:func:`synthesize` runs ``yosys`` (``synth_ice40``), ``nextpnr-ice40`` (place and route for the
chosen device and package) and, when installed, ``icetime`` (static timing of the routed
bitstream), and returns the figures an implant engineer asks for: logic cells after packing
(``ICESTORM_LC``: one LUT4, its carry and its flip-flop per cell), LUT4s, flip-flops, carry cells,
block RAMs, the routed Fmax against the required clock, and whether the design fits.  The tools
are Debian packages (``apt-get install yosys nextpnr-ice40 fpga-icestorm fpga-icestorm-chipdb``);
without them :func:`synthesize` raises :class:`ToolsMissingError` with that line.

The default part is the paper's iCE40 LP1K in its CM81 package (a package the LP1K ships in;
nextpnr's default, TQ144, exists only for the HX1K).
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import InvalidConfigError, NeurocodecError

DEVICES = {"lp1k": ("--lp1k", "lp1k"), "hx1k": ("--hx1k", "hx1k"), "up5k": ("--up5k", "up5k"),
           "lp8k": ("--lp8k", "lp8k"), "hx8k": ("--hx8k", "hx8k")}
REQUIRED_TOOLS = ("yosys", "nextpnr-ice40")
INSTALL_HINT = ("apt-get install yosys nextpnr-ice40 fpga-icestorm fpga-icestorm-chipdb "
                "(Debian packages; icetime is optional)")
_TIMEOUT_S = 900


class ToolsMissingError(NeurocodecError):
    """The open FPGA tools needed for synthesis are not on PATH."""


def missing_tools() -> list[str]:
    """The required tools (yosys, nextpnr-ice40) not found on PATH."""
    return [t for t in REQUIRED_TOOLS if shutil.which(t) is None]


def tool_versions() -> dict:
    """Version line of each installed tool (``None`` when absent)."""
    out = {}
    for tool, flag in (("yosys", "-V"), ("nextpnr-ice40", "--version")):
        if shutil.which(tool) is None:
            out[tool] = None
            continue
        run = subprocess.run([tool, flag], capture_output=True, text=True, timeout=60)
        lines = (run.stdout + run.stderr).strip().splitlines()
        out[tool] = lines[0] if lines else ""
    out["icetime"] = "installed" if shutil.which("icetime") else None
    return out


def _run(cmd: list[str], cwd: Path, what: str) -> subprocess.CompletedProcess:
    run = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=_TIMEOUT_S)
    if run.returncode != 0:
        tail = " | ".join((run.stderr or run.stdout).strip().splitlines()[-3:])
        raise NeurocodecError(f"{what} failed (exit {run.returncode}): {tail}")
    return run


def synthesize(verilog: str, top: str, required_mhz: float, device: str = "lp1k", package: str = "cm81",
               seed: int = 1, workdir=None) -> dict:
    """Synthesize, place and route ``verilog`` (module ``top``); returns the figures as a dict.

    Keys: ``device``, ``package``, ``top``, ``logic_cells`` (and ``logic_cells_available``),
    ``lut4``, ``ff``, ``carry``, ``block_rams`` (and ``block_rams_available``), ``fmax_mhz``
    (nextpnr, after routing), ``icetime_mhz`` (``None`` without icetime), ``required_mhz``,
    ``margin`` (Fmax / required), ``meets_clock``, ``fits``, ``tools`` and ``commands``.
    ``workdir`` keeps the intermediate files (JSON netlist, ASC bitstream, reports) there.
    """
    if device not in DEVICES:
        raise InvalidConfigError(f"device must be one of {sorted(DEVICES)}, got {device!r}")
    if not top.isidentifier():
        raise InvalidConfigError(f"top module {top!r} is not a Verilog identifier")
    if not required_mhz > 0:
        raise InvalidConfigError(f"required clock must be positive, got {required_mhz!r} MHz")
    missing = missing_tools()
    if missing:
        raise ToolsMissingError(f"--synth needs {', '.join(missing)} on PATH; install: {INSTALL_HINT}")
    pnr_flag, icetime_dev = DEVICES[device]
    with tempfile.TemporaryDirectory(prefix="neurocodec-synth-") as tmp:
        work = Path(workdir) if workdir is not None else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        (work / f"{top}.v").write_text(verilog, encoding="utf-8")
        yosys = ["yosys", "-q", "-p", f"read_verilog {top}.v; synth_ice40 -top {top} -json {top}.json; "
                 f"check -assert; tee -q -o {top}.stat.json stat -json"]
        _run(yosys, work, "yosys synth_ice40")
        stat = json.loads((work / f"{top}.stat.json").read_text(encoding="utf-8"))
        by_type = stat["design"]["num_cells_by_type"]
        # nextpnr's own clock target only steers placement; the required clock is judged below
        pnr = ["nextpnr-ice40", pnr_flag, "--package", package, "--json", f"{top}.json", "--asc", f"{top}.asc",
               "--pcf-allow-unconstrained", "--freq", f"{max(required_mhz, 12.0):g}", "--timing-allow-fail",
               "--seed", str(int(seed)), "--report", f"{top}.pnr.json"]
        _run(pnr, work, "nextpnr-ice40")
        report = json.loads((work / f"{top}.pnr.json").read_text(encoding="utf-8"))
        util = report["utilization"]
        fmax = min(c["achieved"] for c in report["fmax"].values()) if report["fmax"] else None
        icetime_mhz = None
        commands = [" ".join(yosys[:3]) + f' "{yosys[3]}"', " ".join(pnr)]
        if shutil.which("icetime"):
            it = ["icetime", "-d", icetime_dev, "-P", package, "-mt", f"{top}.asc"]
            run = _run(it, work, "icetime")
            m = re.search(r"(?:Timing estimate|Total path delay): [\d.]+ ns \(([\d.]+) MHz\)",
                          run.stdout + run.stderr)
            icetime_mhz = float(m.group(1)) if m else None
            commands.append(" ".join(it))
    lc, ram = util["ICESTORM_LC"], util["ICESTORM_RAM"]
    ff = sum(n for t, n in by_type.items() if t.startswith("SB_DFF"))
    timing = [f for f in (fmax, icetime_mhz) if f is not None]
    worst = min(timing) if timing else None
    meets = worst is not None and worst >= required_mhz
    return {
        "device": device, "package": package, "top": top,
        "logic_cells": lc["used"], "logic_cells_available": lc["available"],
        "lut4": by_type.get("SB_LUT4", 0), "ff": ff, "carry": by_type.get("SB_CARRY", 0),
        "block_rams": ram["used"], "block_rams_available": ram["available"],
        "fmax_mhz": fmax, "icetime_mhz": icetime_mhz, "required_mhz": float(required_mhz),
        "margin": (worst / required_mhz) if worst else None, "meets_clock": meets,
        "fits": lc["used"] <= lc["available"] and ram["used"] <= ram["available"] and meets,
        "tools": tool_versions(), "commands": commands,
    }


def format_table(fig: dict) -> str:
    """The figures of :func:`synthesize` as a two-column Markdown table."""
    def trunc(x):  # figures are truncated, never rounded up
        return f"{math.floor(x * 100) / 100:.2f}"

    def mhz(x):
        return "-" if x is None else f"{trunc(x)} MHz"
    rows = [
        ("device", f"iCE40 {fig['device'].upper()} ({fig['package']})"),
        ("logic cells (ICESTORM_LC)", f"{fig['logic_cells']} / {fig['logic_cells_available']}"),
        ("LUT4", fig["lut4"]), ("flip-flops", fig["ff"]), ("carry", fig["carry"]),
        ("block RAMs (SB_RAM40_4K)", f"{fig['block_rams']} / {fig['block_rams_available']}"),
        ("Fmax (nextpnr, routed)", mhz(fig["fmax_mhz"])), ("Fmax (icetime)", mhz(fig["icetime_mhz"])),
        ("required clock", mhz(fig["required_mhz"])),
        ("margin", "-" if fig["margin"] is None else f"{trunc(fig['margin'])}x"),
        ("fits", "yes" if fig["fits"] else "no"),
    ]
    return "\n".join(["| figure | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows])


__all__ = ["ToolsMissingError", "format_table", "missing_tools", "synthesize", "tool_versions"]

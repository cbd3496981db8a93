"""Place-and-route figures of the rendered RTL on the paper's iCE40 LP1K, pinned.

The paper's system (S = 3, one encoder [1, 2, 2], 64-sample histogram) with sequential calibration
must fit 512 channels in at most 246 logic cells (the paper's figure) and exactly one SB_RAM40_4K,
with the required clock (one detection per channel per millisecond) met many times over.  The exact
counts are pinned for the Debian tool versions CI installs (yosys 0.23, nextpnr-ice40 0.4); with
other versions only the bar is checked.  The tools are Debian packages (.ci/run installs them).
"""

from __future__ import annotations

import json
import shutil

import pytest

from neurocodec import cli
from neurocodec.mua import save_encoders
from neurocodec.mua.rtl import render_verilog
from neurocodec.mua.rtl_synth import format_table, synthesize, tool_versions
from neurocodec.spikes.predictive import PredictiveCodec
from neurocodec.spikes.rtl import render_lfsr_verilog

pytestmark = pytest.mark.skipif(
    shutil.which("yosys") is None or shutil.which("nextpnr-ice40") is None,
    reason="yosys / nextpnr-ice40 not installed (apt-get install yosys nextpnr-ice40; CI installs them)")


def pinned_tools() -> bool:
    v = tool_versions()
    return (v["yosys"] or "").startswith("Yosys 0.23 ") and "Version 0.4-" in (v["nextpnr-ice40"] or "")


def check(fig, pinned, bar_cells, bar_rams, min_margin):
    assert fig["logic_cells"] <= bar_cells and fig["block_rams"] == bar_rams
    assert fig["meets_clock"] and fig["margin"] >= min_margin and fig["fits"]
    if pinned_tools():
        assert {k: fig[k] for k in pinned} == pinned


def test_sequential_512_channels_beats_the_paper(tmp_path, capsys):
    enc = tmp_path / "enc.json"
    save_encoders(enc, [[1, 2, 2]], 3, 50, 64)
    assert cli.main(["mua", "rtl", str(enc), "--channels", "512", "--calibration", "sequential",
                     "--out", str(tmp_path / "x.v"), "--synth", "--json"]) == 0
    fig = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert fig["device"] == "lp1k" and fig["package"] == "cm81" and fig["required_mhz"] == 0.512
    check(fig, {"logic_cells": 176, "lut4": 143, "ff": 71, "carry": 57, "block_rams": 1},
          bar_cells=246, bar_rams=1, min_margin=20)
    assert "| block RAMs (SB_RAM40_4K) | 1 / 16 |" in format_table(fig)


def test_parallel_96_channels():
    fig = synthesize(render_verilog([[1, 2, 2]], 3, 64, 50, 96), "mua_sclv_encoder", required_mhz=0.096)
    # 33-bit words: 96 channels take three 256 x 16 blocks
    check(fig, {"logic_cells": 184, "lut4": 152, "ff": 36, "carry": 59, "block_rams": 3},
          bar_cells=246, bar_rams=3, min_margin=20)


def test_lfsr_predictor_96_channels():
    src = render_lfsr_verilog(PredictiveCodec(predictor="lfsr"), 96)
    fig = synthesize(src, "spikes_lfsr_predictor", required_mhz=0.096)
    check(fig, {"logic_cells": 134, "lut4": 102, "ff": 38, "carry": 51, "block_rams": 1},
          bar_cells=200, bar_rams=1, min_margin=20)

"""MUA compression for wireless implants: binning, SCLV static Huffman coding and its analysis.

Implements Savolainen, Zhang, Feng & Constandinou, "Hardware-efficient data compression in wireless
intracortical brain-machine interfaces": saturated threshold-crossing counts per binning period,
an on-implant calibration (sample histogram, estimation sort, choice among a few pre-trained static
Huffman encoders given by Sorted Codeword Length Vectors), and the tools to train the encoders and
to measure bit rate, power, channel capacity and behavioural decoding performance.  Beside the
paper's static code, an adaptive arithmetic coder of the same counts (neurocodec's own) shows what
the hardware-cheap method gives up.  See docs/mua.md.
"""

from .analysis import (
    channel_capacity,
    configurations,
    decode_behaviour,
    evaluate,
    implant_budget_uw,
    power_uw_per_channel,
)
from .binning import bin_raster, bin_spike_times, bin_waveforms, detect_crossings, load_wav_folder, rebin
from .codec import MUACodec, calibrate
from .rtl import BitTrueModel, pack_words, read_stimulus, render_testbench, render_verilog, write_packed_stimulus
from .sclv import estimation_sort, sclvs
from .training import TrainingResult, load_encoders, save_encoders, train_encoders

__all__ = [
    "BitTrueModel",
    "MUACodec",
    "TrainingResult",
    "bin_raster",
    "bin_spike_times",
    "bin_waveforms",
    "calibrate",
    "channel_capacity",
    "configurations",
    "decode_behaviour",
    "detect_crossings",
    "estimation_sort",
    "evaluate",
    "implant_budget_uw",
    "load_encoders",
    "load_wav_folder",
    "pack_words",
    "power_uw_per_channel",
    "read_stimulus",
    "rebin",
    "render_testbench",
    "render_verilog",
    "save_encoders",
    "sclvs",
    "train_encoders",
    "write_packed_stimulus",
]

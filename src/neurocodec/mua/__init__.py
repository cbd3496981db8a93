"""MUA compression for wireless implants: binning, SCLV static Huffman coding and its analysis.

Implements Savolainen, Zhang, Feng & Constandinou, "Hardware-efficient data compression in wireless
intracortical brain-machine interfaces": saturated threshold-crossing counts per binning period,
an on-implant calibration (sample histogram, estimation sort, choice among a few pre-trained static
Huffman encoders given by Sorted Codeword Length Vectors), and the tools to train the encoders and
to measure bit rate, power, channel capacity and behavioural decoding performance.  See docs/mua.md.
"""

from .codec import MUACodec
from .sclv import estimation_sort, sclvs

__all__ = ["MUACodec", "estimation_sort", "sclvs"]

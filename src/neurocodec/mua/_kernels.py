"""numba kernels of the MUA package: binning, threshold crossings and the two coders' loops.

Everything here is integer arithmetic on arrays the callers validated and sized; the decoders
report malformed input through their returned position (negative) and never index outside their
buffers (bit and byte readers return zeros past the end).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..entropy.arith import (
    decode_bit,
    decode_init,
    encode_bit,
    encode_flush,
    encode_init,
)
from ..entropy.bitio import get_bits, put_bits
from ..entropy.huffman import decode_symbol
from ..entropy.models import adapt_counted, counted_prob

# ---------------------------------------------------------------------------------- binning


@nb.njit(cache=True)
def bin_events(bin_index, channel, n_bins, n_channels):
    """Count events per (bin, channel); events whose bin falls outside [0, n_bins) are dropped."""
    counts = np.zeros((n_bins, n_channels), dtype=np.int64)
    for i in range(bin_index.shape[0]):
        b = bin_index[i]
        if 0 <= b < n_bins:
            counts[b, channel[i]] += 1
    return counts


@nb.njit(cache=True)
def sum_windows(raster, width):
    """Sum consecutive ``width``-sample windows of a (samples, channels) raster; drops the tail."""
    n_bins = raster.shape[0] // width
    counts = np.zeros((n_bins, raster.shape[1]), dtype=np.int64)
    for b in range(n_bins):
        for t in range(b * width, (b + 1) * width):
            for c in range(raster.shape[1]):
                counts[b, c] += raster[t, c]
    return counts


@nb.njit(cache=True)
def threshold_crossings(x, threshold, refractory):
    """Sample indices where ``x`` falls below ``threshold`` (< 0), at least ``refractory`` apart."""
    out = np.empty(x.shape[0], dtype=np.int64)
    n = 0
    last = -refractory - 1
    for i in range(1, x.shape[0]):
        if x[i] < threshold <= x[i - 1] and i - last > refractory:
            out[n] = i
            n += 1
            last = i
    return out[:n]


# ---------------------------------------------------------------------------------- static Huffman


@nb.njit(cache=True)
def window_histograms(counts, start, end, S):
    """``hist[c, v]``: how often channel ``c`` has count ``v`` in bins ``start[c] <= t < end[c]``."""
    hist = np.zeros((counts.shape[1], S), dtype=np.int64)
    for c in range(counts.shape[1]):
        for t in range(start[c], end[c]):
            hist[c, counts[t, c]] += 1
    return hist


@nb.njit(cache=True)
def huffman_encode(counts, calib_end, raw_bits, codes, lengths, buf):
    """Multiplexed stream: bins in time order, channels interleaved within a bin.

    Bins ``t < calib_end[c]`` of channel ``c`` go out as ``raw_bits``-bit integers (the implant
    has not calibrated that channel yet); later bins as the codeword of their value in the
    channel's table (``codes[c, v]``, ``lengths[c, v]``: encoder and estimation-sort map already
    composed).  Returns the end bit position; with an empty ``buf`` it only counts the bits.
    """
    bitpos = 0
    for t in range(counts.shape[0]):
        for c in range(counts.shape[1]):
            v = counts[t, c]
            if t < calib_end[c]:
                bitpos = put_bits(buf, bitpos, v, raw_bits)
            else:
                bitpos = put_bits(buf, bitpos, codes[c, v], lengths[c, v])
    return bitpos


@nb.njit(cache=True)
def huffman_decode(buf, bitpos, calib_end, raw_bits, S, enc_of, unrank, first_code, count, offset, symbols,
                   max_length, out):
    """Inverse of :func:`huffman_encode` into ``out`` (bins, channels).

    Per-encoder decode tables are rows of ``first_code``/``count``/``offset``/``symbols``; a
    decoded rank goes back to a value through ``unrank[c, rank]``.  Returns the end bit position,
    -1 on a bit pattern that is no codeword, -2 on a raw value >= S.
    """
    for t in range(out.shape[0]):
        if bitpos > 8 * buf.shape[0]:
            return bitpos   # out of payload: stop now (the caller reports the truncation)
        for c in range(out.shape[1]):
            if t < calib_end[c]:
                v, bitpos = get_bits(buf, bitpos, raw_bits)
                if v >= S:
                    return -2
                out[t, c] = v
            else:
                e = enc_of[c]
                rank, bitpos = decode_symbol(buf, bitpos, first_code[e], count[e], offset[e], symbols[e],
                                             max_length)
                if rank < 0:
                    return -1
                out[t, c] = unrank[c, rank]
    return bitpos


# ---------------------------------------------------------------------------------- RTL model


@nb.njit(cache=True)
def pack_codewords(codes, lengths, buf):
    """Concatenate codewords MSB first into the zeroed ``buf``; returns the end bit position."""
    bitpos = 0
    for i in range(codes.shape[0]):
        bitpos = put_bits(buf, bitpos, codes[i], lengths[i])
    return bitpos


@nb.njit(cache=True)
def rtl_model_run(det, bp, n_ch, hist_samples, sort, sequential, enc, ranks, enc_codes, raw_bits,
                  regs, acc, calibrated, peak, encoder, nsamp, hist, out_code, out_len):
    """Clock the rendered encoder (:mod:`neurocodec.mua.rtl`) over detection bits ``det``.

    State, updated in place: ``regs`` = (channel, millisecond, channel being calibrated), and per
    channel ``acc``, ``calibrated``, ``peak``, ``encoder``; the histograms ``hist`` with their
    sample counts ``nsamp`` are one row per channel (parallel schedule) or one shared row
    (sequential).  Emitted words go to ``out_code``/``out_len``; returns how many.
    """
    S = enc.shape[1]
    n_out = 0
    for i in range(det.shape[0]):
        c = regs[0]
        v = min(acc[c] + det[i], S - 1)
        if regs[1] == bp - 1:
            acc[c] = 0
            if calibrated[c]:
                e = encoder[c]
                r = ranks[peak[c], v]
                out_code[n_out] = enc_codes[e, r]
                out_len[n_out] = enc[e, r]
            else:
                out_code[n_out] = v
                out_len[n_out] = raw_bits
                k = 0 if sequential else c
                if not sequential or c == regs[2]:
                    hist[k, v] += 1
                    nsamp[k] += 1
                    if nsamp[k] == hist_samples:
                        pk = 0
                        if sort:
                            for s in range(1, S):
                                if hist[k, s] > hist[k, pk]:
                                    pk = s
                        best = 0
                        best_cost = -1
                        for j in range(enc.shape[0]):
                            cost = 0
                            for s in range(S):
                                cost += hist[k, s] * enc[j, ranks[pk, s]]
                            if best_cost < 0 or cost < best_cost:
                                best = j
                                best_cost = cost
                        peak[c] = pk
                        encoder[c] = best
                        calibrated[c] = 1
                        if sequential:
                            hist[k, :] = 0
                            nsamp[k] = 0
                            regs[2] += 1
            n_out += 1
        else:
            acc[c] = v
        if c == n_ch - 1:
            regs[0] = 0
            regs[1] = 0 if regs[1] == bp - 1 else regs[1] + 1
        else:
            regs[0] = c + 1
    return n_out


# ---------------------------------------------------------------------------------- adaptive arithmetic

#: Adaptation limit of the counted estimators (rate settles at 1/ADAPT_LIMIT).
ADAPT_LIMIT = 60


@nb.njit(cache=True)
def arith_encode(counts, S, state, buf):
    """Adaptive binary arithmetic coding of saturated counts; returns the end byte position.

    A count v is sent as the decisions "v > k" for k = 0, 1, ... until one is false (or k = S-2),
    each coded with its own adaptive probability, in context (channel, previous count of that
    channel, k).  ``state`` holds the ``channels * S * (S-1)`` estimators, initialised by the caller.
    """
    x1, x2 = encode_init()
    pos = 0
    n_ch = counts.shape[1]
    prev = np.zeros(n_ch, dtype=np.int64)
    for t in range(counts.shape[0]):
        for c in range(n_ch):
            v = counts[t, c]
            base = (c * S + prev[c]) * (S - 1)
            for k in range(S - 1):
                bit = 1 if v > k else 0
                s = state[base + k]
                x1, x2, pos = encode_bit(x1, x2, buf, pos, bit, counted_prob(s))
                state[base + k] = adapt_counted(s, bit, ADAPT_LIMIT)
                if bit == 0:
                    break
            prev[c] = v
    return encode_flush(x1, x2, buf, pos)


@nb.njit(cache=True)
def arith_decode(buf, pos, end, S, state, out):
    """Inverse of :func:`arith_encode` into ``out``; returns the end byte position."""
    x1, x2, x, pos = decode_init(buf, pos, end)
    n_ch = out.shape[1]
    prev = np.zeros(n_ch, dtype=np.int64)
    for t in range(out.shape[0]):
        if pos > end + 4:
            return pos   # out of payload: stop now (the caller reports the truncation)
        for c in range(n_ch):
            base = (c * S + prev[c]) * (S - 1)
            v = 0
            for k in range(S - 1):
                s = state[base + k]
                bit, x1, x2, x, pos = decode_bit(x1, x2, x, buf, pos, end, counted_prob(s))
                state[base + k] = adapt_counted(s, bit, ADAPT_LIMIT)
                if bit == 0:
                    break
                v += 1
            out[t, c] = v
            prev[c] = v
    return pos
